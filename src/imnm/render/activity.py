"""Text rendering of disease activity (`imnm activity`) and the Total Improvement Score (`imnm response`).

Each renderer returns a `TableSpec` (title, headers, rows: shown as a table by the CLI and the web
pages) and renderer-neutral lines (`imnm.render.Line`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from imnm.render import Line

if TYPE_CHECKING:
    from imnm.activity.measures import Response
    from imnm.services.activity import Activity

DISCLAIMER = (
    "Decision support, not a diagnosis. Classification criteria are research tools; "
    "the treating clinician decides."
)


@dataclass(frozen=True)
class TableSpec:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{round(x, digits):g}"


def activity(result: Activity, *, plot: str | None = None) -> tuple[TableSpec | None, list[Line]]:
    """The visits table and the lines under it."""
    from imnm.activity.measures import trends

    visits, chosen = list(result.visits), result.enzyme
    if not visits:
        return None, [
            (
                "text",
                f"{result.patient_id}: no visits recorded (add visits with MMT-8, HAQ-DI and global activity).",
            )
        ]
    rows: list[tuple[str, ...]] = []
    offsets: list[str] = []
    for v in visits:
        if v.mmt is None:
            mmt = "—"
        else:
            s = v.mmt
            mmt = (
                (f"{s.total:g}" if s.total is not None else f"{s.lo:g}-{s.hi:g}")
                + f"/{s.scale}"
                + (f" {s.side[0].upper()}" if s.side else "")
                + ("" if s.source == "given total" else "*")
            )
        if v.min_proximal is None:
            prox = "—"
        elif v.min_proximal[0] == v.min_proximal[1]:
            prox = f"{v.min_proximal[0]:g}"
        else:
            prox = f"{v.min_proximal[0]:g}-{v.min_proximal[1]:g}"
        haq = "—" if v.haq is None else f"{v.haq:.2f}" + ("" if v.haq_source == "given" else "*")
        r = v.enzymes.get(chosen.test or "")
        if r is None:
            enzyme_text = "—"
        else:
            enzyme_text = f"{r.label} " + (
                f"{r.fold:.3g}" if r.fold is not None else f"{r.value:g} {r.unit} (no ULN)"
            )
            if r.offset_days:
                enzyme_text += "†"
                offsets.append(f"{v.date}: {r.where()}")
        rows.append(
            (
                v.date.isoformat(),
                mmt,
                prox,
                num(v.physician_global),
                num(v.patient_global),
                num(v.extramuscular_global),
                haq,
                enzyme_text,
            )
        )
    spec = TableSpec(
        f"{result.patient_id}: disease activity by visit",
        ("date", "MMT-8", "min prox", "PhGA", "PtGA", "EMA", "HAQ-DI", "enzyme × ULN"),
        tuple(rows),
    )
    out: list[Line] = [
        (
            "dim",
            "MMT-8: Kendall 0-10 total, side R/L/B(ilateral); min prox: lowest proximal grade; PhGA / PtGA / EMA: "
            "physician, patient and extramuscular global activity (0-10 cm); HAQ-DI 0-3; "
            "* computed from per-muscle grades or HAQ items; † lab not on the visit date:",
        )
    ]
    out += [("dim", f"  † {line}") for line in offsets]
    out.append(("text", f"Muscle enzyme followed: {chosen.test or 'none'} — {chosen.why}"))
    tr = trends(visits, chosen)
    if tr:
        out.append(("text", "Trend (first → last recorded):"))
        for x in tr:
            out.append(
                (
                    "text",
                    f"  • {x.measure}: {x.first:.3g} → {x.last:.3g}{(' ' + x.unit) if x.unit else ''} "
                    f"({x.first_date} → {x.last_date}): {x.direction}",
                )
            )
    if plot is not None:
        out.append(("text", f"Plot written to {plot}"))
    out.append(("warn", DISCLAIMER))
    return spec, out


def response(res: Response) -> tuple[TableSpec, list[Line]]:
    """The TIS measures table and the score, category, thresholds, method and notes."""
    data = res.as_dict()
    r = res.result
    rows = tuple(
        (
            m.label,
            num(m.baseline, 3),
            num(m.followup, 3),
            "—" if m.percent_change is None else f"{m.percent_change:.1f} %",
            m.band or "missing",
            ("—" if m.points is None else f"{m.points:g}") + f" / {m.max_points:g}",
        )
        for m in r.measures.values()
    )
    spec = TableSpec(
        f"{res.record_id}: Total Improvement Score, {res.baseline.date} → {res.followup.date}",
        ("measure", "baseline", "follow-up", "% change", "band", "points"),
        rows,
    )
    out: list[Line] = []
    if r.tis is not None:
        out.append(("h2", f"TIS {r.tis:g} / 100"))
    else:
        out.append(("h2", f"TIS not determined: between {r.tis_min:g} and {r.tis_max:g} (measures missing)"))
    if r.category is not None:
        out.append(("text", f"Improvement: {r.category}"))
    else:
        out.append(("text", f"Improvement: between {r.category_min} and {r.category_max}"))
    out.append(("text", f"Population: {res.population_basis}"))
    for p, th in data["thresholds"].items():
        out.append(
            (
                "dim",
                f"  {p} thresholds: minimal ≥ {th['minimal']:g}, moderate ≥ {th['moderate']:g}, major ≥ {th['major']:g}",
            )
        )
    out.append(("text", f"Percent change method (⚠️): {r.method} — {data['method_description']}"))
    out.append(
        (
            "text",
            f"{r.doi.text}: {r.doi.truth.value.replace('_', ' ')}"
            + (f" (improved ≥ 20 %: {', '.join(r.doi.improved)})" if r.doi.improved else ""),
        )
    )
    for m in r.measures.values():
        out += [("dim", f"  • {m.label}: {n}") for n in m.notes]
    out += [("dim", f"Note: {n}") for n in data["notes"]]
    out.append(("dim", f"Source: {data['source']}"))
    out.append(("warn", DISCLAIMER))
    return spec, out
