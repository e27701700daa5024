"""How well the importer's recognizers reproduce the hand-written catalog (issue 9 item 18).

For every criterion of the shipped catalog (`knowledge/data/trials/*.yaml`) the verbatim registry
`text` is run through `imnm.trials.recognize.recognize` with its kind (inclusion / exclusion), and
the rule it writes is compared with the hand-written `rule` *structurally*: both are parsed as rule
trees, labels are dropped, the children of `all` / `any` / `at_least` are compared as unordered
collections, defaults are filled in (`select: latest` written or not is the same rule) and the
`screening` window token stands for the same duration on both sides.

The headline figure `share` is the fraction of criteria with a hand-written rule for which the
importer writes the same rule. Structured criteria (ages and sex from the registry's structured
fields, which the importer reads from those fields, not from the text) are left out, and so are
criteria whose text is a summary from the research notes rather than registry wording
(`verbatim: false`, the trials of trials-2026.md): the importer never sees such text.

    python -m imnm.trials.coverage [--json]     # the figures and each criterion's outcome
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, Literal

from imnm.core.rules import Expr, parse_rule
from imnm.trials.recognize import recognize

Outcome = Literal["same", "different", "missed", "extra", "both_manual"]


@dataclass(frozen=True)
class Row:
    trial: str
    criterion: str
    kind: str
    outcome: Outcome
    pattern: str | None = None


@dataclass(frozen=True)
class Coverage:
    rows: tuple[Row, ...] = field(repr=False)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def encoded_by_hand(self) -> int:
        return self.count("same") + self.count("different") + self.count("missed")

    @property
    def share(self) -> float:
        """Criteria whose importer rule equals the hand-written rule / criteria with a hand-written rule."""
        return self.count("same") / self.encoded_by_hand if self.encoded_by_hand else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "share": round(self.share, 4),
            "same": self.count("same"),
            "encoded_by_hand": self.encoded_by_hand,
            "different": self.count("different"),
            "missed": self.count("missed"),
            "extra": self.count("extra"),
            "both_manual": self.count("both_manual"),
            "criteria": len(self.rows),
            "rows": [r.__dict__ for r in self.rows],
        }


def normalize(node: Expr) -> object:
    """A rule tree as comparable plain data: no labels, unordered junction children."""
    data = node.model_dump(by_alias=True, exclude={"label"})
    return _canon(data)


def _canon(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _canon(v) for k, v in value.items() if k != "label"}
        for key in ("all", "any"):
            if isinstance(out.get(key), list):
                out[key] = sorted(out[key], key=lambda x: json.dumps(x, sort_keys=True))
        if out.get("op") in ("in", "not_in") and isinstance(out.get("value"), list):
            out["value"] = sorted(out["value"], key=str)  # a set of values
        if isinstance(out.get("at_least"), dict) and isinstance(out["at_least"].get("of"), list):
            out["at_least"]["of"] = sorted(out["at_least"]["of"], key=lambda x: json.dumps(x, sort_keys=True))
        return out
    if isinstance(value, list):
        return [_canon(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def same_rule(a: Expr, b: Expr) -> bool:
    return normalize(a) == normalize(b)


def _imported(text: str, kind: Literal["inclusion", "exclusion"]) -> tuple[Expr | None, str | None]:
    from imnm.trials.load import DEFAULT_SCREENING_WINDOW, _screening

    found = recognize(text, kind)
    if found is None:
        return None, None
    return parse_rule(_screening(found.rule, DEFAULT_SCREENING_WINDOW)), found.pattern


def measure() -> Coverage:
    """Compare the importer with every hand-written criterion of the shipped catalog."""
    from imnm.trials.load import catalog

    rows: list[Row] = []
    for trial in catalog():
        groups: list[tuple[str, list[Any]]] = [("inclusion", trial.inclusion), ("exclusion", trial.exclusion)]
        for c in trial.cohorts:
            groups += [("inclusion", c.inclusion), ("exclusion", c.exclusion)]
        for kind, crits in groups:
            for crit in crits:
                if crit.structured or not crit.verbatim:
                    continue  # the importer reads registry wording, not structured fields or notes' summaries
                mine, pattern = _imported(crit.text, kind)  # type: ignore[arg-type]
                hand = crit.rule
                outcome: Outcome
                if hand is None:
                    outcome = "both_manual" if mine is None else "extra"
                elif mine is None:
                    outcome = "missed"
                else:
                    outcome = "same" if same_rule(mine, hand) else "different"
                rows.append(Row(trial.id, crit.id, kind, outcome, pattern))
    return Coverage(tuple(rows))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    cov = measure()
    if "--json" in args:
        print(json.dumps(cov.as_dict(), indent=2, ensure_ascii=False))
        return 0
    print(
        f"importer vs hand-written catalog: {cov.count('same')} of {cov.encoded_by_hand} hand-written rules "
        f"reproduced ({cov.share:.1%}); {cov.count('different')} different, {cov.count('missed')} missed, "
        f"{cov.count('extra')} encoded where the catalog asks for manual review, "
        f"{cov.count('both_manual')} left to manual review by both"
    )
    for r in cov.rows:
        if r.outcome in ("different", "missed", "extra"):
            print(
                f"  {r.outcome:9} {r.trial} {r.criterion} ({r.kind}){f' [{r.pattern}]' if r.pattern else ''}"
            )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
