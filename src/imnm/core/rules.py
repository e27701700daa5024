"""The rule language: a tree of plain data, with no callables, so one definition can be
evaluated in Python, compiled to SQL and rendered as text.

YAML shape (each node is a mapping with exactly one of these keys, plus an optional `label`):

```yaml
all: [<node>, ...]                       # every child met
any: [<node>, ...]                       # at least one child met
not: <node>
at_least: {n: 2, of: [<node>, ...]}
is_true: findings.dysphagia              # a true/false fact is true
compare: {fact: lab.ck, op: ">", value: 1000, unit: U/L,
          select: latest, window: {before: 90d}}
event: {fact: medication.rituximab, window: {before: 6mo}}   # happened in the window
const: unknown                           # met | not_met | unknown (tests, placeholders)
```

`select` picks among dated observations: `latest` (default), `earliest`, `max`, `min`,
`any` (met if any observation satisfies) or `all`. A `window` keeps observations dated within
`before`/`after` the anchor (`as_of` by default, or a date fact). Durations are `90d`, `12w`,
`6mo`, `1y`; months and years are calendar months and years. A duration is at most 100 years
(`MAX_DURATION`: 36525d, 5217w, 1200mo or 100y), a documented limit that keeps every window
inside the calendar.

**Value expressions** define derived facts whose value is computed by rules, so that one
definition serves Python, SQL and text (scores, categories, subtypes):

```yaml
sum:                                    # points over three-valued items: a range [lo, hi]
  terms:
    - {points: 1.3, when: <node>}       # counted when met; unknown widens the range
    - one_of: [{points: 1.3, when: ..}, {points: 2.1, when: ..}]   # mutually exclusive items
  decimals: 1                           # round the total (the published rule's rounding)
case:                                   # three-valued choice of a value, in order
  branches: [{when: <node>, then: <value>}, ...]
  else: <value>
  mode: ordered                         # ordered: an unknown branch leaves every later value possible
                                        # first_met: the first met branch wins even after unknown ones
value: 5.5                              # a literal (number, code, or null = unknown)
fact: eular_acr.score_biopsy            # the value of another (numeric or coded) fact
logistic: {of: <value>, constant: 5.33, scale: 100}   # scale / (1 + exp(constant - x)), monotone
```
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

DURATION = re.compile(r"^(\d+)\s*(d|w|mo|y)$")
MAX_DURATION = "100 years"
_MAX_COUNT = {"d": 36525, "w": 5217, "mo": 1200, "y": 100}  # each at most 100 years
NODE_KEYS = ("all", "any", "not", "at_least", "is_true", "compare", "event", "const")
Op = Literal["<", "<=", ">", ">=", "==", "!=", "in", "not_in"]
Select = Literal["latest", "earliest", "max", "min", "any", "all"]
Scalar = bool | float | str


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)


class Window(_Model):
    """A time window around an anchor date (`as_of` unless a date fact is named)."""

    before: str | None = Field(None, description="How far back from the anchor, e.g. 90d, 6mo")
    after: str | None = Field(None, description="How far forward from the anchor, e.g. 0d, 4w")
    anchor: str = Field("as_of", description="'as_of' or the name of a date fact")

    @field_validator("before", "after")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        problem = duration_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    def describe(self) -> str:
        anchor = "the evaluation date" if self.anchor == "as_of" else self.anchor
        parts = []
        if self.before:
            parts.append(f"{_spell(self.before)} before")
        if self.after:
            parts.append(f"{_spell(self.after)} after")
        if not parts:
            return f"on {anchor}"
        return f"within {' or '.join(parts)} {anchor}"


def duration_problem(value: str) -> str | None:
    """Why `value` is not a usable duration (None when it is one)."""
    m = DURATION.match(value.strip())
    if not m:
        return f"{value[:40]!r} is not a duration; write e.g. 90d, 12w, 6mo or 1y"
    digits, unit = m.group(1), m.group(2)
    if len(digits) > 6 or int(digits) > _MAX_COUNT[unit]:
        return (
            f"{value[:40]!r} is longer than the longest window allowed ({MAX_DURATION}: "
            "36525d, 5217w, 1200mo or 100y)"
        )
    return None


def _spell(duration: str) -> str:
    m = DURATION.match(duration.strip())
    assert m
    n, unit = int(m.group(1)), m.group(2)
    word = {"d": "day", "w": "week", "mo": "month", "y": "year"}[unit]
    return f"{n} {word}{'' if n == 1 else 's'}"


class Compare(_Model):
    fact: str
    op: Op
    value: Scalar | list[Scalar]
    unit: str | None = None
    select: Select = "latest"
    window: Window | None = None


class EventSpec(_Model):
    fact: str
    window: Window | None = None


class AtLeastSpec(_Model):
    n: Annotated[int, Field(ge=0)]
    of: list[Expr] = Field(min_length=1)


class _Node(_Model):
    label: str | None = Field(None, description="Human wording that replaces the generated text")


class All(_Node):
    all: list[Expr] = Field(min_length=1)


class AnyOf(_Node):
    any: list[Expr] = Field(min_length=1)


class Not(_Node):
    not_: Expr = Field(alias="not")


class AtLeast(_Node):
    at_least: AtLeastSpec


class IsTrue(_Node):
    is_true: str


class CompareNode(_Node):
    compare: Compare


class Event(_Node):
    event: EventSpec


class Const(_Node):
    const: Literal["met", "not_met", "unknown"]


def _node_key(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in NODE_KEYS:
            if key in value:
                return key
        return None
    for key, cls in _KEY_CLASS.items():
        if isinstance(value, cls):
            return key
    return None


Expr = Annotated[
    Annotated[All, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[AtLeast, Tag("at_least")]
    | Annotated[IsTrue, Tag("is_true")]
    | Annotated[CompareNode, Tag("compare")]
    | Annotated[Event, Tag("event")]
    | Annotated[Const, Tag("const")],
    Discriminator(
        _node_key,
        custom_error_type="rule_node",
        custom_error_message="a rule node needs exactly one of: " + ", ".join(NODE_KEYS),
    ),
]
"""Any rule node."""

_KEY_CLASS: dict[str, type[_Node]] = {
    "all": All,
    "any": AnyOf,
    "not": Not,
    "at_least": AtLeast,
    "is_true": IsTrue,
    "compare": CompareNode,
    "event": Event,
    "const": Const,
}

AtLeastSpec.model_rebuild()
for _cls in _KEY_CLASS.values():
    _cls.model_rebuild()


class Rule(_Model):
    """A wrapper to validate a single node (and to get its JSON Schema)."""

    rule: Expr


# ---------------------------------------------------------------- value expressions


class Term(_Model):
    """Points counted when `when` is met (unknown: the points may or may not count)."""

    points: float
    when: Expr


class OneOfTerms(_Model):
    """Mutually exclusive items (e.g. age bands): a met item counts alone; none met counts 0."""

    one_of: list[Term] = Field(min_length=1)


class SumSpec(_Model):
    terms: list[Term | OneOfTerms] = Field(min_length=1)
    decimals: int | None = Field(None, ge=0, le=6, description="Round the total to this many decimals")


class Sum(_Model):
    sum: SumSpec
    label: str | None = None


class Branch(_Model):
    when: Expr
    then: ValueExpr


class CaseSpec(_Model):
    branches: list[Branch] = Field(min_length=1)
    else_: ValueExpr = Field(alias="else")
    mode: Literal["ordered", "first_met"] = "ordered"


class Case(_Model):
    case: CaseSpec
    label: str | None = None


class Value(_Model):
    value: float | str | None


class FactValueNode(_Model):
    fact: str


class LogisticSpec(_Model):
    of: ValueExpr
    constant: float
    scale: float = 1.0
    decimals: int | None = Field(None, ge=0, le=9)


class Logistic(_Model):
    logistic: LogisticSpec


VALUE_KEYS = ("sum", "case", "value", "fact", "logistic")


def _value_key(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in VALUE_KEYS:
            if key in value:
                return key
        return None
    for key, cls in _VALUE_CLASS.items():
        if isinstance(value, cls):
            return key
    return None


ValueExpr = Annotated[
    Annotated[Sum, Tag("sum")]
    | Annotated[Case, Tag("case")]
    | Annotated[Value, Tag("value")]
    | Annotated[FactValueNode, Tag("fact")]
    | Annotated[Logistic, Tag("logistic")],
    Discriminator(
        _value_key,
        custom_error_type="value_node",
        custom_error_message="a value expression needs exactly one of: " + ", ".join(VALUE_KEYS),
    ),
]
"""A value expression (the definition of a rule-defined fact)."""

_VALUE_CLASS: dict[str, type[_Model]] = {
    "sum": Sum,
    "case": Case,
    "value": Value,
    "fact": FactValueNode,
    "logistic": Logistic,
}
_REBUILD: tuple[type[_Model], ...] = (
    Term,
    OneOfTerms,
    SumSpec,
    Branch,
    CaseSpec,
    LogisticSpec,
    *_VALUE_CLASS.values(),
)
for _vcls in _REBUILD:
    _vcls.model_rebuild()


VALUE_TYPES: tuple[type[_Model], ...] = tuple(_VALUE_CLASS.values())
"""The classes of value expressions (for isinstance checks)."""


class Definition(_Model):
    """A wrapper to validate a value expression (and to get its JSON Schema)."""

    value: ValueExpr


def parse_value(data: object) -> ValueExpr:
    """Validate plain data as a value expression (raises pydantic's ValidationError)."""
    return Definition.model_validate({"value": data}).value


def value_rules(expr: ValueExpr) -> list[Expr]:
    """The rule nodes a value expression tests (sum terms, case conditions), in order."""
    out: list[Expr] = []
    stack: list[object] = [expr]
    while stack:
        e = stack.pop(0)
        if isinstance(e, Sum):
            for t in e.sum.terms:
                out.extend([x.when for x in t.one_of] if isinstance(t, OneOfTerms) else [t.when])
        elif isinstance(e, Case):
            for b in e.case.branches:
                out.append(b.when)
                stack.append(b.then)
            stack.append(e.case.else_)
        elif isinstance(e, Logistic):
            stack.append(e.logistic.of)
    return out


def value_facts(expr: ValueExpr) -> set[str]:
    """Every fact a value expression refers to (through its rules and `fact` nodes)."""
    out: set[str] = set()
    stack: list[object] = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, FactValueNode):
            out.add(e.fact)
        elif isinstance(e, Case):
            stack.extend(b.then for b in e.case.branches)
            stack.append(e.case.else_)
        elif isinstance(e, Logistic):
            stack.append(e.logistic.of)
    for node in value_rules(expr):
        out |= facts_used(node)
    return out


def parse_rule(data: object) -> Expr:
    """Validate plain data as a rule tree (raises pydantic's ValidationError)."""
    return Rule.model_validate({"rule": data}).rule


def children(node: Expr) -> list[Expr]:
    """The direct sub-nodes of a node."""
    if isinstance(node, All):
        return list(node.all)
    if isinstance(node, AnyOf):
        return list(node.any)
    if isinstance(node, Not):
        return [node.not_]
    if isinstance(node, AtLeast):
        return list(node.at_least.of)
    return []


def facts_used(node: Expr) -> set[str]:
    """Every fact a rule tree refers to (including window anchors)."""
    out: set[str] = set()
    stack: list[Expr] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, IsTrue):
            out.add(n.is_true)
        elif isinstance(n, CompareNode):
            out.add(n.compare.fact)
            if n.compare.window and n.compare.window.anchor != "as_of":
                out.add(n.compare.window.anchor)
        elif isinstance(n, Event):
            out.add(n.event.fact)
            if n.event.window and n.event.window.anchor != "as_of":
                out.add(n.event.window.anchor)
        stack.extend(children(n))
    return out
