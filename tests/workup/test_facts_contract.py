"""The derived-fact contract of the work-up (names, kinds, values, unknowns with needs)."""

from __future__ import annotations

from typing import Any

from imnm.core.evaluate import evaluate
from imnm.core.facts import NumRange, OneOf
from imnm.core.rules import parse_rule
from imnm.core.truth import Truth
from imnm.facts import REGISTRY, RecordFacts
from imnm.record.load import parse_record
from tests.conftest import AS_OF


def _facts(data: dict[str, Any]) -> RecordFacts:
    return RecordFacts(parse_record(data), as_of=AS_OF)


def test_contract_names_kinds_and_values() -> None:
    spec = REGISTRY["enmc.subtype"]
    assert spec.kind == "enum"
    assert spec.values == ("anti_hmgcr_myopathy", "anti_srp_myopathy", "antibody_negative_imnm", "not_imnm")
    assert REGISTRY["enmc.imnm"].kind == "bool"
    assert REGISTRY["eular_acr.score"].kind == "number"
    assert REGISTRY["eular_acr.probability"].unit == "%"
    assert REGISTRY["eular_acr.category"].values == ("not_iim", "possible", "probable", "definite")
    assert REGISTRY["eular_acr.classified_as_iim"].kind == "bool"
    assert set(REGISTRY["eular_acr.subgroup"].values or ()) == {
        "PM",
        "IBM",
        "DM",
        "ADM",
        "JDM",
        "juvenile_other",
    }


def test_example_record_values(example_record: Any) -> None:
    f = RecordFacts(example_record, as_of=AS_OF)
    assert f.get("enmc.subtype")[0].value == "anti_hmgcr_myopathy"  # type: ignore[index]
    assert f.get("enmc.imnm")[0].value is True  # type: ignore[index]
    # biopsy version: 2.2 + 0.7 + 0.5 + 1.6 + 1.2 + 1.4 (age ≥ 40, weakness ×4, enzymes) = 7.6
    assert f.get("eular_acr.score")[0].value == 7.6  # type: ignore[index]
    assert f.get("eular_acr.category")[0].value == "probable"  # type: ignore[index]
    # no skin sign and no scored biopsy item: the strict skin-or-biopsy rule fails
    assert f.get("eular_acr.classified_as_iim")[0].value is False  # type: ignore[index]
    assert f.get("eular_acr.subgroup") is None


def test_unknown_items_give_a_range_with_needs() -> None:
    f = _facts(
        {
            "id": "t",
            "age_at_onset": 62,
            "findings": {"proximal_weakness_upper": True, "proximal_weakness_lower": True},
            "biopsy": {"performed": False},
        }
    )
    obs = f.get("eular_acr.score")
    assert obs is not None and isinstance(obs[0].value, NumRange)
    # known: 2.1 + 0.7 + 0.8 = 3.6; unknown no-biopsy items: 1.9 + 0.9 + 3.1 + 2.1 + 3.3 + 0.7 + 3.9 + 1.3
    assert obs[0].value == NumRange(3.6, 20.8)
    assert "findings.heliotrope_rash" in f.needs("eular_acr.score")  # what would narrow the range
    # the score range 3.6-20.8 spans every category: the category is one of the four (none excluded)
    cat = f.get("eular_acr.category")
    assert cat is not None and cat[0].value == OneOf(
        frozenset({"not_iim", "possible", "probable", "definite"})
    )
    rule = parse_rule({"compare": {"fact": "eular_acr.score", "op": ">=", "value": 7.5}})
    out = evaluate(rule, f, as_of=AS_OF, registry=REGISTRY)
    assert out.truth is Truth.UNKNOWN
    assert {"skin_exam", "strength_exam"} <= {m.test for m in out.missing}


def test_enmc_unknown_names_the_tests() -> None:
    f = _facts(
        {
            "id": "t",
            "findings": {"proximal_weakness_upper": True},
            "labs": [{"test": "ck", "value": 4000, "unit": "U/L", "uln": 200}],
        }
    )
    assert f.get("enmc.subtype") is None
    needs = f.needs("enmc.subtype")
    assert "antibody.HMGCR" in needs and "antibody.SRP" in needs
    rule = parse_rule({"compare": {"fact": "enmc.subtype", "op": "==", "value": "anti_hmgcr_myopathy"}})
    out = evaluate(rule, f, as_of=AS_OF, registry=REGISTRY)
    assert out.truth is Truth.UNKNOWN
    assert {"anti_hmgcr", "anti_srp"} <= {m.test for m in out.missing}
