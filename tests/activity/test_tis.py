"""TIS worked examples T1–T4 (clinical.md §3.5) and invariants.

Expected points, totals and categories are typed in from clinical.md §3.5, which computes them
with the ⚠️ percent-change interpretation of §3.3 — the default method here,
`range_normalised_relative_enzyme` (VAS 0–10, HAQ 0–3, MMT 0–max; enzyme relative change).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imnm.activity import tis
from imnm.activity.tis import Pair
from imnm.core.truth import Truth

METHOD = "range_normalised_relative_enzyme"


def pairs(
    pg: tuple[float, float],
    pt: tuple[float, float],
    mmt: tuple[float, float],
    mmt_max: float,
    haq: tuple[float, float],
    enz: tuple[float, float],
    ex: tuple[float, float],
) -> dict[str, Pair]:
    return {
        "physician_global": Pair(*pg, 0, 10),
        "patient_global": Pair(*pt, 0, 10),
        "mmt": Pair(*mmt, 0, mmt_max),
        "haq": Pair(*haq, 0, 3),
        "muscle_enzyme": Pair(*enz),
        "extramuscular_global": Pair(*ex, 0, 10),
    }


# (name, pairs, population, expected points per measure, expected percent, TIS, adult cat, juvenile cat)
EXAMPLES = [
    (
        "T1",
        pairs((6, 3), (7, 5), (60, 68), 80, (1.5, 1.125), (8000, 2000), (2, 1)),
        "adult",
        {
            "physician_global": 17.5,
            "patient_global": 5,
            "mmt": 10,
            "haq": 5,
            "muscle_enzyme": 7.5,
            "extramuscular_global": 7.5,
        },
        {
            "physician_global": 30,
            "patient_global": 20,
            "mmt": 10,
            "haq": 12.5,
            "muscle_enzyme": 75,
            "extramuscular_global": 10,
        },
        52.5,
        "moderate",
        "moderate",
    ),
    (
        "T2",
        pairs((4, 5), (5, 5), (70, 69), 80, (1.0, 0.9), (1500, 1200), (0, 0)),
        "adult",
        {
            "physician_global": 0,
            "patient_global": 0,
            "mmt": 0,
            "haq": 0,
            "muscle_enzyme": 5,
            "extramuscular_global": 0,
        },
        {
            "physician_global": -10,
            "patient_global": 0,
            "mmt": -1.25,
            "haq": 3.33,
            "muscle_enzyme": 20,
            "extramuscular_global": 0,
        },
        5,
        "none",
        "none",
    ),
    (
        "T3",
        pairs((8, 2), (8, 3), (50, 70), 80, (2.4, 1.2), (12000, 300), (3, 0)),
        "adult",
        {
            "physician_global": 20,
            "patient_global": 10,
            "mmt": 27.5,
            "haq": 7.5,
            "muscle_enzyme": 7.5,
            "extramuscular_global": 15,
        },
        {
            "physician_global": 60,
            "patient_global": 50,
            "mmt": 25,
            "haq": 40,
            "muscle_enzyme": 97.5,
            "extramuscular_global": 30,
        },
        87.5,
        "major",
        "major",
    ),
    (
        "T4",
        pairs((5, 3), (6, 4), (120, 128), 150, (1.2, 0.9), (10, 9.6), (4, 3)),
        "juvenile",
        {
            "physician_global": 15,
            "patient_global": 5,
            "mmt": 10,
            "haq": 5,
            "muscle_enzyme": 0,
            "extramuscular_global": 7.5,
        },
        {
            "physician_global": 20,
            "patient_global": 20,
            "mmt": 5.33,
            "haq": 10,
            "muscle_enzyme": 4,
            "extramuscular_global": 10,
        },
        42.5,
        "moderate",
        "minimal",
    ),
]


@pytest.mark.parametrize(("name", "p", "pop", "points", "percent", "total", "adult", "juvenile"), EXAMPLES)
def test_worked_examples(name, p, pop, points, percent, total, adult, juvenile) -> None:  # type: ignore[no-untyped-def]
    r = tis.score(p, population=pop, method=METHOD)
    assert r.method == METHOD
    assert {k: m.points for k, m in r.measures.items()} == points, name
    for k, want in percent.items():
        assert r.measures[k].percent_change == pytest.approx(want, abs=0.005), (name, k)
    assert r.tis == total and r.tis_min == r.tis_max == total
    assert r.category == (adult if pop == "adult" else juvenile)
    assert tis.score(p, population="adult").category == adult
    assert tis.score(p, population="juvenile").category == juvenile


def test_worked_examples_match_the_knowledge_table() -> None:
    """The examples stored in tis_2016.yaml agree with the ones typed in above."""
    stored = {e["id"]: e for e in tis.table()["worked_examples"]}
    for name, _p, _pop, points, _pc, total, adult, juvenile in EXAMPLES:
        e = stored[name]
        assert e["tis"] == total and e["category_adult"] == adult and e["category_juvenile"] == juvenile
        assert {m["id"]: m["points"] for m in e["measures"]} == points


def test_band_edges_are_inclusive_at_the_top() -> None:
    assert tis.points_for("physician_global", 5.0) == (0, "worsening to 5 %")
    assert tis.points_for("physician_global", 15.0)[0] == 7.5
    assert tis.points_for("physician_global", 40.0)[0] == 17.5
    assert tis.points_for("physician_global", 40.000001)[0] == 20
    assert tis.points_for("mmt", 2.0)[0] == 0 and tis.points_for("mmt", 2.1)[0] == 10
    assert tis.points_for("haq", -50)[0] == 0


def test_thresholds_adult_20_40_60_juvenile_30_45_70() -> None:
    assert [tis.category(s, "adult") for s in (19.99, 20, 39.9, 40, 59.9, 60)] == [
        "none",
        "minimal",
        "minimal",
        "moderate",
        "moderate",
        "major",
    ]
    assert [tis.category(s, "juvenile") for s in (29.9, 30, 44.9, 45, 69.9, 70)] == [
        "none",
        "minimal",
        "minimal",
        "moderate",
        "moderate",
        "major",
    ]


def test_missing_measure_gives_a_range_never_a_silent_zero() -> None:
    p = dict(EXAMPLES[0][1])
    del p["muscle_enzyme"]
    r = tis.score(p, population="adult")
    assert r.tis is None and r.category is None
    assert (r.tis_min, r.tis_max) == (45, 52.5)
    assert (r.category_min, r.category_max) == ("moderate", "moderate")
    assert r.measures["muscle_enzyme"].points is None
    r0 = tis.score(p, population="adult", missing_rule="missing_as_zero_points")
    assert r0.tis == 45 and r0.category == "moderate" and any("minimum" in n for n in r0.notes)


def test_enzyme_baseline_zero_is_not_computable() -> None:
    p = dict(EXAMPLES[0][1])
    p["muscle_enzyme"] = Pair(0, 0)
    r = tis.score(p, population="adult")
    assert r.measures["muscle_enzyme"].points is None and r.tis is None and r.tis_max == 52.5


def test_unknown_population_gives_both_thresholds() -> None:
    r = tis.score(EXAMPLES[3][1], population=None)
    assert r.tis == 42.5 and r.category is None
    assert (r.category_min, r.category_max) == ("minimal", "moderate")


def test_doi_three_of_six_and_the_unverified_clause_is_off_by_default() -> None:
    r = tis.score(EXAMPLES[0][1], population="adult")  # T1: 30, 20, 10, 12.5, 75, 10 → 3 measures ≥ 20 %
    assert r.doi.truth is Truth.MET and set(r.doi.improved) == {
        "physician_global",
        "patient_global",
        "muscle_enzyme",
    }
    assert not r.doi.worsening_clause and "off" in r.doi.text
    r2 = tis.score(EXAMPLES[1][1], population="adult")  # T2: only CK 20 %
    assert r2.doi.truth is Truth.NOT_MET
    p = dict(EXAMPLES[1][1])
    del p["haq"], p["mmt"]
    assert tis.score(p, population="adult").doi.truth is Truth.UNKNOWN  # 1 improved + 2 unknown
    worse = dict(EXAMPLES[0][1])
    worse["mmt"] = Pair(60, 30, 0, 80)  # MMT worse by 37.5 %
    assert tis.score(worse, population="adult").doi.truth is Truth.MET
    on = tis.score(worse, population="adult", worsening_clause=True)
    assert on.doi.truth is Truth.NOT_MET and on.doi.worsened == ("mmt",) and "ON" in on.doi.text


def test_method_is_pluggable_and_named() -> None:
    def nothing_changes(measure: str, p: Pair) -> float:
        return 0.0

    r = tis.score(EXAMPLES[0][1], population="adult", method=nothing_changes)
    assert r.method == "nothing_changes" and r.tis == 0
    with pytest.raises(ValueError, match="unknown percent-change method"):
        tis.score(EXAMPLES[0][1], population="adult", method="nope")
    fold = dict(EXAMPLES[0][1])
    fold["muscle_enzyme"] = Pair(8000, 2000, baseline_uln=200, followup_uln=100)  # fold 40 → 20: 50 %
    r2 = tis.score(fold, population="adult", method="range_normalised_relative_enzyme_fold")
    assert r2.measures["muscle_enzyme"].percent_change == pytest.approx(50)


# ---------------------------------------------------------------- properties

vas = st.floats(0, 10, allow_nan=False)
haqv = st.floats(0, 3, allow_nan=False)
mmtv = st.floats(0, 80, allow_nan=False)
enzv = st.floats(1, 50000, allow_nan=False)


@st.composite
def measure_pairs(draw: st.DrawFn) -> dict[str, Pair]:
    return {
        "physician_global": Pair(draw(vas), draw(vas), 0, 10),
        "patient_global": Pair(draw(vas), draw(vas), 0, 10),
        "mmt": Pair(draw(mmtv), draw(mmtv), 0, 80),
        "haq": Pair(draw(haqv), draw(haqv), 0, 3),
        "muscle_enzyme": Pair(draw(enzv), draw(st.floats(0, 50000, allow_nan=False))),
        "extramuscular_global": Pair(draw(vas), draw(vas), 0, 10),
    }


@given(measure_pairs(), st.sampled_from(["adult", "juvenile"]))
def test_tis_lies_in_0_100(p: dict[str, Pair], pop: str) -> None:
    r = tis.score(p, population=pop)  # type: ignore[arg-type]
    assert r.tis is not None and 0 <= r.tis <= 100
    assert r.tis_min == r.tis == r.tis_max


@given(measure_pairs(), st.sampled_from(tis.MEASURES), st.floats(0, 1))
def test_improving_one_measure_never_lowers_the_tis(p: dict[str, Pair], mid: str, frac: float) -> None:
    before = tis.score(p, population="adult")
    old = p[mid]
    # higher MMT is better; every other measure improves by going down
    better = old.followup + (80 - old.followup) * frac if mid == "mmt" else old.followup * (1 - frac)
    p2 = {**p, mid: Pair(old.baseline, better, old.scale_min, old.scale_max)}
    after = tis.score(p2, population="adult")
    assert after.tis is not None and before.tis is not None
    assert after.tis >= before.tis
    assert tis.CATEGORIES.index(after.category or "none") >= tis.CATEGORIES.index(before.category or "none")


@given(measure_pairs(), st.sets(st.sampled_from(tis.MEASURES)), st.sampled_from(["adult", "juvenile", None]))
def test_the_full_tis_lies_within_the_range_of_a_partial_one(
    p: dict[str, Pair], drop: set[str], pop: str | None
) -> None:
    full = tis.score(p, population=pop)  # type: ignore[arg-type]
    part = tis.score({k: v for k, v in p.items() if k not in drop}, population=pop)  # type: ignore[arg-type]
    assert full.tis is not None
    assert part.tis_min <= full.tis <= part.tis_max
    if part.tis is not None:
        assert part.tis_min <= part.tis <= part.tis_max
    order = tis.CATEGORIES.index
    for c in {tis.category(full.tis, x) for x in ((pop,) if pop else ("adult", "juvenile"))}:  # type: ignore[arg-type]
        assert order(part.category_min) <= order(c) <= order(part.category_max)
    assert (part.tis is None) == bool(drop)
