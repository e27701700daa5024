"""Declared bindings: how an adapter's data becomes base facts.

An adapter describes, in a binding table (YAML), where each base fact of the vocabulary lives in its
documents: a top-level field, a field of a block (EMG, biopsy), rows of a list section filtered by
`where`, an exposure block, or a fold over another bound fact. This module turns such a table into a
`FactSource` — the resolvers are generated, never hand-written per fact. The same table shape carries
record paths for the YAML/JSON record adapter (`imnm/record/bindings.yaml`), LOINC or concept-set
filters for FHIR and OMOP adapters, and plain dict rows in the tests.

Unit conversion (to the fact's canonical unit, with a units table of the knowledge base), the fold
over the upper limit of normal and the default-ULN choice live here, once:
`fold = value / ULN`, both in the same unit; a result without a ULN gets the policy of the ❗ choice
`ck.default_uln` (a range over the documented limits by default), and the observation says so.

Binding entry keys (see the record table for examples):

| key | meaning |
|---|---|
| `fact` | the fact name (a template in families) |
| `field` | a top-level field (`sex`), or with `block` a field of that block |
| `block` | a mapping section (`emg`); `only_if: {performed: true}` keeps its other fields only then |
| `rows` | a list section (`labs`); `where` filters rows (`{test: ck}`, `{name: {class: statin}}`, `{name: {contains: mening}}`, `{kind: {in: [systemic, null]}}`) |
| `value` | the field holding the value, or `{interval: {start, stop, ongoing}}` for events |
| `unit`, `convert` | the field with the unit as received; the units table to convert with (`labs.tests.{key}.units`) |
| `date`, `high`, `low`, `ref`, `text` | fields with the date, upper / lower reference limit, source-system id, raw text |
| `attrs` | `{name: field}` extra attributes carried on the observation (method, band, dose) |
| `note`, `source` | templates for the evidence note and the place shown (`{i}` = row index) |
| `unknown_if_any` | a row with these field values makes the whole fact unknown |
| `coverage` | the section whose completeness periods apply to this event fact |
| `exposure` | an `{status, start, stop}` block: never → recorded none, else one interval |
| `fold` | the fact whose values are divided by their ULN |
| `empty` | `none` (a present section without matches = recorded none; events) or `unknown` (values) |
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from functools import cache
from typing import Any

from imnm import knowledge
from imnm.core.facts import FactSpec, Interval, NumRange, Obs, Observation, Period, Raw, Ref, Registry
from imnm.core.quantities import fold_over_uln, to_canonical
from imnm.errors import KnowledgeError, Problem
from imnm.knowledge.lookups import medication_matches
from imnm.settings import Settings

_FIELD = re.compile(r"\{(\w+)(?:\|([^}]*))?\}")
KEYS = (
    "fact",
    "field",
    "block",
    "only_if",
    "rows",
    "where",
    "value",
    "unit",
    "convert",
    "date",
    "high",
    "low",
    "ref",
    "text",
    "attrs",
    "note",
    "source",
    "unknown_if_any",
    "coverage",
    "exposure",
    "fold",
    "empty",
)


@dataclass(frozen=True)
class Binding:
    """One base fact's place in an adapter's documents (a row of a binding table)."""

    fact: str
    kind: str
    field: str | None = None
    block: str | None = None
    only_if: Mapping[str, object] = dc_field(default_factory=dict)
    rows: str | None = None
    where: Mapping[str, object] = dc_field(default_factory=dict)
    value: object = None
    unit: str | None = None
    convert: str | None = None
    date: str | None = None
    high: str | None = None
    low: str | None = None
    ref: str | None = None
    text: str | None = None
    attrs: Mapping[str, str] = dc_field(default_factory=dict)
    note: object = None
    source: str | None = None
    unknown_if_any: Mapping[str, object] = dc_field(default_factory=dict)
    coverage: str | None = None
    exposure: str | None = None
    fold: str | None = None
    empty: str = "unknown"


@dataclass(frozen=True)
class BindingTable:
    """An adapter's bindings, families expanded, checked against the vocabulary."""

    adapter: str
    bindings: Mapping[str, Binding]
    compiled: Mapping[str, Compiled] = dc_field(init=False, repr=False, compare=False)
    """Each binding's resolver, prepared once per table (see `Compiled`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", {k: Compiled(b) for k, b in self.bindings.items()})

    def facts(self) -> list[str]:
        return list(self.bindings)


# ---------------------------------------------------------------- loading a table


def _entries(ref: str) -> list[dict[str, Any]]:
    tid, _, key = ref.partition(".")
    found = knowledge.load(tid)[key]
    if isinstance(found, dict):
        return [dict(v, key=k) for k, v in found.items()]
    return [dict(v, key=v["id"]) for v in found if isinstance(v, dict)]


def _fill(template: object, entry: Mapping[str, Any]) -> object:
    if isinstance(template, str):

        def sub(m: re.Match[str]) -> str:
            value = entry.get(m.group(1))
            if value is None:
                return m.group(0)  # a field of the row, filled by the engine (e.g. {name}, {method|...})
            return str(value)

        return _FIELD.sub(sub, template)
    if isinstance(template, list):
        return [_fill(t, entry) for t in template]
    if isinstance(template, dict):
        return {k: _fill(v, entry) for k, v in template.items()}
    return template


def expand(raw: list[dict[str, Any]], registry: Registry) -> list[dict[str, Any]]:
    """Expand families: `for_each: TABLE.KEY` (knowledge entries) and `for_each_fact: PREFIX`
    (vocabulary facts with that prefix and no binding of their own; `{rest}` = the name after it)."""
    out: list[dict[str, Any]] = []
    for entry in raw:
        if "for_each" in entry:
            body = {k: v for k, v in entry.items() if k not in ("for_each", "where_entry")}
            cond = entry.get("where_entry") or {}
            for e in _entries(entry["for_each"]):
                if any(e.get(k) != v for k, v in cond.items()):
                    continue
                out.append(_fill(body, e))  # type: ignore[arg-type]
        elif "for_each_fact" in entry:
            prefix = entry["for_each_fact"]
            skip = set(entry.get("except") or [])
            body = {k: v for k, v in entry.items() if k not in ("for_each_fact", "except")}
            for spec in registry.specs():
                rest = spec.name[len(prefix) :]
                if spec.name.startswith(prefix) and not spec.derived and rest not in skip and "." not in rest:
                    filled = _fill(body, {"rest": rest})
                    assert isinstance(filled, dict)
                    out.append({"fact": spec.name, **filled})
        else:
            out.append(entry)
    return out


def load_table(data: Mapping[str, Any], registry: Registry, *, file: str) -> BindingTable:
    """A binding table from plain data; every unknown key or fact is reported at once."""
    problems: list[Problem] = []
    out: dict[str, Binding] = {}
    for i, row in enumerate(expand(list(data.get("bindings") or []), registry)):
        where = f"bindings[{i}] ({row.get('fact', '?')})"
        bad = sorted(set(row) - set(KEYS))
        if bad:
            problems.append(Problem(where, f"unknown keys {bad}", f"use {', '.join(KEYS)}", file=file))
            continue
        name = row.get("fact")
        spec = registry.get(str(name))
        if spec is None:
            problems.append(
                Problem(
                    where, f"{name!r} is not a fact of the vocabulary", "see imnm facts --list", file=file
                )
            )
            continue
        if spec.derived:
            problems.append(
                Problem(where, f"{name} is a derived fact; adapters bind base facts only", file=file)
            )
            continue
        if spec.name in out:
            continue  # an explicit binding before a family wins
        kwargs = {k: v for k, v in row.items() if k != "fact"}
        if "empty" not in kwargs:
            kwargs["empty"] = "none" if spec.kind == "event" else "unknown"
        out[spec.name] = Binding(fact=spec.name, kind=spec.kind, **kwargs)
    if problems:
        raise KnowledgeError(problems, what=file)
    return BindingTable(str(data.get("adapter", "?")), out)


# ---------------------------------------------------------------- documents


def get(obj: object, name: str) -> object:
    """A field of a row or block: a model attribute or a mapping key (dotted paths allowed)."""
    if "." not in name:
        return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    for part in name.split("."):
        if obj is None:
            return None
        obj = obj.get(part) if isinstance(obj, dict) else getattr(obj, part, None)
    return obj


def _matches(row: object, where: Mapping[str, object]) -> bool:
    for key, want in where.items():
        have = get(row, key)
        if isinstance(want, Mapping):
            if "class" in want:
                if not isinstance(have, str) or not medication_matches(have, str(want["class"])):
                    return False
            elif "contains" in want:
                if not isinstance(have, str) or str(want["contains"]).lower() not in have.lower():
                    return False
            elif "in" in want:
                if have not in list(want["in"]):
                    return False
            else:
                return False
        elif have != want:
            return False
    return True


@cache
def unit_factors(ref: str) -> Mapping[str, float]:
    """A units table from the knowledge base: `labs.tests.ck.units` → {unit: factor to canonical}."""
    tid, *path = ref.split(".")
    node: Any = knowledge.load(tid)
    for p in path:
        node = node[p]
    return {str(k): float(v) for k, v in node.items()}


def _canonical_unit(spec: FactSpec) -> str:
    return spec.unit or ""


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _note(template: object, row: object, attrs: Mapping[str, object]) -> str | None:
    """A note from a template: a string with `{field}` parts (`{field|default}`: optional, with a
    default; a part whose required field is missing is left out), or `{join, parts}`."""
    if template is None:
        return None
    if isinstance(template, Mapping):
        parts = [_note(p, row, attrs) for p in template.get("parts", [])]
        text = str(template.get("join", ", ")).join(p for p in parts if p)
        return text or None
    text = str(template)

    def lookup(name: str) -> object:
        v = attrs.get(name)
        return get(row, name) if v is None else v

    for m in _FIELD.finditer(text):
        if m.group(2) is None and lookup(m.group(1)) is None:
            return None

    def sub(m: re.Match[str]) -> str:
        v = lookup(m.group(1))
        return (m.group(2) or "") if v is None else _fmt(v)

    return _FIELD.sub(sub, text).strip() or None


# ---------------------------------------------------------------- compiled bindings

Getter = Callable[[object], object]
NoteFn = Callable[[object], "str | None"]
_MISS = object()
_FIELD_MODE, _BLOCK, _ROWS, _EXPOSURE, _FOLD, _NOTHING = range(6)


def getter(name: str) -> Getter:
    """`get(obj, name)` prepared for one field name (a dotted path split once)."""
    if "." not in name:

        def one(obj: object) -> object:
            return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)

        return one
    parts = tuple(name.split("."))

    def path(obj: object) -> object:
        for part in parts:
            if obj is None:
                return None
            obj = obj.get(part) if isinstance(obj, dict) else getattr(obj, part, None)
        return obj

    return path


def _maybe(name: str | None) -> Getter | None:
    return getter(name) if name else None


def compile_note(template: object, attrs: Mapping[str, str]) -> NoteFn | None:
    """`_note(template, row, attrs)` prepared once: the same text for every row."""
    if template is None:
        return None
    if isinstance(template, Mapping):
        parts = [compile_note(p, attrs) for p in template.get("parts", [])]
        fns = [f for f in parts if f is not None]
        sep = str(template.get("join", ", "))

        def joined(row: object) -> str | None:
            text = sep.join(t for t in (f(row) for f in fns) if t)
            return text or None

        return joined
    text = str(template)

    def lookup_of(name: str) -> Getter:
        plain = getter(name)
        field_name = attrs.get(name)
        if field_name is None:
            return plain
        attr = getter(field_name)

        def lookup(row: object) -> object:
            v = attr(row)
            return plain(row) if v is None else v

        return lookup

    literals: list[str] = []
    slots: list[tuple[Getter, str | None]] = []
    pos = 0
    for m in _FIELD.finditer(text):
        literals.append(text[pos : m.start()])
        slots.append((lookup_of(m.group(1)), m.group(2)))
        pos = m.end()
    tail = text[pos:]
    if not slots:
        constant = text.strip() or None
        return lambda row: constant

    def note(row: object) -> str | None:
        values = [g(row) for g, _ in slots]
        out: list[str] = []
        for lit, (_, default), v in zip(literals, slots, values, strict=True):
            if v is None:
                if default is None:
                    return None  # a required field is missing: the part is left out
                out.append(lit)
                out.append(default)
            else:
                out.append(lit)
                out.append(_fmt(v))
        out.append(tail)
        return "".join(out).strip() or None

    return note


def _value_of(b: Binding) -> Getter:
    spec = b.value
    if isinstance(spec, Mapping) and "interval" in spec:
        iv = spec["interval"]
        start_get = _maybe(iv.get("start"))
        stop_get = _maybe(iv.get("stop"))
        rule = iv.get("ongoing", "never")

        def interval(row: object) -> object:
            start = start_get(row) if start_get is not None else None
            stop = stop_get(row) if stop_get is not None else start
            if rule == "open_stop":
                ongoing = stop is None
            elif rule == "open_stop_with_start":
                ongoing = stop is None and start is not None
            else:
                ongoing = False
            return Interval(start, stop, ongoing=ongoing)  # type: ignore[arg-type]

        return interval
    return getter(str(spec)) if spec is not None else getter(b.field or "")


class Compiled:
    """One binding prepared for resolution: its mode, field readers, row filter, note and path."""

    __slots__ = (
        "attr_gets",
        "binding",
        "convert",
        "date_get",
        "eq_key",
        "eq_want",
        "field_get",
        "has_raw",
        "high_get",
        "low_get",
        "mode",
        "note",
        "path",
        "ref_get",
        "rest",
        "section",
        "section_get",
        "text_get",
        "unit_get",
        "value_of",
    )

    def __init__(self, b: Binding) -> None:
        self.binding = b
        self.unit_get = _maybe(b.unit)
        self.high_get = _maybe(b.high)
        self.low_get = _maybe(b.low)
        self.text_get = _maybe(b.text)
        self.ref_get = _maybe(b.ref)
        self.date_get = _maybe(b.date)
        self.convert = b.convert
        self.has_raw = bool(b.unit or b.high or b.low or b.text)
        self.attr_gets = tuple((k, getter(f)) for k, f in b.attrs.items())
        self.note = compile_note(b.note, b.attrs)
        self.value_of = _value_of(b)
        self.field_get: Getter = getter(b.field or "")
        self.section = ""
        self.section_get: Getter = getter("")
        self.path = ""
        self.eq_key: str | None = None
        self.eq_want: object = None
        self.rest: dict[str, object] = {}
        if b.fold is not None:
            self.mode = _FOLD
        elif b.exposure is not None:
            self.mode = _EXPOSURE
        elif b.rows is not None:
            self.mode = _ROWS
            self.section = b.rows
            self.section_get = getter(b.rows)
            self.path = b.source or f"{b.rows}[{{i}}]"
            self.eq_key = next((k for k, v in b.where.items() if not isinstance(v, Mapping)), None)
            if self.eq_key is not None:
                self.eq_want = _hashable(b.where[self.eq_key])
            self.rest = {k: v for k, v in b.where.items() if k != self.eq_key}
        elif b.block is not None:
            self.mode = _BLOCK
            self.section = b.block
            self.section_get = getter(b.block)
            self.path = b.source or f"{b.block}.{b.field}"
        elif b.field is not None:
            self.mode = _FIELD_MODE
            self.path = b.source or b.field
        else:
            self.mode = _NOTHING


# ---------------------------------------------------------------- the fact source


class BoundFacts:
    """A `FactSource` over one document, generated from a binding table (resolved lazily, cached).

    `document` is anything `get` can walk (a pydantic model or nested mappings); `periods` maps a
    section name to the periods over which it is complete (absent = complete at all times). Each
    binding is resolved by its compiled form (`BindingTable.compiled`: field readers, row filter,
    note template and path prepared once per table, not per patient).
    """

    __slots__ = ("_cache", "_index", "_sections", "document", "periods", "registry", "settings", "table")

    def __init__(
        self,
        document: object,
        table: BindingTable,
        *,
        registry: Registry,
        settings: Settings,
        periods: Mapping[str, tuple[Period, ...]] | None = None,
    ) -> None:
        self.document = document
        self.table = table
        self.registry = registry
        self.settings = settings
        self.periods = periods or {}
        self._cache: dict[str, Obs] = {}
        self._index: dict[tuple[str, str], dict[object, list[tuple[int, object]]]] = {}
        self._sections: dict[str, list[object] | None] = {}

    def _section(self, c: Compiled) -> list[object] | None:
        """A list section's rows (None: the section is absent), read once per document."""
        name = c.section
        try:
            return self._sections[name]
        except KeyError:
            pass
        items = c.section_get(self.document)
        rows = None if items is None else list(items) if isinstance(items, list | tuple) else []
        self._sections[name] = rows
        return rows

    def _rows_where(self, c: Compiled) -> list[tuple[int, object]] | None:
        """The (index, row) pairs of a section whose fields match the binding's `where` (None: section
        absent).

        The first plain equality in `where` is answered from an index of the section by that field,
        built once per document, so each of many facts bound to one section reads only its own rows."""
        rows = self._section(c)
        if rows is None:
            return None
        key = c.eq_key
        if key is None:
            pairs: list[tuple[int, object]] = list(enumerate(rows))
        else:
            index = self._index.get((c.section, key))
            if index is None:
                index = {}
                for i, row in enumerate(rows):
                    index.setdefault(_hashable(get(row, key)), []).append((i, row))
                self._index[(c.section, key)] = index
            pairs = index.get(c.eq_want, [])
        rest = c.rest
        if not rest:
            return pairs
        return [(i, row) for i, row in pairs if _matches(row, rest)]

    def get(self, name: str) -> Obs:
        out = self._cache.get(name, _MISS)
        if out is not _MISS:
            return out  # type: ignore[return-value]
        c = self.table.compiled.get(name)
        out = None if c is None else self._resolve(c)
        self._cache[name] = out
        return out

    def needs(self, name: str) -> tuple[str, ...]:
        """A base fact is settled by its own test or question (nothing underneath it)."""
        return ()

    def coverage(self, name: str) -> tuple[Period, ...] | None:
        b = self.table.bindings.get(name)
        if b is None or b.coverage is None:
            return None
        return self.periods.get(b.coverage)

    # -- resolution

    def _resolve(self, c: Compiled) -> Obs:
        mode = c.mode
        if mode == _ROWS:
            return self._rows(c)
        if mode == _BLOCK:
            return self._block(c)
        if mode == _FIELD_MODE:
            v = c.field_get(self.document)
            if v is None:
                return None
            return (self._obs(c, v, None, self.document, c.path, None),)  # a top-level field
        if mode == _FOLD:
            return self._fold(c.binding)
        if mode == _EXPOSURE:
            return self._exposure(c.binding)
        return None

    def _obs(
        self, c: Compiled, value: object, row_path: str | None, row: object, path: str, when: object
    ) -> Observation:
        raw = None
        note = None
        if isinstance(value, bool):
            v: Any = value
        elif isinstance(value, int | float):
            v = float(value)
        else:
            v = value
        if c.has_raw:
            unit = c.unit_get(row) if c.unit_get is not None else None
            text = c.text_get(row) if c.text_get is not None else None
            if c.convert is not None and isinstance(v, float) and isinstance(unit, str):
                factor = unit_factors(c.convert).get(unit)
                if factor is not None and factor != 1.0:
                    note = f"{v:g} {unit} converted to {_canonical_unit(self.registry[c.binding.fact])}"
                    v = to_canonical(v, factor)
            raw = Raw(
                value,
                unit if isinstance(unit, str) else None,
                _num(c.low_get(row)) if c.low_get is not None else None,
                _num(c.high_get(row)) if c.high_get is not None else None,
                text if isinstance(text, str) else None,
            )
        attrs = tuple((k, g(row)) for k, g in c.attr_gets) if c.attr_gets else ()
        if c.note is not None:
            note = c.note(row)
        ref_id = c.ref_get(row) if c.ref_get is not None else None
        ref = Ref(self.table.adapter, str(ref_id) if ref_id is not None else None, path, row_path)
        return Observation(v, when if isinstance(when, date) else None, path, note, (), raw, ref, attrs)

    def _rows(self, c: Compiled) -> Obs:
        b = c.binding
        if b.unknown_if_any:
            rows = self._section(c)
            if rows is not None and any(_matches(row, b.unknown_if_any) for row in rows):
                return None
        pairs = self._rows_where(c)
        if pairs is None:
            return None
        out: list[Observation] = []
        value_of, date_get, section, template = c.value_of, c.date_get, c.section, c.path
        for i, row in pairs:
            value = value_of(row)
            if value is None:
                continue
            path = template.replace("{i}", str(i))
            when = date_get(row) if date_get is not None else None
            out.append(self._obs(c, value, f"{section}[{i}]", row, path, when))
        if not out:
            return () if b.empty == "none" else None
        return tuple(out)

    def _block(self, c: Compiled) -> Obs:
        b = c.binding
        assert b.block is not None
        block = c.section_get(self.document)
        if block is None:
            return None
        for key, want in b.only_if.items():
            if get(block, key) != want:
                return None
        value = c.value_of(block)
        if value is None:
            return None
        when = c.date_get(block) if c.date_get is not None else None
        return (self._obs(c, value, b.block, block, c.path, when),)

    def _exposure(self, b: Binding) -> Obs:
        assert b.exposure is not None
        c = self.table.compiled[b.fact]
        exp = get(self.document, b.exposure)
        if exp is None:
            return None
        status = get(exp, "status")
        if b.kind == "enum":
            return (self._obs(c, status, b.exposure, exp, b.source or f"{b.exposure}.status", None),)
        if status == "never":
            return ()
        start, stop = get(exp, "start"), get(exp, "stop")
        iv = Interval(start, stop, ongoing=status == "current")  # type: ignore[arg-type]
        return (self._obs(c, iv, b.exposure, exp, b.source or b.exposure, start),)

    def _fold(self, b: Binding) -> Obs:
        assert b.fold is not None
        base = self.get(b.fold)
        if not base:
            return None
        sex_obs = self.get("sex") if "sex" in self.table.bindings else None
        sex = sex_obs[0].value if sex_obs and isinstance(sex_obs[0].value, str) else None
        out = []
        for o in base:
            folded = fold_observation(o, self.settings, self.registry[b.fold], sex)
            if folded is not None:
                out.append(folded)
        return tuple(out) or None


def _hashable(v: object) -> object:
    try:
        hash(v)
    except TypeError:
        return repr(v)
    return v


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


# ---------------------------------------------------------------- the fold over ULN (once)


@cache
def _default_uln_values() -> Mapping[str, Any]:
    values: Mapping[str, Any] = knowledge.load("ck")["default_uln"]["values"]
    return values


FOLD_DEFAULTS = ("lab.ck",)
"""Facts whose missing ULN has documented defaults (ck.yaml choice default_uln, ❗)."""


def fold_observation(
    o: Observation, settings: Settings, spec: FactSpec, sex: str | None
) -> Observation | None:
    """The fold over ULN of one bound value: value / ULN in the same unit (the only place a
    "× ULN" is computed). Without a reported ULN, the ❗ choice `ck.default_uln` decides."""
    raw = o.raw
    assert isinstance(o.value, float)
    if raw is not None and raw.high is not None and isinstance(raw.value, int | float):
        return Observation(
            round(fold_over_uln(float(raw.value), raw.high), 3),
            o.date,
            o.source,
            None,
            raw=raw,
            ref=o.ref,
            attrs=o.attrs,
        )
    if spec.name not in FOLD_DEFAULTS:
        return None
    policy = settings.default_uln
    values = _default_uln_values().get(policy)
    if not values:
        return None
    if "uln_min" in values:
        lo, hi = float(values["uln_min"]), float(values["uln_max"])
        note = (
            f"ULN not reported; assumed within {values['text']} "
            f"(ck.default_uln={policy} ❗); the lab's ULN would settle it"
        )
        flo, fhi = round(o.value / hi, 3), round(o.value / lo, 3)
        value: float | NumRange = flo if flo == fhi else NumRange(flo, fhi)
        return Observation(value, o.date, o.source, note, raw=raw, ref=o.ref, attrs=o.attrs)
    default = values.get("any", values.get(sex or "", None))
    return _point_default(o, values, policy, default)


def _point_default(
    o: Observation, values: Mapping[str, Any], policy: str, default: object
) -> Observation | None:
    if default is None:
        return None
    uln = float(default)  # type: ignore[arg-type]
    note = (
        f"ULN not reported; default {uln:g} U/L assumed (ck.default_uln={policy}, {values.get('source', '')})"
    )
    assert isinstance(o.value, float)
    return Observation(
        round(fold_over_uln(o.value, uln), 3), o.date, o.source, note, raw=o.raw, ref=o.ref, attrs=o.attrs
    )
