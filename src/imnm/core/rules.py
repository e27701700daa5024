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
