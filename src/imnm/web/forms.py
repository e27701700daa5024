"""Forms for every section of the record, read from the record model itself (`imnm.record.model`).

Each field of a section's model becomes a control of the matching kind: a true / false / unknown
field is a group of three radio buttons (yes / no / not examined or not known: never a checkbox whose
empty state would read as "no"); a field with fixed values is a list with "unknown" first; numbers,
dates and text are inputs. Labels and hints come from the fact vocabulary (`vocabulary/facts.yaml`)
where the field is a fact, else from the model's description.

Reading a form gives the section's document (an omitted field is unknown, as in a record file); the
record model validates it, so a problem on the page has exactly the wording of `imnm validate`, and
`attach` places each problem at the field it names.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel
from starlette.datastructures import FormData

from imnm.errors import Problem

UNKNOWN = ""  # the form value of "unknown" (an omitted field)
Kind = Literal["tri", "enum", "number", "integer", "date", "text", "grade", "devices"]


@dataclass(frozen=True)
class Field:
    name: str  # dotted path in the section's document, e.g. "mmt8.grades.deltoid.right"
    label: str
    kind: Kind
    options: tuple[tuple[str, str], ...] = ()
    hint: str | None = None
    required: bool = False
    unknown_label: str = "unknown"
    group: str | None = None  # a fieldset the field belongs to (visits: MMT-8, HAQ)

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-").replace("_", "-")


@dataclass
class Bound:
    """A field with the value shown and the problems placed at it."""

    f: Field
    value: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def error_id(self) -> str:
        return self.f.id + "-error"


# ---------------------------------------------------------------- building fields from the model


def _label(section: str | None, name: str, description: str | None) -> tuple[str, str | None]:
    from imnm.vocabulary import REGISTRY

    spec = REGISTRY.get(f"{section}.{name}") if section else None
    words = name.replace("_", " ")
    if spec is not None and spec.label:
        label = spec.label.split(": ", 1)[-1] if ": " in spec.label else spec.label
        hint = spec.ask or description
        return label[0].upper() + label[1:], hint
    return words[0].upper() + words[1:], description


def _kind(annotation: Any) -> tuple[Kind, tuple[str, ...]]:
    """The control for an annotation, and the fixed values (for lists of choices)."""
    if typing.get_origin(annotation) is Literal:
        annotation = annotation | None  # a required field with fixed values
    args = [a for a in (typing.get_args(annotation) or (annotation,)) if a is not type(None)]
    while len(args) == 1 and typing.get_origin(args[0]) is typing.Annotated:
        args = [a for a in typing.get_args(args[0])[:1]]
        args = [a for x in args for a in (typing.get_args(x) or (x,)) if a is not type(None)]
    if args == [bool]:
        return "tri", ()
    if len(args) == 1 and typing.get_origin(args[0]) is Literal:
        values = typing.get_args(args[0])
        return ("integer" if all(isinstance(v, int) for v in values) else "enum"), tuple(
            str(v) for v in values
        )
    if args and all(a is date for a in args):
        return "date", ()
    if args and all(a in (int, float) for a in args):
        return "number", ()
    return "text", ()


def _is_date(annotation: Any) -> bool:
    return "IsoDate" in repr(annotation) or "date" in repr(annotation).lower().split("[")[-1]


def model_fields(
    model: type[BaseModel],
    *,
    section: str | None = None,
    prefix: str = "",
    skip: tuple[str, ...] = ("ref",),
    unknown_label: str = "unknown",
) -> list[Field]:
    out: list[Field] = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        kind, values = _kind(info.annotation)
        if kind == "text" and _is_date(info.annotation):
            kind = "date"
        label, hint = _label(section, name, info.description)
        out.append(
            Field(
                name=prefix + name,
                label=label,
                kind=kind,
                options=tuple((v, v.replace("_", " ")) for v in values),
                hint=hint,
                required=info.is_required(),
                unknown_label=unknown_label,
            )
        )
    return out


# ---------------------------------------------------------------- sections


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    kind: Literal["fields", "block", "list", "patient"]
    fields: tuple[Field, ...]
    intro: str = ""
    none_means: bool = False  # a list where "recorded: none" ([]) differs from unknown


def _lab_fields() -> list[Field]:
    from imnm.record.model import Lab
    from imnm.record.vocabulary import LAB_TESTS, lab_units

    out = model_fields(Lab, section="labs")
    units = sorted({u for t in LAB_TESTS for u in lab_units(t)})
    fixed: list[Field] = []
    for f in out:
        if f.name == "test":
            f = Field(
                "test",
                "Test",
                "enum",
                tuple((t, t.upper() if len(t) <= 3 else t.replace("_", " ")) for t in LAB_TESTS),
                "CK, aldolase, AST, ALT, LDH, TSH, free T4, CRP",
                True,
            )
        elif f.name == "unit":
            f = Field(
                "unit",
                "Unit",
                "text",
                (),
                "as the lab reports it, e.g. U/L or µkat/L (" + ", ".join(units[:8]) + ", ...)",
                True,
            )
        elif f.name == "uln":
            f = Field(
                "uln",
                "Upper limit of normal (ULN)",
                "number",
                (),
                "the reporting lab's limit, in the same unit",
            )
        elif f.name == "lln":
            f = Field("lln", "Lower limit of normal", "number", (), "in the same unit (optional)")
        elif f.name == "value":
            f = Field("value", "Value", "number", (), None, True)
        elif f.name == "date":
            f = Field("date", "Date of the sample", "date")
        fixed.append(f)
    return fixed


def _antibody_fields() -> list[Field]:
    from imnm.record.model import Antibody
    from imnm.record.vocabulary import ANTIBODY_TARGETS

    out = []
    for f in model_fields(Antibody, section="antibodies"):
        if f.name == "target":
            f = Field(
                "target",
                "Antibody (target)",
                "enum",
                tuple((t, f"anti-{t}") for t in ANTIBODY_TARGETS),
                None,
                True,
            )
        elif f.name == "value":
            f = Field("value", "Value", "number", (), "the number the lab reports (e.g. units for an ELISA)")
        elif f.name == "band":
            f = Field("band", "Line-blot band", "enum", f.options, "only for a line blot")
        out.append(f)
    return out


def _visit_fields() -> list[Field]:
    from imnm.instruments.core_set import AXIAL, CATEGORIES, GROUPS
    from imnm.record.model import Visit

    out = [f for f in model_fields(Visit, section="visit") if f.name not in ("mmt8", "haq")]
    relabel = {
        "date": "Date of the visit",
        "physician_global": "Physician global activity (0-10 cm)",
        "patient_global": "Patient global activity (0-10 cm)",
        "extramuscular_global": "Extramuscular global activity (0-10 cm)",
        "haq_di": "HAQ-DI (0-3), if only the index is known",
    }
    out = [Field(f.name, relabel.get(f.name, f.label), f.kind, f.options, f.hint, f.required) for f in out]
    g = "MMT-8"
    out += [
        Field(
            "mmt8.total", "MMT-8 total", "number", (), "a total with its scale, or the grades below", group=g
        ),
        Field(
            "mmt8.scale",
            "Scale of the total",
            "integer",
            (("80", "/80 (one side)"), ("150", "/150 (both sides)"), ("160", "/160")),
            group=g,
        ),
        Field(
            "mmt8.side",
            "Side tested",
            "enum",
            (("right", "right"), ("left", "left"), ("bilateral", "both sides")),
            "needed with per-muscle grades",
            group=g,
        ),
    ]
    for grp in GROUPS:
        words = grp.replace("_", " ")
        if grp == AXIAL:
            out.append(Field(f"mmt8.grades.{grp}", f"{words} (Kendall 0-10 or T)", "grade", group=g))
        else:
            out.append(Field(f"mmt8.grades.{grp}.right", f"{words}, right", "grade", group=g))
            out.append(Field(f"mmt8.grades.{grp}.left", f"{words}, left", "grade", group=g))
    from imnm import knowledge

    h = "HAQ"
    haq = knowledge.load("core_set")["haq_di"]
    labels = haq["item_scale"]["labels"]
    answers = tuple((str(i), f"{i} {text}") for i, text in enumerate(labels))
    cats = {c["id"]: c for c in haq["categories"]}
    for cat in CATEGORIES:
        name = cats[cat]["label"]
        for i in range(3):
            out.append(Field(f"haq.{cat}.items.{i}", f"{name}: item {i + 1}", "integer", answers, group=h))
        devices = haq["devices"].get(cat) or []
        hint = (
            f"yes, no, or the devices ({', '.join(devices)})"
            if devices
            else "no device belongs here; use help"
        )
        out.append(Field(f"haq.{cat}.aids", f"{name}: aids or devices", "devices", (), hint, group=h))
        out.append(Field(f"haq.{cat}.help", f"{name}: help from another person", "tri", group=h))
    return out


def sections() -> dict[str, Section]:
    from imnm.record import model as m

    s = [
        Section("patient", "Patient", "patient", tuple(_patient_fields())),
        Section(
            "findings",
            "Findings",
            "fields",
            tuple(model_fields(m.Findings, section="findings", unknown_label="not examined")),
            "Each finding is yes, no or not examined. Not examined is never read as no.",
        ),
        Section(
            "history",
            "History",
            "fields",
            tuple(model_fields(m.History, section="history", unknown_label="not known")),
            "Each item is yes, no or not known. Not known is never read as no.",
        ),
        Section("exposures", "Statins and other exposures", "fields", tuple(_exposure_fields())),
        Section(
            "labs",
            "Labs",
            "list",
            tuple(_lab_fields()),
            "Each result with its unit and the reporting lab's upper limit of normal.",
        ),
        Section("antibodies", "Antibodies", "list", tuple(_antibody_fields())),
        Section("emg", "EMG", "block", tuple(model_fields(m.Emg, section="emg"))),
        Section("mri", "Muscle MRI", "block", tuple(model_fields(m.Mri, section="mri"))),
        Section("biopsy", "Muscle biopsy", "block", tuple(_biopsy_fields())),
        Section(
            "medications",
            "Medications",
            "list",
            tuple(model_fields(m.Medication, section="medication")),
            none_means=True,
        ),
        Section("visits", "Visits (MMT-8, HAQ, globals)", "list", tuple(_visit_fields())),
        Section(
            "pulmonary_function",
            "Lung function",
            "list",
            tuple(model_fields(m.PulmonaryFunction, section="pft")),
        ),
        Section("cardiac", "Heart work-up", "list", tuple(model_fields(m.Cardiac, section="cardiac"))),
        Section(
            "infections",
            "Infections",
            "list",
            tuple(model_fields(m.Infection, section="infection")),
            none_means=True,
        ),
        Section(
            "vaccinations",
            "Vaccinations",
            "list",
            tuple(model_fields(m.Vaccination, section="vaccination")),
            none_means=True,
        ),
    ]
    return {x.id: x for x in s}


def _patient_fields() -> list[Field]:
    from imnm.record.model import Record

    names = (
        "id",
        "sex",
        "birth_date",
        "symptom_onset",
        "age_at_onset",
        "diagnosis_date",
        "weight_kg",
        "height_cm",
    )
    by = {f.name: f for f in model_fields(Record, skip=())}
    labels = {
        "id": ("Record id", "your identifier for the record (synthetic or pseudonymous, never a name)"),
        "age_at_onset": ("Age at onset (years)", "only when the dates are not known"),
        "weight_kg": ("Weight (kg)", None),
        "height_cm": ("Height (cm)", None),
    }
    out = []
    for n in names:
        f = by[n]
        label, hint = labels.get(n, (f.label, f.hint))
        out.append(Field(n, label, f.kind, f.options, hint, f.required))
    return out


def _exposure_fields() -> list[Field]:
    out = []
    for name, label in (
        ("statin", "Statin"),
        ("red_yeast_rice", "Red yeast rice"),
        ("oyster_mushrooms", "Oyster mushrooms"),
    ):
        out += [
            Field(
                f"{name}.status",
                f"{label}: exposure",
                "enum",
                (("current", "current"), ("past", "past"), ("never", "never")),
                group=label,
            ),
            Field(f"{name}.start", f"{label}: start", "date", group=label),
            Field(f"{name}.stop", f"{label}: stop", "date", group=label),
        ]
    return out


def _biopsy_fields() -> list[Field]:
    from imnm.record.model import Biopsy

    out = []
    for f in model_fields(Biopsy, section="biopsy"):
        if f.name == "performed":
            f = Field(
                "performed",
                "Biopsy done",
                "tri",
                (),
                "yes (findings below), no (not done), or not known (the whole block is unknown)",
                unknown_label="not known",
            )
        out.append(f)
    return out


# ---------------------------------------------------------------- values to and from the form


def flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    """A section document as dotted names (lists of numbers keep their index)."""
    out: dict[str, Any] = {}
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(doc, list) and doc and all(not isinstance(x, dict | list) for x in doc):
        if prefix.endswith("aids."):
            out[prefix[:-1]] = ", ".join(str(x) for x in doc)
        else:
            for i, x in enumerate(doc):
                out[f"{prefix}{i}"] = x
    elif prefix:
        out[prefix[:-1]] = doc
    return out


def shown(f: Field, value: Any) -> str:
    """A document value as the form shows it."""
    if value is None:
        return UNKNOWN
    if f.kind in ("tri", "devices") and isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if f.kind in ("integer",) else f"{value:g}"
    return str(value)


def bind(fields: tuple[Field, ...] | list[Field], doc: Any, *, shape: Any = None) -> list[Bound]:
    """Fields with the values of a section document (for an edit form)."""
    flat = flatten(doc or {})
    if shape is not None:  # unilateral MMT-8 grades are single values: show them in the tested side's column
        flat = _unilateral_to_columns(flat)
    return [Bound(f, shown(f, flat.get(f.name))) for f in fields]


def _unilateral_to_columns(flat: dict[str, Any]) -> dict[str, Any]:
    side = flat.get("mmt8.side")
    if side not in ("right", "left"):
        return flat
    out = dict(flat)
    for k, v in flat.items():
        if k.startswith("mmt8.grades.") and k.count(".") == 2 and not k.endswith("neck_flexors"):
            out.pop(k)
            out[f"{k}.{side}"] = v
    return out


def parse_value(f: Field, raw: str) -> Any:
    """One form value as the record document holds it (UNKNOWN → None). Text that is not a number stays
    text, so that the record model names it in its own words."""
    raw = raw.strip()
    if raw == UNKNOWN:
        return None
    if f.kind == "tri":
        return {"yes": True, "no": False}.get(raw, raw)
    if f.kind in ("number", "integer"):
        try:
            number = float(raw.replace(",", ".")) if raw.count(",") == 1 and "." not in raw else float(raw)
        except ValueError:
            return raw
        if f.kind == "integer" and number.is_integer():
            return int(number)
        return int(number) if number.is_integer() and abs(number) < 1e15 else number
    if f.kind == "grade":
        if raw.upper() == "T":
            return "T"
        try:
            return float(raw)
        except ValueError:
            return raw
    if f.kind == "devices":
        if raw.lower() in ("yes", "no"):
            return raw.lower() == "yes"
        return [x.strip() for x in raw.split(",") if x.strip()]
    return raw


def _set(doc: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    cur = doc
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value


def read(fields: tuple[Field, ...], form: FormData) -> tuple[dict[str, Any], list[Bound]]:
    """The section document from a submitted form, and the fields with what was typed."""
    doc: dict[str, Any] = {}
    bound: list[Bound] = []
    for f in fields:
        raw = form.get(f.id)
        text = raw if isinstance(raw, str) else ""
        bound.append(Bound(f, text.strip()))
        value = parse_value(f, text)
        if value is not None:
            _set(doc, f.name, value)
    return _tidy(doc), bound


def _tidy(doc: dict[str, Any]) -> dict[str, Any]:
    """Numbered items as lists (HAQ answers), MMT-8 grades in the shape of the side tested."""
    haq = doc.get("haq")
    if isinstance(haq, dict):
        for cat, answers in list(haq.items()):
            items = answers.get("items")
            if isinstance(items, dict):
                answers["items"] = [items[k] for k in sorted(items)]
            if not answers.get("items") and answers.get("aids") is None and answers.get("help") is None:
                del haq[cat]
            elif not answers.get("items"):
                answers["items"] = []  # the model says that at least one item is needed
        if not haq:
            del doc["haq"]
    mmt = doc.get("mmt8")
    if isinstance(mmt, dict) and isinstance(mmt.get("grades"), dict):
        side = mmt.get("side")
        grades = mmt["grades"]
        for grp, v in list(grades.items()):
            if isinstance(v, dict) and side in ("right", "left"):
                other = "left" if side == "right" else "right"
                if other not in v:
                    grades[grp] = v.get(side)
    return doc


def attach(bound: list[Bound], problems: list[Problem], prefix: str) -> list[Problem]:
    """Put each problem (record path under `prefix`, e.g. "labs[3].") at the field it names; return the
    problems that fit no field (shown in the summary only)."""
    loose: list[Problem] = []
    by_name = {b.f.name: b for b in bound}
    for p in problems:
        path = p.path
        rest = path[len(prefix) :] if prefix and path.startswith(prefix) else (path if not prefix else None)
        if prefix and path == prefix.rstrip("."):
            rest = ""
        target = None
        if rest is not None:
            dotted = rest.replace("[", ".").replace("]", "")
            target = by_name.get(dotted) or next(
                (b for b in bound if b.f.name.startswith(dotted + ".") and dotted), None
            )
        if target is None:
            loose.append(p)
        else:
            target.problems.append(p)
    return loose
