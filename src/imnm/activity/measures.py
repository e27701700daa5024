"""The IMACS core set measures of each visit, their trend, and the TIS between two visits.

Pure functions over the patient's facts (no I/O, no clock): visits are the `visit.*` facts joined by
the row they came from, enzymes the `lab.*` facts. Every ⚠️ choice is an `Options` field whose
default comes from the knowledge tables; outputs name the choices they used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from imnm.activity import enzymes as enz
from imnm.activity import tis
from imnm.core.facts import FactSource, Observation
from imnm.errors import InputError, Problem
from imnm.instruments import haq as haqmod
from imnm.instruments import mmt8 as mmtmod
from imnm.instruments.core_set import HaqItems, Mmt8

PopulationOption = Literal["auto", "adult", "juvenile"]
VAS = ("physician_global", "patient_global", "extramuscular_global")


@dataclass(frozen=True, slots=True)
class Options:
    """Documented choices (⚠️) for activity and response; `None` = the knowledge table's default."""

    method: str | None = None  # tis_2016 percent_change_method
    trace: mmtmod.TraceOption | None = None  # core_set kendall_trace_value
    window_days: int | None = None  # core_set enzyme_visit_window_days
    enzyme: str | None = None  # tis_2016 enzyme_most_abnormal_by = clinician_selected: ck, aldolase, ...
    population: PopulationOption = "auto"
    missing_rule: tis.MissingRule | None = None  # tis_2016 zero_or_missing_baseline
    worsening_clause: bool = False  # tis_2016 imacs_doi_worsening_clause (⚠️, off)

    def resolved(self) -> Options:
        return Options(
            self.method or tis.default_method(),
            self.trace or mmtmod.default_trace(),
            _default_window_days() if self.window_days is None else self.window_days,
            self.enzyme,
            self.population,
            self.missing_rule or tis.default_missing_rule(),
            self.worsening_clause,
        )

    def describe(self) -> dict[str, object]:
        r = self.resolved()
        return {
            "percent_change_method": r.method,
            "kendall_trace_value": r.trace,
            "enzyme_window_days": r.window_days,
            "enzyme_most_abnormal_by": f"clinician_selected ({r.enzyme})" if r.enzyme else "fold_of_uln",
            "population": r.population,
            "zero_or_missing_baseline": r.missing_rule,
            "imacs_doi_worsening_clause": "enabled" if r.worsening_clause else "disabled",
        }


def _default_window_days() -> int:
    from imnm.settings import default_settings

    return default_settings().enzyme_window_days


@dataclass(frozen=True, slots=True)
class VisitMeasures:
    """The core set measures of one visit (None = not recorded)."""

    index: int
    date: date
    physician_global: float | None
    patient_global: float | None
    extramuscular_global: float | None
    haq: float | None
    haq_source: str | None
    haq_notes: tuple[str, ...]
    mmt: mmtmod.Mmt8Score | None
    mmt_scores: tuple[mmtmod.Mmt8Score, ...]
    min_proximal: tuple[float, float, tuple[str, ...]] | None
    enzymes: dict[str, enz.EnzymeResult]


def _by_row(facts: FactSource, name: str) -> dict[str | None, Observation]:
    """A fact's observations keyed by the row they came from (one visit each)."""
    return {(o.ref.row if o.ref else o.source): o for o in facts.get(name) or ()}


def _num(o: Observation | None) -> float | None:
    return o.value if o is not None and isinstance(o.value, float) else None


def visit_measures(facts: FactSource, options: Options | None = None) -> list[VisitMeasures]:
    """Every visit's measures, in date order."""
    o = (options or Options()).resolved()
    rows = {k: _by_row(facts, f"visit.{k}") for k in (*VAS, "haq_di.given", "mmt8", "haq")}
    out = []
    for i, v in enumerate(facts.get("visit.date") or ()):
        if v.date is None:
            continue
        row = v.ref.row if v.ref else v.source
        haq_obs = rows["haq"].get(row)
        haq_value, haq_source = _num(rows["haq_di.given"].get(row)), None
        if haq_value is not None:
            haq_source = "given"
        haq_notes: tuple[str, ...] = ()
        if haq_obs is not None and isinstance(haq_obs.value, HaqItems):
            sc = haqmod.score(haq_obs.value)
            haq_notes = sc.notes
            if haq_value is None and sc.value is not None:
                haq_value, haq_source = sc.value, f"from items ({sc.answered} categories)"
        m_obs = rows["mmt8"].get(row)
        m = m_obs.value if m_obs is not None and isinstance(m_obs.value, Mmt8) else None
        scores = tuple(mmtmod.scores(m, o.trace)) if m else ()
        out.append(
            VisitMeasures(
                i,
                v.date,
                _num(rows["physician_global"].get(row)),
                _num(rows["patient_global"].get(row)),
                _num(rows["extramuscular_global"].get(row)),
                haq_value,
                haq_source,
                haq_notes,
                scores[0] if scores else None,
                scores,
                mmtmod.min_proximal(m, o.trace) if m else None,
                enz.at_visit(facts, v.date, o.window_days or 0),
            )
        )
    return sorted(out, key=lambda m: (m.date, m.index))


def population(facts: FactSource, option: PopulationOption = "auto") -> tuple[tis.Population | None, str]:
    """Adult or juvenile thresholds: juvenile when onset was before 18 (or as chosen)."""
    if option != "auto":
        return option, f"{option} (chosen)"
    obs = facts.get("age_at_onset")
    age = obs[0].value if obs and isinstance(obs[0].value, float) else None
    if age is None:
        return None, "unknown: age at onset not known (give birth_date and symptom_onset, or age_at_onset)"
    if age < 18:
        return "juvenile", f"juvenile: onset at age {age:g} (before 18)"
    return "adult", f"adult: onset at age {age:g}"


# ---------------------------------------------------------------- followed enzyme


@dataclass(frozen=True, slots=True)
class FollowedEnzyme:
    test: str | None
    why: str


def followed_enzyme(first: VisitMeasures | None, o: Options) -> FollowedEnzyme:
    """The enzyme to follow: the most abnormal at baseline (by fold over ULN), or the chosen one."""
    if first is None:
        return FollowedEnzyme(None, "no visits")
    if o.enzyme:
        return FollowedEnzyme(
            o.enzyme, f"{o.enzyme} chosen by the clinician (choice enzyme_most_abnormal_by)"
        )
    top, why = enz.most_abnormal(first.enzymes)
    return FollowedEnzyme(top.test if top else None, why)


# ---------------------------------------------------------------- response (TIS)


@dataclass(frozen=True, slots=True)
class Response:
    record_id: str
    baseline: VisitMeasures
    followup: VisitMeasures
    result: tis.TisResult
    population_basis: str
    enzyme: FollowedEnzyme
    options: Options

    def as_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "id": self.record_id,
            "baseline_date": self.baseline.date,
            "followup_date": self.followup.date,
            "tis": r.tis,
            "tis_min": r.tis_min,
            "tis_max": r.tis_max,
            "category": r.category,
            "category_min": r.category_min,
            "category_max": r.category_max,
            "population": r.population,
            "population_basis": self.population_basis,
            "thresholds": {
                p: tis.thresholds(p) for p in ((r.population,) if r.population else ("adult", "juvenile"))
            },
            "method": r.method,
            "method_mark": "⚠️",
            "method_description": tis.method_description(r.method),
            "missing_rule": r.missing_rule,
            "measures": {
                k: {
                    "label": m.label,
                    "baseline": m.baseline,
                    "followup": m.followup,
                    "percent_change": None if m.percent_change is None else round(m.percent_change, 4),
                    "band": m.band,
                    "points": m.points,
                    "max_points": m.max_points,
                    "notes": list(m.notes),
                }
                for k, m in r.measures.items()
            },
            "imacs_doi": {
                "truth": r.doi.truth.value,
                "improved": list(r.doi.improved),
                "unknown": list(r.doi.unknown),
                "worsening_clause": r.doi.worsening_clause,
                "worsened": list(r.doi.worsened),
                "definition": r.doi.text,
            },
            "followed_enzyme": {"test": self.enzyme.test, "why": self.enzyme.why},
            "notes": [*r.notes, _imnm_note()],
            "choices": self.options.describe(),
            "source": _source(),
        }


def _imnm_note() -> str:
    return (
        "The 2016 ACR/EULAR criteria were developed for adult DM/PM and juvenile DM; applied to IMNM "
        "by extension (⚠️ choice use_in_imnm: no IMNM-specific thresholds found)"
    )


def _source() -> str:
    from imnm import knowledge

    return knowledge.source_line("tis_2016")


def _pick(visits: list[VisitMeasures], day: date | None, which: str, default: VisitMeasures) -> VisitMeasures:
    if day is None:
        return default
    for v in visits:
        if v.date == day:
            return v
    dates = ", ".join(v.date.isoformat() for v in visits)
    raise InputError(
        [
            Problem(
                f"--{which}",
                f"no visit on {day.isoformat()}",
                f"use one of the visit dates: {dates}",
                value=str(day),
            )
        ],
        what="command line",
    )


def _mmt_pair(b: VisitMeasures, f: VisitMeasures) -> tuple[tis.Pair | None, tuple[str, ...]]:
    if b.mmt is None or f.mmt is None:
        return None, (
            "MMT-8 not recorded at " + " and ".join(x.date.isoformat() for x in (b, f) if x.mmt is None),
        )
    order = [b.mmt.scale] + [s.scale for s in b.mmt_scores if s.scale != b.mmt.scale]
    for scale in order:
        sb = next((s for s in b.mmt_scores if s.scale == scale), None)
        sf = next((s for s in f.mmt_scores if s.scale == scale), None)
        if sb is None or sf is None:
            continue
        notes = [f"/{scale}: baseline {sb.source}, follow-up {sf.source}"]
        notes += [f"baseline: {n}" for n in sb.notes] + [f"follow-up: {n}" for n in sf.notes]
        if sb.total is None or sf.total is None:
            return None, (*notes, "not computable: a total is only known as a range (ungraded groups)")
        if scale == 150:
            notes.append("maximum 150 for bilateral MMT-8 is ⚠️ derived (choice bilateral_mmt8_max)")
        return tis.Pair(sb.total, sf.total, 0.0, float(scale)), tuple(notes)
    return None, (
        f"MMT-8 on /{b.mmt.scale} at baseline and /{f.mmt.scale} at follow-up: no conversion between these scales is defined",
    )


def _enzyme_pair(
    facts: FactSource, b: VisitMeasures, f: VisitMeasures, chosen: FollowedEnzyme, o: Options
) -> tuple[tis.Pair | None, tuple[str, ...]]:
    if chosen.test is None:
        return None, (chosen.why,)
    rb = enz.nearest(facts, chosen.test, b.date, o.window_days or 0)
    rf = enz.nearest(facts, chosen.test, f.date, o.window_days or 0)
    window = f"within {o.window_days} days" if o.window_days else "on the visit date"
    notes = [chosen.why]
    if rb is None or rf is None:
        for r, v, w in ((rb, b, "baseline"), (rf, f, "follow-up")):
            if r is None:
                notes.append(f"no {chosen.test} result {window} of the {w} visit ({v.date.isoformat()})")
        return None, tuple(notes)
    notes += [f"baseline: {rb.where()} ({rb.given})", f"follow-up: {rf.where()} ({rf.given})"]
    return tis.Pair(rb.value, rf.value, baseline_uln=rb.uln, followup_uln=rf.uln), tuple(notes)


def response(
    facts: FactSource,
    *,
    patient_id: str,
    start: date | None = None,
    end: date | None = None,
    options: Options | None = None,
) -> Response:
    """The TIS between two visits (default: first and last)."""
    o = (options or Options()).resolved()
    visits = visit_measures(facts, o)
    if len(visits) < 2:
        raise InputError(
            [
                Problem(
                    "visits",
                    f"the TIS compares two visits; the record has {len(visits)}",
                    "add a baseline and a follow-up visit with the core set measures",
                )
            ],
            what=f"record {patient_id}",
        )
    b = _pick(visits, start, "from", visits[0])
    f = _pick(visits, end, "to", visits[-1])
    if f.date <= b.date:
        raise InputError(
            [
                Problem(
                    "--to", f"follow-up {f.date} is not after baseline {b.date}", "choose a later --to date"
                )
            ],
            what="command line",
        )
    pairs: dict[str, tis.Pair | None] = {}
    notes: dict[str, tuple[str, ...]] = {}
    for mid in VAS:
        vb, vf = getattr(b, mid), getattr(f, mid)
        lo_hi = tis.scale_range(mid)
        assert lo_hi is not None
        pairs[mid] = None if vb is None or vf is None else tis.Pair(vb, vf, *lo_hi)
        if pairs[mid] is None:
            notes[mid] = ("not recorded at both visits",)
        elif mid == "extramuscular_global":
            notes[mid] = ("single 0-10 cm extramuscular VAS ⚠️ (clinical.md §4.4)",)
    haq_range = tis.scale_range("haq")
    assert haq_range is not None
    pairs["haq"] = None if b.haq is None or f.haq is None else tis.Pair(b.haq, f.haq, *haq_range)
    notes["haq"] = (
        ("not recorded at both visits",)
        if pairs["haq"] is None
        else tuple(
            f"{w}: HAQ-DI {v.haq_source}"
            for w, v in (("baseline", b), ("follow-up", f))
            if v.haq_source != "given"
        )
    )
    pairs["mmt"], notes["mmt"] = _mmt_pair(b, f)
    chosen = followed_enzyme(b, o)
    pairs["muscle_enzyme"], notes["muscle_enzyme"] = _enzyme_pair(facts, b, f, chosen, o)
    pop, basis = population(facts, o.population)
    result = tis.score(
        pairs,
        population=pop,
        method=o.method,
        missing_rule=o.missing_rule,
        worsening_clause=o.worsening_clause,
        notes=notes,
    )
    return Response(patient_id, b, f, result, basis, chosen, o)


# ---------------------------------------------------------------- activity (every visit, trend)


@dataclass(frozen=True, slots=True)
class Trend:
    measure: str
    first: float
    last: float
    first_date: date
    last_date: date
    direction: str  # better / worse / unchanged
    unit: str = ""
    notes: tuple[str, ...] = field(default=())


def _direction(first: float, last: float, higher_is_better: bool) -> str:
    if abs(last - first) < 1e-9:
        return "unchanged"
    return "better" if (last > first) == higher_is_better else "worse"


def trends(visits: list[VisitMeasures], chosen: FollowedEnzyme) -> list[Trend]:
    """First and last recorded value of each measure, and which way it moved."""
    out: list[Trend] = []
    series: dict[str, list[tuple[date, float]]] = {}
    for v in visits:
        for mid in (*VAS, "haq"):
            val = getattr(v, mid)
            if val is not None:
                series.setdefault(mid, []).append((v.date, val))
    for mid, pts in series.items():
        if len(pts) >= 2:
            out.append(
                Trend(
                    mid,
                    pts[0][1],
                    pts[-1][1],
                    pts[0][0],
                    pts[-1][0],
                    _direction(pts[0][1], pts[-1][1], False),
                )
            )
    first_scale = next((v.mmt.scale for v in visits if v.mmt is not None), None)
    if first_scale is not None:
        mm = [
            (v.date, s.total)
            for v in visits
            for s in v.mmt_scores
            if s.scale == first_scale and s.total is not None
        ]
        if len(mm) >= 2:
            out.append(
                Trend(
                    "mmt8",
                    mm[0][1],
                    mm[-1][1],
                    mm[0][0],
                    mm[-1][0],
                    _direction(mm[0][1], mm[-1][1], True),
                    f"/{first_scale}",
                )
            )
    if chosen.test:
        ef = [(v.date, r.fold) for v in visits if (r := v.enzymes.get(chosen.test)) and r.fold is not None]
        if len(ef) >= 2:
            out.append(
                Trend(
                    f"{chosen.test}_fold",
                    ef[0][1],
                    ef[-1][1],
                    ef[0][0],
                    ef[-1][0],
                    _direction(ef[0][1], ef[-1][1], False),
                    "xULN",
                )
            )
    return out


def activity_dict(
    patient_id: str, visits: list[VisitMeasures], chosen: FollowedEnzyme, o: Options
) -> dict[str, Any]:
    def mmt(s: mmtmod.Mmt8Score) -> dict[str, Any]:
        return {
            "total": s.total,
            "lo": s.lo,
            "hi": s.hi,
            "scale": s.scale,
            "side": s.side,
            "source": s.source,
            "notes": list(s.notes),
        }

    return {
        "id": patient_id,
        "visits": [
            {
                "date": v.date,
                "physician_global": v.physician_global,
                "patient_global": v.patient_global,
                "extramuscular_global": v.extramuscular_global,
                "haq_di": None
                if v.haq is None
                else {"value": round(v.haq, 4), "source": v.haq_source, "notes": list(v.haq_notes)},
                "mmt8": [mmt(s) for s in v.mmt_scores],
                "mmt8_min_proximal_grade": None
                if v.min_proximal is None
                else {"lo": v.min_proximal[0], "hi": v.min_proximal[1], "notes": list(v.min_proximal[2])},
                "enzymes": {
                    t: {
                        "value": r.value,
                        "unit": r.unit,
                        "given": r.given,
                        "uln": r.uln,
                        "fold": None if r.fold is None else round(r.fold, 3),
                        "lab_date": r.lab_date,
                        "offset_days": r.offset_days,
                        "where": r.where(),
                        "source": r.source,
                    }
                    for t, r in v.enzymes.items()
                },
            }
            for v in visits
        ],
        "followed_enzyme": {"test": chosen.test, "why": chosen.why},
        "trend": [
            {
                "measure": t.measure,
                "first": t.first,
                "last": t.last,
                "first_date": t.first_date,
                "last_date": t.last_date,
                "direction": t.direction,
                "unit": t.unit,
            }
            for t in trends(visits, chosen)
        ],
        "choices": o.describe(),
    }
