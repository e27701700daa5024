"""Derived facts of the work-up, registered on the shared fact vocabulary.

Contract (trial criteria are written against these names):

- `antibody.HMGCR.positive`, `antibody.SRP.positive` (bool): confirmed positive (True), negative
  (False); unknown when not tested, borderline or unconfirmed (weak line-blot-only) — `needs` then
  names the antibody test or the second-method test.
- `antibody.HMGCR.second_method`, `antibody.SRP.second_method` (enum): results by a confirmatory
  method (immunoprecipitation, tissue IIF).
- `lab.tsh.fold` (×ULN): TSH over the reporting lab's upper limit.
- `enmc.subtype` (enum anti_hmgcr_myopathy | anti_srp_myopathy | antibody_negative_imnm | not_imnm),
  unknown when undecided; `enmc.imnm` (bool) meets any ENMC 224 subtype.
- `eular_acr.score` (number; a `NumRange` when items are unknown), `eular_acr.probability` (%, same),
  `eular_acr.category` (enum not_iim | possible | probable | definite; known only when the range
  has one category), `eular_acr.classified_as_iim` (bool), `eular_acr.subgroup` (enum).

All are monotone — recording more facts only narrows a range or settles an unknown — with one
documented exception: following worked example N1 (clinical.md §2.2), a confirmed antibody assigns
its subtype even when the other antibody was never tested, so if the other antibody later turns out
positive too, the default choice `both_antibodies_positive=flag_for_review` withdraws the subtype
(`enmc.subtype` becomes unknown, `enmc.imnm` stays true). With `hmgcr_first` there is no exception.
"""

from __future__ import annotations

from collections.abc import Callable

from imnm.core.facts import FactSpec, NumRange, Observation
from imnm.record.facts import REGISTRY, Context
from imnm.record.model import Record

Obs = tuple[Observation, ...] | None

SUBTYPE_VALUES = ("anti_hmgcr_myopathy", "anti_srp_myopathy", "antibody_negative_imnm", "not_imnm")
CATEGORY_VALUES = ("not_iim", "possible", "probable", "definite")
SUBGROUP_VALUES = ("PM", "IBM", "DM", "ADM", "JDM", "juvenile_other")


def _ws(ctx: Context):  # type: ignore[no-untyped-def]
    from imnm.workup.settings import workup_settings

    return workup_settings(ctx.settings)


def _core(rec: Record, ctx: Context):  # type: ignore[no-untyped-def]
    from imnm.workup.core import core

    return core(rec, ctx.as_of, ctx.settings)


# ------------------------------------------------------------------ antibodies

for _target, _test in (("HMGCR", "anti_hmgcr"), ("SRP", "anti_srp")):

    def _positive(rec: Record, ctx: Context, _t: str = _target) -> Obs:
        from imnm.workup.antibodies import target_status

        st = target_status(rec, _t, _ws(ctx))
        if st.positive is None:
            return None
        used = [r for r in st.readings if (r.result == "positive") == st.positive]
        src = ", ".join(f"antibodies[{r.index}]" for r in used) or "antibodies"
        return (Observation(st.positive, None, src, f"status {st.status}"),)

    def _positive_needs(rec: Record, ctx: Context, _t: str = _target) -> tuple[str, ...]:
        from imnm.workup.antibodies import target_status

        st = target_status(rec, _t, _ws(ctx))
        if st.status is None:
            return (f"antibody.{_t}",)
        return (f"antibody.{_t}.second_method",)

    def _second(rec: Record, ctx: Context, _t: str = _target) -> Obs:
        from imnm.workup.antibodies import readings

        rs = [r for r in readings(rec, _t, _ws(ctx)) if r.confirmatory]
        return tuple(Observation(r.result, r.date, f"antibodies[{r.index}]", r.method) for r in rs) or None

    REGISTRY.register(
        FactSpec(
            f"antibody.{_target}.positive",
            "bool",
            f"anti-{_target} positive (confirmed)",
            f"anti-{_target} antibody (blood test; a weak line-blot band needs a second method)",
            _test,
            description="True: confirmed positive; False: negative; unknown: not tested, borderline or unconfirmed",
            resolve=_positive,
            needs=_positive_needs,
        )
    )
    REGISTRY.register(
        FactSpec(
            f"antibody.{_target}.second_method",
            "enum",
            f"anti-{_target} by a second (confirmatory) method",
            f"anti-{_target} by immunoprecipitation or tissue immunofluorescence (blood test)",
            "antibody_second_method",
            values=("positive", "negative", "borderline"),
            dated=True,
            resolve=_second,
        )
    )


def _tsh_fold(rec: Record, ctx: Context) -> Obs:
    if not rec.labs:
        return None
    out = tuple(
        Observation(round(lab.value / lab.uln, 3), lab.date, f"labs[{i}]")
        for i, lab in enumerate(rec.labs)
        if lab.test == "tsh" and lab.uln
    )
    return out or None


REGISTRY.register(
    FactSpec(
        "lab.tsh.fold",
        "number",
        "TSH × upper limit of normal",
        "thyroid function (TSH blood test) with the lab's upper limit of normal",
        "tsh",
        unit="xULN",
        dated=True,
        resolve=_tsh_fold,
    )
)


# ------------------------------------------------------------------ ENMC 224


def _enmc_needs(rec: Record, ctx: Context) -> tuple[str, ...]:
    e = _core(rec, ctx).enmc
    return tuple(dict.fromkeys(m.fact for m in e.missing))


def _enmc_subtype(rec: Record, ctx: Context) -> Obs:
    e = _core(rec, ctx).enmc
    if e.subtype is None:
        return None
    return (Observation(e.subtype, None, "ENMC 224 (imnm assess)", e.status),)


def _enmc_imnm(rec: Record, ctx: Context) -> Obs:
    e = _core(rec, ctx).enmc
    if e.imnm is None:
        return None
    return (Observation(e.imnm, None, "ENMC 224 (imnm assess)", e.classification),)


REGISTRY.register(
    FactSpec(
        "enmc.subtype",
        "enum",
        "ENMC 224 IMNM subtype",
        "ENMC 224 work-up (CK, strength exam, anti-HMGCR, anti-SRP, biopsy when antibody-negative)",
        "muscle_biopsy",
        values=SUBTYPE_VALUES,
        resolve=_enmc_subtype,
        needs=_enmc_needs,
    )
)
REGISTRY.register(
    FactSpec(
        "enmc.imnm",
        "bool",
        "meets an ENMC 224 IMNM subtype",
        "ENMC 224 work-up (CK, strength exam, anti-HMGCR, anti-SRP, biopsy when antibody-negative)",
        "muscle_biopsy",
        resolve=_enmc_imnm,
        needs=_enmc_needs,
    )
)


# ------------------------------------------------------------------ EULAR/ACR 2017


def _eular_needs(rec: Record, ctx: Context) -> tuple[str, ...]:
    u = _core(rec, ctx).eular
    names: list[str] = []
    for it in u.items.values():
        if it.truth.value == "unknown":
            names.extend(m.fact for m in it.outcome.missing)
    if u.biopsy_status is None:
        names.append("biopsy.performed")
    names.extend(m.fact for m in u.subgroup_missing)
    return tuple(dict.fromkeys(names))


def _ranged(lo: float, hi: float, source: str, needs: Callable[[], tuple[str, ...]]) -> Obs:
    if lo == hi:
        return (Observation(lo, None, source),)
    return (Observation(NumRange(lo, hi), None, source, "range over the unknown items", needs()),)


def _score(rec: Record, ctx: Context) -> Obs:
    u = _core(rec, ctx).eular
    return _ranged(u.score_min, u.score_max, f"EULAR/ACR 2017 ({u.version})", lambda: _eular_needs(rec, ctx))


def _probability(rec: Record, ctx: Context) -> Obs:
    u = _core(rec, ctx).eular
    lo, hi = round(100 * u.probability_min, 2), round(100 * u.probability_max, 2)
    return _ranged(lo, hi, f"EULAR/ACR 2017 ({u.version})", lambda: _eular_needs(rec, ctx))


def _category(rec: Record, ctx: Context) -> Obs:
    u = _core(rec, ctx).eular
    cat = u.category_known
    return (
        None
        if cat is None
        else (Observation(cat, None, f"EULAR/ACR 2017 ({u.version})", u.ws.category_basis),)
    )


def _classified(rec: Record, ctx: Context) -> Obs:
    u = _core(rec, ctx).eular
    b = u.classified.as_bool()
    return (
        None
        if b is None
        else (Observation(b, None, "EULAR/ACR 2017", f"skin-or-biopsy rule {u.rule.value}"),)
    )


def _subgroup(rec: Record, ctx: Context) -> Obs:
    u = _core(rec, ctx).eular
    return (
        None if u.subgroup is None else (Observation(u.subgroup, None, "EULAR/ACR 2017 subgroup tree", "⚠️"),)
    )


_EULAR_ASK = "EULAR/ACR 2017 items (history, strength and skin exam, muscle enzymes, anti-Jo-1, biopsy)"
for _name, _kind, _label, _unit, _values, _fn in (
    ("eular_acr.score", "number", "EULAR/ACR 2017 score", None, None, _score),
    ("eular_acr.probability", "number", "EULAR/ACR 2017 probability of IIM", "%", None, _probability),
    ("eular_acr.category", "enum", "EULAR/ACR 2017 category", None, CATEGORY_VALUES, _category),
    ("eular_acr.classified_as_iim", "bool", "classified as IIM (EULAR/ACR 2017)", None, None, _classified),
    ("eular_acr.subgroup", "enum", "EULAR/ACR 2017 subgroup", None, SUBGROUP_VALUES, _subgroup),
):
    REGISTRY.register(
        FactSpec(
            _name,
            _kind,  # type: ignore[arg-type]
            _label,
            _EULAR_ASK,
            "strength_exam",
            unit=_unit,
            values=_values,
            resolve=_fn,
            needs=_eular_needs,
        )
    )
