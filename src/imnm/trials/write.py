"""Write catalog files back with their layout kept (ruamel.yaml round trip).

`imnm trials update` and `imnm trials approve` change a few keys of a catalog file (status, its date
and source, dates, sites, contacts, the last registry check, `stale` and `added` markers) and must
leave everything else as the person wrote it: comments, key order, quoting, flow-style rule nodes and
long lines. `ruamel.yaml`'s round-trip mode keeps all of these; an unchanged file dumps back byte for
byte (checked by the tests over the whole shipped catalog). New keys go where a person would put
them (`TOP_ORDER`). The new text is validated as a catalog file before it replaces the old one, and
the replacement is atomic (a temporary file in the same folder, then `os.replace`), so a failed
update never leaves a half-written or invalid file.

Needs the `[registry]` extra (`ruamel.yaml`); imported only by the commands that write.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from imnm.errors import InputError, Problem

TOP_ORDER = (
    "id",
    "acronym",
    "title",
    "official_title",
    "phases",
    "sponsor",
    "status",
    "status_note",
    "status_as_of",
    "why_stopped",
    "dates",
    "conditions",
    "minimum_age",
    "maximum_age",
    "sex",
    "imnm",
    "parent_trial",
    "draft",
    "source",
    "encoded_from",
    "registry_check",
    "sites",
    "sites_note",
    "contacts",
    "assumptions",
    "inclusion",
    "exclusion",
    "cohorts",
)
CRITERION_ORDER = (
    "id",
    "structured",
    "verbatim",
    "truncated",
    "note",
    "text",
    "rule",
    "manual_review",
    "reason",
    "assumptions",
    "assessments",
    "recognized_by",
    "versions",
    "stale",
    "added",
    "approved",
)


def _yaml() -> Any:
    try:
        from ruamel.yaml import YAML
    except ImportError:  # pragma: no cover - the extra is part of make test
        raise InputError(
            [
                Problem(
                    "ruamel.yaml",
                    "writing catalog files needs the registry extra",
                    "pip install 'imnm[registry]'",
                )
            ],
            what="installation",
        ) from None
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a long line
    y.indent(mapping=2, sequence=4, offset=2)
    y.representer.add_representer(
        type(None), lambda r, _d: r.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return y


def load(text: str) -> Any:
    """A catalog file's text as an editable round-trip document."""
    return _yaml().load(text)


def dump(doc: Any) -> str:
    buf = io.StringIO()
    _yaml().dump(doc, buf)
    return buf.getvalue()


def set_key(doc: MutableMapping[str, Any], key: str, value: Any, order: Sequence[str] = TOP_ORDER) -> None:
    """Set `key` (in place when present; else after the nearest key before it in `order`)."""
    if key in doc:
        doc[key] = value
        return
    keys = list(doc.keys())
    pos = len(keys)
    if key in order:
        before = order[: order.index(key)]
        present = [keys.index(k) for k in before if k in keys]
        after = order[order.index(key) + 1 :]
        following = [keys.index(k) for k in after if k in keys]
        if present:
            pos = max(present) + 1
        elif following:
            pos = min(following)
    doc.insert(pos, key, value)  # type: ignore[attr-defined]


def drop_key(doc: MutableMapping[str, Any], key: str) -> None:
    if key in doc:
        del doc[key]


def criteria_lists(doc: MutableMapping[str, Any]) -> Iterator[tuple[str | None, str, list[Any]]]:
    """(cohort id, kind, the list) for every criteria list of a document."""
    for kind in ("inclusion", "exclusion"):
        if isinstance(doc.get(kind), list):
            yield None, kind, doc[kind]
    for co in doc.get("cohorts") or []:
        for kind in ("inclusion", "exclusion"):
            if isinstance(co.get(kind), list):
                yield co.get("id"), kind, co[kind]


def find_criterion(doc: MutableMapping[str, Any], cid: str) -> MutableMapping[str, Any] | None:
    for _cohort, _kind, items in criteria_lists(doc):
        for item in items:
            if isinstance(item, MutableMapping) and item.get("id") == cid:
                return item
    return None


def criteria_list(doc: MutableMapping[str, Any], cohort: str | None, kind: str) -> list[Any]:
    """The list to add a criterion to (created, in its place, when the file has none)."""
    if cohort is None:
        if not isinstance(doc.get(kind), list):
            set_key(doc, kind, [])
        items: list[Any] = doc[kind]
        return items
    for co in doc.get("cohorts") or []:
        if co.get("id") == cohort:
            if not isinstance(co.get(kind), list):
                co[kind] = []
            found: list[Any] = co[kind]
            return found
    return criteria_list(doc, None, kind)


def write_checked(path: Path, text: str, *, screening_window: str = "30d") -> None:
    """Validate `text` as a catalog file, then replace `path` with it atomically."""
    from imnm.io.yaml import load_yaml_text
    from imnm.trials.load import parse_trial

    parse_trial(load_yaml_text(text, file=str(path)), file=str(path), screening_window=screening_window)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
