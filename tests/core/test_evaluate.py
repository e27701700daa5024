"""Rule evaluation on the example record: units, windows, events, evidence and missing tests."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from imnm.core.evaluate import check, evaluate, shift
from imnm.core.rules import parse_rule
from imnm.core.truth import Truth
from imnm.facts import REGISTRY, RecordFacts
from imnm.record.load import parse_record
from tests.conftest import AS_OF


def run(rule: object, record, as_of: date = AS_OF):  # type: ignore[no-untyped-def]
    node = parse_rule(rule)
    assert check(node, REGISTRY) == []
    return evaluate(node, RecordFacts(record, as_of=as_of), as_of=as_of, registry=REGISTRY)


def test_unit_conversion_in_rules(example_record) -> None:  # type: ignore[no-untyped-def]
    # latest CK is 35 µkat/L = 2100 U/L
    assert (
        run({"compare": {"fact": "lab.ck", "op": ">", "value": 2000, "unit": "U/L"}}, example_record).truth
        is Truth.MET
    )
    assert (
        run({"compare": {"fact": "lab.ck", "op": ">", "value": 36, "unit": "ukat/L"}}, example_record).truth
        is Truth.NOT_MET
    )
    out = run(
        {"compare": {"fact": "lab.ck", "op": ">=", "value": 8000, "unit": "U/L", "select": "max"}},
        example_record,
    )
    assert out.truth is Truth.MET and out.evidence[0].source == "labs[3]"


def test_time_window_relative_to_as_of(example_record) -> None:  # type: ignore[no-untyped-def]
    rule = {
        "compare": {
            "fact": "lab.ck.fold",
            "op": ">",
            "value": 10,
            "unit": "xULN",
            "window": {"before": "90d"},
        }
    }
    assert run(rule, example_record, as_of=date(2024, 11, 1)).truth is Truth.MET  # 2024-10-10 in window
    out = run(rule, example_record, as_of=AS_OF)  # nothing within 90 days of 2026-11-25
    assert out.truth is Truth.UNKNOWN
    assert out.missing[0].fact == "lab.ck.fold" and out.missing[0].test == "ck"
    assert "2026-08-27" in (out.missing[0].detail or "")


def test_events_with_windows(example_record) -> None:  # type: ignore[no-untyped-def]
    statin_1y = {"event": {"fact": "exposure.statin", "window": {"before": "1y"}}}
    assert run(statin_1y, example_record, as_of=date(2024, 6, 1)).truth is Truth.MET  # stopped 2024-02-01
    assert run(statin_1y, example_record, as_of=date(2026, 6, 1)).truth is Truth.NOT_MET
    pred = {"event": {"fact": "medication.glucocorticoid", "window": {"before": "30d"}}}
    assert run(pred, example_record).truth is Truth.MET  # ongoing since 2024-04-10
    ritux = run({"event": {"fact": "medication.rituximab", "window": {"before": "6mo"}}}, example_record)
    assert ritux.truth is Truth.NOT_MET
    no_meds = parse_record({"id": "x"})
    out = run({"event": {"fact": "medication.rituximab", "window": {"before": "6mo"}}}, no_meds)
    assert out.truth is Truth.UNKNOWN and out.missing[0].test == "history"
    open_past = parse_record({"id": "x", "exposures": {"statin": "past"}})
    assert run(statin_1y, open_past).truth is Truth.UNKNOWN  # stop date unknown
    assert run({"event": {"fact": "exposure.statin"}}, open_past).truth is Truth.MET  # ever: yes


def test_unknown_names_the_test_that_settles_it() -> None:
    rec = parse_record({"id": "x", "findings": {"proximal_weakness_upper": True}})
    out = run(
        {
            "all": [
                {"is_true": "findings.proximal_weakness_upper"},
                {"compare": {"fact": "antibody.HMGCR", "op": "==", "value": "positive"}},
                {"compare": {"fact": "lab.ck.fold", "op": ">", "value": 1, "unit": "xULN"}},
            ]
        },
        rec,
    )
    assert out.truth is Truth.UNKNOWN
    asks = {m.fact: m.ask for m in out.missing}
    assert asks["antibody.HMGCR"] == "anti-HMGCR antibody (blood test)"
    assert "lab.ck.fold" in asks
    assert [c.truth for c in out.children] == [Truth.MET, Truth.UNKNOWN, Truth.UNKNOWN]
    assert "anti-HMGCR antibody" in out.explain()


def test_not_met_short_circuits_unknowns() -> None:
    rec = parse_record({"id": "x", "findings": {"heliotrope_rash": False}})
    out = run(
        {
            "all": [
                {"is_true": "findings.heliotrope_rash"},
                {"compare": {"fact": "antibody.SRP", "op": "==", "value": "positive"}},
            ]
        },
        rec,
    )
    assert out.truth is Truth.NOT_MET and out.missing == ()


@pytest.mark.parametrize(
    ("rule", "path", "needle"),
    [
        (
            {"compare": {"fact": "lab.ckk", "op": ">", "value": 1, "unit": "U/L"}},
            "rule.compare.fact",
            "lab.ck",
        ),
        ({"compare": {"fact": "lab.ck", "op": ">", "value": 1000}}, "rule.compare.unit", "U/L"),
        (
            {"compare": {"fact": "lab.ck", "op": ">", "value": 1000, "unit": "mg"}},
            "rule.compare.unit",
            "not a unit",
        ),
        (
            {"compare": {"fact": "antibody.SRP", "op": ">", "value": "positive"}},
            "rule.compare.op",
            "does not apply",
        ),
        (
            {"compare": {"fact": "antibody.SRP", "op": "==", "value": "pos"}},
            "rule.compare.value",
            "not among",
        ),
        (
            {
                "any": [
                    {"compare": {"fact": "sex", "op": "==", "value": "female", "window": {"before": "1y"}}}
                ]
            },
            "rule.any[0].compare.window",
            "no dates",
        ),
        ({"at_least": {"n": 3, "of": [{"const": "met"}]}}, "rule.at_least.n", "only 1"),
        ({"event": {"fact": "lab.ck"}}, "rule.event.fact", "not an event"),
    ],
)
def test_check_reports_rules_that_do_not_fit(rule: object, path: str, needle: str) -> None:
    problems = check(parse_rule(rule), REGISTRY)
    assert problems and problems[0].path == path
    assert needle in problems[0].message + (problems[0].fix or "")


def test_malformed_rule_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        parse_rule({"maybe": []})
    with pytest.raises(ValidationError):
        parse_rule({"compare": {"fact": "lab.ck", "op": "~", "value": 1}})
    with pytest.raises(ValidationError):
        parse_rule({"event": {"fact": "x", "window": {"before": "3 fortnights"}}})


def test_calendar_shifts() -> None:
    assert shift(date(2024, 3, 31), "1mo", -1) == date(2024, 2, 29)
    assert shift(date(2024, 2, 29), "1y", +1) == date(2025, 2, 28)
    assert shift(date(2026, 11, 25), "90d", -1) == date(2026, 8, 27)
    assert shift(date(2026, 11, 25), "12w", -1) == date(2026, 9, 2)


def test_ranges_and_needs_name_the_underlying_tests() -> None:
    """A derived fact known only as a range (or not at all) names the tests behind it."""
    from imnm.core.facts import DictFacts, FactSpec, NumRange, Observation, Registry

    reg = Registry()
    reg.register(
        FactSpec(
            "antibody.HMGCR",
            "enum",
            "anti-HMGCR antibody",
            "anti-HMGCR antibody (blood test)",
            "anti_hmgcr",
            values=("positive", "negative"),
        )
    )
    reg.register(FactSpec("score", "number", "score", "the score's items", "history"))
    reg.register(FactSpec("subtype", "enum", "subtype", "the subtype's tests", "history", values=("a", "b")))

    class Facts(DictFacts):
        def needs(self, name: str) -> tuple[str, ...]:
            return ("antibody.HMGCR",) if name == "subtype" else ()

    facts = Facts(
        {
            "score": (Observation(NumRange(5.0, 7.0), needs=("antibody.HMGCR",)),),
            "subtype": None,
            "antibody.HMGCR": None,
        }
    )
    day = date(2026, 1, 1)

    def truth(rule: object) -> tuple[Truth, list[str]]:
        out = evaluate(parse_rule(rule), facts, as_of=day, registry=reg)
        return out.truth, [m.fact for m in out.missing]

    assert truth({"compare": {"fact": "score", "op": ">=", "value": 5}}) == (Truth.MET, [])
    assert truth({"compare": {"fact": "score", "op": ">", "value": 7}}) == (Truth.NOT_MET, [])
    assert truth({"compare": {"fact": "score", "op": ">=", "value": 5.5}}) == (
        Truth.UNKNOWN,
        ["antibody.HMGCR"],
    )
    assert truth({"compare": {"fact": "subtype", "op": "==", "value": "a"}}) == (
        Truth.UNKNOWN,
        ["antibody.HMGCR"],
    )


def test_results_after_as_of_are_not_seen(example_record) -> None:  # type: ignore[no-untyped-def]
    """Evaluating in the past uses only what was known then (a window with `after` may look ahead)."""
    latest_high = {"compare": {"fact": "lab.ck", "op": ">", "value": 5000, "unit": "U/L"}}
    assert run(latest_high, example_record, as_of=date(2024, 5, 1)).truth is Truth.MET  # 8000 on 04-10
    assert run(latest_high, example_record, as_of=AS_OF).truth is Truth.NOT_MET  # 2100 on 10-10
    before_tests = run(
        {"compare": {"fact": "antibody.HMGCR", "op": "==", "value": "positive"}},
        example_record,
        as_of=date(2024, 1, 1),
    )
    assert before_tests.truth is Truth.UNKNOWN
    assert before_tests.missing[0].test == "anti_hmgcr"
    started_later = {"event": {"fact": "medication.methotrexate"}}
    assert run(started_later, example_record, as_of=date(2024, 4, 20)).truth is Truth.NOT_MET
    ahead = {"event": {"fact": "medication.methotrexate", "window": {"after": "4w"}}}
    assert run(ahead, example_record, as_of=date(2024, 4, 20)).truth is Truth.MET  # planned within 4 weeks


def test_the_engine_ignores_later_observations_from_any_fact_source() -> None:
    from imnm.core.facts import DictFacts, FactSpec, Observation, Registry

    reg = Registry()
    reg.register(FactSpec("ck", "number", "CK", "CK (blood test)", "ck", unit="U/L", dated=True))
    facts = DictFacts({"ck": (Observation(900.0, date(2024, 1, 1)), Observation(5000.0, date(2024, 6, 1)))})
    rule = parse_rule({"compare": {"fact": "ck", "op": ">", "value": 1000, "unit": "U/L"}})
    assert evaluate(rule, facts, as_of=date(2024, 3, 1), registry=reg).truth is Truth.NOT_MET
    assert evaluate(rule, facts, as_of=date(2024, 7, 1), registry=reg).truth is Truth.MET
    early = evaluate(rule, facts, as_of=date(2023, 7, 1), registry=reg)
    assert early.truth is Truth.UNKNOWN and "on or before 2023-07-01" in (early.missing[0].detail or "")


def test_as_of_view_drops_later_results(example_record) -> None:  # type: ignore[no-untyped-def]
    from imnm.record.asof import as_of_view

    assert as_of_view(example_record, AS_OF) is example_record  # nothing later: the same record
    past = as_of_view(example_record, date(2024, 3, 5))
    assert past.labs is not None and [lab.date for lab in past.labs] == [date(2024, 3, 1)] * 3
    assert past.biopsy is None and past.mri is None and past.emg is None
    assert past.medications == example_record.medications  # plans stay
