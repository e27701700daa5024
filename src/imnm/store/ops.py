r"""Partial updates of a patient record: a short list of explicit operations.

```json
{"reason": "CK from today's clinic",
 "operations": [{"op": "add_lab", "value": {"test": "ck", "value": 4200, "unit": "U/L", "uln": 200,
                                              "date": "2024-11-02"}},
                {"op": "set_finding", "value": {"name": "dysphagia", "value": true}}]}
```

| op | value | effect |
|---|---|---|
| `add_lab`, `add_antibody`, `add_visit`, `add_medication`, `add_pulmonary_function`, `add_cardiac`, `add_infection`, `add_vaccination` | one item | appended to its list (a list that was unknown becomes `[item]`) |
| `set_finding`, `set_history` | `{name, value: true\|false\|null}` | one finding / history item; `null` = back to unknown |
| `set_exposure` | `{name: statin\|red_yeast_rice\|oyster_mushrooms, value}` | `never`, `{status, start, stop}` or `null` |
| `set_field` | `{name, value}` | a top-level value: `sex`, `birth_date`, `symptom_onset`, `age_at_onset`, `diagnosis_date`, `weight_kg`, `height_cm` |
| `record_biopsy`, `record_emg`, `record_mri` | the whole block, or `null` | replaces the block |
| `set_section` | `{name, value}` | replaces a whole section (`findings`, `labs`, `coverage`, ...) |
| `replace_item` | `{section, index, value}` | corrects one list item |
| `remove_item` | `{section, index}` | removes one list item (entered in error) |

The operations apply in order to the current revision's document; the result is validated by the
same model as `imnm validate` (`imnm.record.load.parse_record`) and its problems are reported at
the place in the request that caused them (`operations[0].value.unit`), with `record_path` giving
the place in the record (`labs[5].unit`). Nothing is overwritten: the previous revision stays
readable and every change is a new revision.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from difflib import get_close_matches
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from imnm.errors import Problem, RecordError

LIST_SECTIONS = {
    "add_lab": "labs",
    "add_antibody": "antibodies",
    "add_visit": "visits",
    "add_medication": "medications",
    "add_pulmonary_function": "pulmonary_function",
    "add_cardiac": "cardiac",
    "add_infection": "infections",
    "add_vaccination": "vaccinations",
}
LISTS = tuple(LIST_SECTIONS.values())
BLOCKS = {"record_biopsy": "biopsy", "record_emg": "emg", "record_mri": "mri"}
FIELDS = ("sex", "birth_date", "symptom_onset", "age_at_onset", "diagnosis_date", "weight_kg", "height_cm")
SECTIONS = ("findings", "history", "exposures", "coverage", "biopsy", "emg", "mri", *LISTS)


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class AddItem(_Strict):
    op: Literal[
        "add_lab",
        "add_antibody",
        "add_visit",
        "add_medication",
        "add_pulmonary_function",
        "add_cardiac",
        "add_infection",
        "add_vaccination",
    ]
    value: dict[str, Any] = Field(description="The item, as in the record format (see the Record schema)")


class NameValue(_Strict):
    name: str = Field(min_length=1)
    value: Any = None


class SetNamed(_Strict):
    op: Literal["set_finding", "set_history", "set_exposure", "set_field", "set_section"]
    value: NameValue


class RecordBlock(_Strict):
    op: Literal["record_biopsy", "record_emg", "record_mri"]
    value: dict[str, Any] | None = Field(description="The whole block; null = unknown again")


class ItemRef(_Strict):
    section: str
    index: Annotated[int, Field(ge=0)]


class ItemValue(_Strict):
    section: str
    index: Annotated[int, Field(ge=0)]
    value: dict[str, Any]


class RemoveItem(_Strict):
    op: Literal["remove_item"]
    value: ItemRef


class ReplaceItem(_Strict):
    op: Literal["replace_item"]
    value: ItemValue


Operation = Annotated[AddItem | SetNamed | RecordBlock | RemoveItem | ReplaceItem, Field(discriminator="op")]


class PatchBody(_Strict):
    """A partial update: why, and the operations in order."""

    reason: str = Field(
        min_length=1, max_length=2000, description="Why the record changes (kept with the revision)"
    )
    operations: list[Operation] = Field(min_length=1, max_length=500)


@dataclass(frozen=True, slots=True)
class Target:
    record_path: str  # where in the record the operation wrote
    request_path: str  # where in the request its value is
    named: bool = False  # a {name, value} operation


def parse_patch(data: object) -> PatchBody:
    from imnm.record.load import problems_from

    try:
        return PatchBody.model_validate(data)
    except ValidationError as exc:
        raise RecordError(problems_from(exc, PatchBody), what="update") from None


def _choose(name: str, allowed: tuple[str, ...], path: str) -> Problem | None:
    if name in allowed:
        return None
    close = get_close_matches(name, allowed, n=1)
    return Problem(
        path,
        f"{name!r} is not allowed here",
        (f"did you mean {close[0]!r}? " if close else "") + f"use one of {', '.join(allowed)}",
        name,
    )


def apply(document: dict[str, Any], body: PatchBody) -> tuple[dict[str, Any], list[Target]]:
    """Apply the operations to a copy of the document (no validation of the result yet)."""
    doc = copy.deepcopy(document)
    targets: list[Target] = []
    problems: list[Problem] = []
    for i, op in enumerate(body.operations):
        here = f"operations[{i}].value"
        if isinstance(op, AddItem):
            section = LIST_SECTIONS[op.op]
            items = doc.get(section)
            items = [] if items is None else items
            targets.append(Target(f"{section}[{len(items)}]", here))
            items.append(op.value)
            doc[section] = items
        elif isinstance(op, SetNamed):
            name, value = op.value.name, op.value.value
            if op.op in ("set_finding", "set_history"):
                block = "findings" if op.op == "set_finding" else "history"
                fields: dict[str, Any] = dict(doc.get(block) or {})
                if value is None:
                    fields.pop(name, None)
                else:
                    fields[name] = value
                doc[block] = fields
                targets.append(Target(f"{block}.{name}", here, named=True))
                continue
            allowed = {
                "set_exposure": ("statin", "red_yeast_rice", "oyster_mushrooms"),
                "set_field": FIELDS,
                "set_section": SECTIONS,
            }[op.op]
            bad = _choose(name, allowed, f"{here}.name")
            if bad:
                problems.append(bad)
                continue
            if op.op == "set_exposure":
                fields = dict(doc.get("exposures") or {})
                if value is None:
                    fields.pop(name, None)
                else:
                    fields[name] = value
                doc["exposures"] = fields
                targets.append(Target(f"exposures.{name}", here, named=True))
            else:
                if value is None:
                    doc.pop(name, None)
                else:
                    doc[name] = value
                targets.append(Target(name, here, named=True))
        elif isinstance(op, RecordBlock):
            block = BLOCKS[op.op]
            if op.value is None:
                doc.pop(block, None)
            else:
                doc[block] = op.value
            targets.append(Target(block, here))
        else:
            ref = op.value
            bad = _choose(ref.section, LISTS, f"{here}.section")
            if bad:
                problems.append(bad)
                continue
            items = list(doc.get(ref.section) or [])
            if ref.index >= len(items):
                problems.append(
                    Problem(
                        f"{here}.index",
                        f"{ref.section} has {len(items)} item(s); there is no index {ref.index}",
                        "indexes start at 0; read the current revision first",
                        ref.index,
                    )
                )
                continue
            if isinstance(op, RemoveItem):
                del items[ref.index]
                targets.append(Target(ref.section, here))
            else:
                items[ref.index] = op.value.value
                targets.append(Target(f"{ref.section}[{ref.index}]", f"{here}.value"))
            doc[ref.section] = items
    if problems:
        raise RecordError(problems, what="update")
    return doc, targets


def _under(path: str, prefix: str) -> str | None:
    if path == prefix:
        return ""
    if path.startswith(prefix) and path[len(prefix)] in ".[":
        return path[len(prefix) :]
    return None


def relocate(problems: list[Problem], targets: list[Target]) -> tuple[list[Problem], list[str]]:
    """Problems of the resulting record, placed where the request caused them."""
    out: list[Problem] = []
    record_paths: list[str] = []
    for p in problems:
        record_paths.append(p.path)
        for t in reversed(targets):
            rest = _under(p.path, t.record_path)
            if rest is None:
                continue
            if t.named:
                where = (
                    f"{t.request_path}.name"
                    if p.message.startswith("unknown field")
                    else f"{t.request_path}.value{rest}"
                )
            else:
                where = f"{t.request_path}{rest}"
            p = replace(p, path=where)
            break
        out.append(p)
    return out, record_paths


class UpdateError(RecordError):
    """The updated record does not validate; `record_paths[i]` is where problem i sits in the record."""

    def __init__(self, problems: list[Problem], record_paths: list[str]) -> None:
        super().__init__(problems, what="update")
        self.record_paths = record_paths


def updated_record(document: dict[str, Any], body: PatchBody) -> Any:
    """The validated `Record` after the operations, or `UpdateError` with every problem."""
    from imnm.record.load import parse_record

    doc, targets = apply(document, body)
    try:
        return parse_record(doc)
    except RecordError as exc:
        problems, paths = relocate(exc.problems, targets)
        raise UpdateError(problems, paths) from None
