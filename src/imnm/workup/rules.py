"""The work-up's rule trees, read once from `knowledge/data/workup.yaml` and checked against the
fact vocabulary (an unknown fact or a wrong unit fails at load time, not at evaluation time)."""

from __future__ import annotations

from functools import cache
from typing import Any

from imnm import knowledge
from imnm.core import rules as r
from imnm.core.evaluate import require_valid
from imnm.core.rules import parse_rule
from imnm.workup.shared import intern

__all__ = ["all_rule_paths", "intern", "item_rule", "rule", "rule_from", "table", "term_rule"]

FILE = "knowledge/data/workup.yaml"


def table() -> dict[str, Any]:
    return knowledge.load("workup")


def rule(path: str, data_key: str | None = None) -> r.Expr:
    """Parse and check the rule at a dotted path in workup.yaml (`enmc.clinical`, ...)."""
    keys: tuple[str | int, ...] = tuple(path.split("."))
    return rule_from(keys + ((data_key,) if data_key is not None else ()))


def item_rule(item_id: str, enzymes_value: str) -> r.Expr:
    """The rule for one EULAR/ACR item (item 11 depends on the choice `enzymes_value`)."""
    raw = table()["eular_acr_items"][item_id]
    if "by_choice" in raw:
        return rule(f"eular_acr_items.{item_id}.by_choice", enzymes_value)
    return rule(f"eular_acr_items.{item_id}")


def term_rule(term: str) -> r.Expr:
    return rule_from(("eular_acr_tree_terms", term))


@cache
def rule_from(keys: tuple[str | int, ...]) -> r.Expr:
    """Parse and check the rule found by following `keys` (strings and list indexes)."""
    from imnm.vocabulary import REGISTRY

    node: Any = table()
    for k in keys:
        node = node[k]
    parsed = parse_rule(node)
    require_valid(parsed, REGISTRY, path=".".join(str(k) for k in keys), file=FILE)
    return intern(parsed)


def all_rule_paths() -> list[tuple[str | int, ...]]:
    """Every rule in workup.yaml (for the load-time check in tests)."""
    t = table()
    out: list[tuple[str | int, ...]] = []
    for item, raw in t["eular_acr_items"].items():
        if "by_choice" in raw:
            out += [
                ("eular_acr_items", item, "by_choice", k)
                for k in raw["by_choice"]
                if k not in ("table", "choice")
            ]
        else:
            out.append(("eular_acr_items", item))
    out += [("eular_acr_tree_terms", k) for k in t["eular_acr_tree_terms"]]
    out.append(("enmc", "clinical"))
    out += [("enmc", "serology", k) for k in t["enmc"]["serology"]]
    out += [("enmc", "biopsy_compatible", k) for k in t["enmc"]["biopsy_compatible"]]
    out += [("biopsy_patterns", i, "rule") for i in range(len(t["biopsy_patterns"]))]
    for mid, m in t["mimic_features"].items():
        if "applies_when" in m:
            out.append(("mimic_features", mid, "applies_when"))
        for side in ("for", "against"):
            out += [("mimic_features", mid, side, i, "rule") for i in range(len(m[side]))]
    out += [("workup", i, "when") for i in range(len(t["workup"]))]
    return out
