"""The activity chart: CK (× ULN, log scale) and MMT-8 over time, with treatment starts marked, as SVG.

One function, `activity_chart(data)`, draws it as a self-contained SVG string for the printable
reports and the web pages alike (no JavaScript, no external fonts or styles). It is plain Python,
deterministic byte for byte for the same data (fixed number formats, no random ids, no clock), and
readable in print: DejaVu Sans text at 12 px on a 680 px wide drawing (about 9 pt on an A4 page),
markers of different shapes and dash patterns, not colour alone.

Long follow-up stays readable: the date axis gets at most `MAX_X_TICKS` labels on a calendar step
(days, months or years) chosen so that labels never overlap, markers shrink when there are many
results, and treatment starts are numbered at the top with a legend underneath (names inline when
they fit). `<title>` and `<desc>` (referenced by `aria-labelledby`) say what the chart shows in
words, for screen readers and for anyone who cannot see it.

`chart_data(activity)` reads the series from an activity result (`imnm.services.activity`): every
dated CK fold over ULN (the `lab.ck.fold` fact, so the default-ULN choice applies and an assumed
ULN shows as a range), every visit's MMT-8 totals by scale, and the first start of each treatment
(and each restart after a gap) from the medication facts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

if TYPE_CHECKING:
    from imnm.core.facts import FactSource
    from imnm.services.activity import Activity

WIDTH = 680
FONT = "DejaVu Sans, Verdana, sans-serif"
FONT_SIZE = 12
CHAR_W = 0.62 * FONT_SIZE  # a generous average glyph width for DejaVu Sans at FONT_SIZE
MAX_X_TICKS = 8
LEFT, RIGHT = 64, 16
CK_H, MMT_H, GAP = 170, 120, 26
LANE_H = 16
CK_COLOUR, MMT_COLOURS = "#b2182b", ("#2166ac", "#4d4d4d", "#1b7837")
TREAT_COLOUR = "#5e3c99"
# Medication classes that are exposures of the history, not treatments (shown in the work-up instead).
NOT_TREATMENTS = ("statin", "red_yeast_rice", "oyster_mushrooms")


@dataclass(frozen=True)
class CkPoint:
    """One CK result as a fold over ULN: `lo == hi` for a reported ULN, a range when it was assumed."""

    day: date
    lo: float
    hi: float


@dataclass(frozen=True)
class MmtPoint:
    day: date
    total: float
    scale: int


@dataclass(frozen=True)
class TreatmentMark:
    day: date
    label: str  # e.g. "prednisone"


@dataclass(frozen=True)
class ChartData:
    ck: tuple[CkPoint, ...]
    mmt: tuple[MmtPoint, ...]
    treatments: tuple[TreatmentMark, ...]
    title: str = ""


# ---------------------------------------------------------------- data


def treatment_starts(facts: FactSource) -> tuple[TreatmentMark, ...]:
    """The first start of every treatment in the medication list, and each restart after a gap.

    A row that starts the day after (or before) the previous row of the same drug stopped is a dose
    change (a taper), not a new start. Exposures of the history (statins, red yeast rice) are left out.
    """
    from imnm.core.facts import Interval
    from imnm.knowledge.lookups import medication_classes

    rows: dict[str, tuple[str, date, date | None]] = {}  # row -> (drug, start, stop)
    for key in medication_classes():
        if key in NOT_TREATMENTS:
            continue
        for o in facts.get(f"medication.{key}") or ():
            v = o.value
            if not isinstance(v, Interval) or v.start is None:
                continue
            row = (o.ref.row if o.ref else None) or o.source or f"{key}:{v.start}"
            drug = (o.note or (o.raw.text if o.raw else None) or key).strip().lower()
            rows.setdefault(row, (drug, v.start, v.stop))
    by_drug: dict[str, list[tuple[date, date | None]]] = {}
    for drug, start, stop in rows.values():
        by_drug.setdefault(drug, []).append((start, stop))
    marks: list[TreatmentMark] = []
    for drug, spans in by_drug.items():
        spans.sort(key=lambda s: s[0])
        prev_end: date | None = None  # date.max: still ongoing
        for i, (start, stop) in enumerate(spans):
            gap = prev_end is not None and prev_end != date.max and start > prev_end + timedelta(days=1)
            if i == 0 or gap:
                marks.append(TreatmentMark(start, drug))
            end = date.max if stop is None else stop
            prev_end = end if prev_end is None or gap else max(prev_end, end)
    return tuple(sorted(marks, key=lambda m: (m.day, m.label)))


def chart_data(result: Activity, *, title: str | None = None) -> ChartData:
    """The chart's series from an activity result (its facts and visits)."""
    from imnm.activity.plot import ck_series

    ck = tuple(CkPoint(d, lo, hi) for d, lo, hi in ck_series(result.facts))  # type: ignore[arg-type]
    primary = sorted({v.mmt.scale for v in result.visits if v.mmt is not None})
    mmt: list[MmtPoint] = []
    for v in result.visits:
        for s in v.mmt_scores:
            if s.total is not None and (not primary or s.scale in primary):
                mmt.append(MmtPoint(v.date, float(s.total), int(s.scale)))
    return ChartData(
        ck, tuple(mmt), treatment_starts(result.facts), result.patient_id if title is None else title
    )


# ---------------------------------------------------------------- drawing helpers


def _f(x: float) -> str:
    """A coordinate with one decimal (fixed format: the same bytes every time)."""
    s = f"{x:.1f}"
    return "0" if s == "-0.0" else s.removesuffix(".0")


def _num(x: float) -> str:
    return f"{x:.3g}" if x < 1000 else f"{x:,.0f}"


def _text(
    x: float, y: float, s: str, *, anchor: str = "start", size: int = FONT_SIZE, extra: str = ""
) -> str:
    a = "" if anchor == "start" else f' text-anchor="{anchor}"'
    sz = "" if size == FONT_SIZE else f' font-size="{size}"'
    return f'<text x="{_f(x)}" y="{_f(y)}"{a}{sz}{extra}>{escape(s)}</text>'


def _text_width(s: str, size: int = FONT_SIZE) -> float:
    return len(s) * 0.62 * size


def _add_months(d: date, months: int) -> date:
    m = d.month - 1 + months
    return date(d.year + m // 12, m % 12 + 1, 1)


def date_ticks(
    start: date, end: date, width_px: float, max_ticks: int = MAX_X_TICKS
) -> list[tuple[date, str]]:
    """Calendar ticks between `start` and `end` whose labels fit without overlapping."""
    span = max((end - start).days, 1)
    candidates: list[tuple[str, int]] = [
        ("day", 1),
        ("day", 2),
        ("day", 7),
        ("day", 14),
        ("month", 1),
        ("month", 2),
        ("month", 3),
        ("month", 6),
        ("year", 1),
        ("year", 2),
        ("year", 5),
        ("year", 10),
        ("year", 20),
        ("year", 50),
    ]
    for unit, step in candidates:
        approx_days = {"day": 1, "month": 30.44, "year": 365.25}[unit] * step
        n = span / approx_days
        label_len = {"day": 10, "month": 7, "year": 4}[unit]
        px_per_tick = width_px / max(n, 1)
        if n + 1 <= max_ticks and px_per_tick >= _text_width("0" * label_len) + 12:
            break
    ticks: list[tuple[date, str]] = []
    if unit == "day":
        d = start
        while d <= end:
            ticks.append((d, d.isoformat()))
            d += timedelta(days=step)
    elif unit == "month":
        d = date(start.year, start.month, 1)
        if d < start:
            d = _add_months(d, 1)
        while (d.month - 1) % step:
            d = _add_months(d, 1)
        while d <= end:
            ticks.append((d, f"{d.year}-{d.month:02d}"))
            d = _add_months(d, step)
    else:
        y = start.year + (1 if (start.month, start.day) != (1, 1) else 0)
        y += (-y) % step
        while date(y, 1, 1) <= end:
            ticks.append((date(y, 1, 1), str(y)))
            y += step
    return ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    """Ticks for a log axis: every decade, and 2 and 5 between them when the axis spans few decades."""
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    subs = (1, 2, 5) if b - a <= 3 else (1,)
    return [m * 10**e for e in range(a, b + 1) for m in subs if lo <= m * 10**e <= hi]


# ---------------------------------------------------------------- the chart


def activity_chart(data: ChartData, *, id_prefix: str = "activity-chart", width: int = WIDTH) -> str:
    """The chart as an SVG document fragment (an `<svg>` element), deterministic for the same data."""
    plot_w = width - LEFT - RIGHT
    marks = sorted(data.treatments, key=lambda m: (m.day, m.label))
    days = [p.day for p in data.ck] + [p.day for p in data.mmt] + [m.day for m in marks]
    if days:
        d0, d1 = min(days), max(days)
    else:
        d0 = d1 = date(2000, 1, 1)
    if d0 == d1:
        d0, d1 = d0 - timedelta(days=15), d1 + timedelta(days=15)
    pad = max(2, round((d1 - d0).days * 0.03))
    x0, x1 = d0 - timedelta(days=pad), d1 + timedelta(days=pad)
    span = (x1 - x0).days

    def x(d: date) -> float:
        return LEFT + plot_w * (d - x0).days / span

    # treatment labels: names in two lanes when they fit, else numbers (the legend names them)
    use_names = True
    lanes_end: list[list[float]] = [[], []]
    placed: list[tuple[float, int, str]] = []
    for attempt in ("names", "numbers"):
        placed, lanes_end = [], [[], []]
        ok = True
        for i, m in enumerate(marks, start=1):
            label = m.label if attempt == "names" else str(i)
            w = _text_width(label, 11) + 6
            px = x(m.day)
            lane = next(
                (k for k in range(2) if not lanes_end[k] or lanes_end[k][-1] <= px),
                None,
            )
            if lane is None or px + w > width:
                if attempt == "numbers":
                    # numbers never give up: shift into the lane that frees first
                    lane = min(range(2), key=lambda k: lanes_end[k][-1] if lanes_end[k] else 0)
                    px = max(px, lanes_end[lane][-1] if lanes_end[lane] else px)
                else:
                    ok = False
                    break
            lanes_end[lane].append(px + w)
            placed.append((px, lane, label))
        if ok:
            use_names = attempt == "names"
            break
    lanes = 0 if not marks else 1 + max(lane for _, lane, _ in placed)
    top = 30 + lanes * LANE_H + (8 if marks else 0)
    ck_top, ck_bot = top, top + CK_H
    mmt_top = ck_bot + GAP
    mmt_bot = mmt_top + MMT_H
    axis_y = mmt_bot + 18
    key_y = axis_y + 22
    legend_top = key_y + 24
    legend_rows = 0
    col_w = 0.0
    cols = 1
    if marks:
        entries = [f"{i} {m.day.isoformat()} {m.label}" for i, m in enumerate(marks, start=1)]
        col_w = max(_text_width(e, 11) for e in entries) + 18
        cols = max(1, int((width - LEFT) // col_w))
        legend_rows = math.ceil(len(marks) / cols)
    height = int(legend_top + legend_rows * 15 + 4) if marks else int(key_y + 10)

    out: list[str] = []
    tid, did = f"{id_prefix}-title", f"{id_prefix}-desc"
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="activity-chart" role="img" '
        f'aria-labelledby="{tid} {did}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family={quoteattr(FONT)} font-size="{FONT_SIZE}">'
    )
    title = "CK and MMT-8 over time" + (f": {data.title}" if data.title else "")
    out.append(f'<title id="{tid}">{escape(title)}</title>')
    out.append(f'<desc id="{did}">{escape(describe(data))}</desc>')
    out.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>')
    out.append(_text(LEFT, 16, title, size=13, extra=' font-weight="bold"'))

    # x grid and labels
    ticks = date_ticks(x0, x1, plot_w)
    out.append('<g class="x-axis" stroke="#d9d9d9" stroke-width="1">')
    for d, _label in ticks:
        out.append(f'<line x1="{_f(x(d))}" y1="{ck_top}" x2="{_f(x(d))}" y2="{mmt_bot}"/>')
    out.append("</g>")
    out.append('<g class="x-labels" fill="#000000">')
    for d, label in ticks:
        out.append(_text(x(d), axis_y, label, anchor="middle"))
    out.append("</g>")

    key: list[tuple[str, str, str]] = []
    # CK panel (log scale)
    out.append(
        f'<g class="ck-panel"><rect x="{LEFT}" y="{ck_top}" width="{plot_w}" height="{CK_H}" fill="none" stroke="#000000"/>'
    )
    out.append(
        _text(
            14,
            (ck_top + ck_bot) / 2,
            "CK × ULN (log)",
            anchor="middle",
            extra=f' transform="rotate(-90 14 {_f((ck_top + ck_bot) / 2)})"',
        )
    )
    if data.ck:
        lo = min(min(p.lo for p in data.ck), 1.0) / 1.6
        hi = max(max(p.hi for p in data.ck), 1.0) * 1.6
        la, lb = math.log10(lo), math.log10(hi)

        def yck(v: float) -> float:
            return ck_bot - CK_H * (math.log10(v) - la) / (lb - la)

        for t in log_ticks(lo, hi):
            out.append(
                f'<line x1="{LEFT - 4}" y1="{_f(yck(t))}" x2="{LEFT}" y2="{_f(yck(t))}" stroke="#000000"/>'
            )
            out.append(_text(LEFT - 6, yck(t) + 4, f"{t:g}", anchor="end"))
        out.append(
            f'<line class="uln" x1="{LEFT}" y1="{_f(yck(1))}" x2="{LEFT + plot_w}" y2="{_f(yck(1))}" '
            'stroke="#737373" stroke-dasharray="6 4"/>'
        )
        out.append(
            _text(LEFT + plot_w - 4, yck(1) - 4, "ULN", anchor="end", size=11, extra=' fill="#525252"')
        )
        mids = [(c, math.sqrt(c.lo * c.hi)) for c in data.ck]
        pts = " ".join(f"{_f(x(c.day))},{_f(yck(mid))}" for c, mid in mids)
        out.append(
            f'<polyline class="ck-line" points="{pts}" fill="none" stroke="{CK_COLOUR}" stroke-width="1.5"/>'
        )
        r = 3.5 if len(mids) <= 40 else (2.5 if len(mids) <= 100 else 1.8)
        out.append(f'<g class="ck-points" fill="{CK_COLOUR}" stroke="{CK_COLOUR}">')
        for c, mid in mids:
            if c.hi > c.lo:
                out.append(
                    f'<line x1="{_f(x(c.day))}" y1="{_f(yck(c.lo))}" x2="{_f(x(c.day))}" y2="{_f(yck(c.hi))}" '
                    'stroke-width="2" opacity="0.6"/>'
                )
                out.append(f'<circle cx="{_f(x(c.day))}" cy="{_f(yck(mid))}" r="{r}" fill="#ffffff"/>')
            else:
                out.append(f'<circle cx="{_f(x(c.day))}" cy="{_f(yck(mid))}" r="{r}"/>')
        out.append("</g>")
        key.append(("●", "CK × ULN", CK_COLOUR))
        if any(p.hi > p.lo for p in data.ck):
            key.append(("┃", "CK range (ULN not reported)", CK_COLOUR))
        key.append(("- -", "upper limit of normal", "#737373"))
    else:
        out.append(
            _text(LEFT + plot_w / 2, (ck_top + ck_bot) / 2, "no dated CK results with a ULN", anchor="middle")
        )
    out.append("</g>")

    # MMT-8 panel
    scales = sorted({p.scale for p in data.mmt})
    out.append(
        f'<g class="mmt-panel"><rect x="{LEFT}" y="{mmt_top}" width="{plot_w}" height="{MMT_H}" fill="none" stroke="#000000"/>'
    )
    out.append(
        _text(
            14,
            (mmt_top + mmt_bot) / 2,
            "MMT-8",
            anchor="middle",
            extra=f' transform="rotate(-90 14 {_f((mmt_top + mmt_bot) / 2)})"',
        )
    )
    if data.mmt:
        top_scale = max(scales)

        def ymmt(v: float) -> float:
            return mmt_bot - MMT_H * v / (top_scale * 1.05)

        for frac in (0, 0.25, 0.5, 0.75, 1.0):
            t = top_scale * frac
            out.append(
                f'<line x1="{LEFT - 4}" y1="{_f(ymmt(t))}" x2="{LEFT}" y2="{_f(ymmt(t))}" stroke="#000000"/>'
            )
            out.append(_text(LEFT - 6, ymmt(t) + 4, f"{t:g}", anchor="end"))
        shapes = ("■", "▲", "◆")
        for k, scale in enumerate(scales):
            colour = MMT_COLOURS[k % len(MMT_COLOURS)]
            pts_s = sorted((p for p in data.mmt if p.scale == scale), key=lambda p: p.day)
            dash = "" if k == 0 else ' stroke-dasharray="5 3"'
            line = " ".join(f"{_f(x(p.day))},{_f(ymmt(p.total))}" for p in pts_s)
            out.append(
                f'<polyline class="mmt-line" points="{line}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}/>'
            )
            out.append(f'<g class="mmt-points" fill="{colour}">')
            s = 3.5 if len(pts_s) <= 40 else 2.5
            for q in pts_s:
                cx, cy = x(q.day), ymmt(q.total)
                if k % 3 == 0:
                    out.append(
                        f'<rect x="{_f(cx - s)}" y="{_f(cy - s)}" width="{_f(2 * s)}" height="{_f(2 * s)}"/>'
                    )
                elif k % 3 == 1:
                    out.append(
                        f'<path d="M{_f(cx)} {_f(cy - s - 1)}L{_f(cx + s + 1)} {_f(cy + s)}L{_f(cx - s - 1)} {_f(cy + s)}Z"/>'
                    )
                else:
                    out.append(
                        f'<path d="M{_f(cx)} {_f(cy - s - 1)}L{_f(cx + s + 1)} {_f(cy)}L{_f(cx)} {_f(cy + s + 1)}L{_f(cx - s - 1)} {_f(cy)}Z"/>'
                    )
            out.append("</g>")
            key.append((shapes[k % 3], f"MMT-8 total /{scale}", colour))
    else:
        out.append(_text(LEFT + plot_w / 2, (mmt_top + mmt_bot) / 2, "no MMT-8 totals", anchor="middle"))
    out.append("</g>")

    _panel_legend(out, key, LEFT, key_y)

    # treatment starts
    if marks:
        out.append(f'<g class="treatments" stroke="{TREAT_COLOUR}" fill="{TREAT_COLOUR}">')
        label_base = 30
        for (px, lane, label), m in zip(placed, marks, strict=True):
            mx = x(m.day)
            ly = label_base + lane * LANE_H + 10
            out.append(
                f'<line x1="{_f(mx)}" y1="{_f(ly + 3)}" x2="{_f(mx)}" y2="{mmt_bot}" stroke-width="1.2" stroke-dasharray="3 3"/>'
            )
            out.append(_text(px + 2, ly, label, size=11, extra=' stroke="none"'))
        out.append("</g>")
        out.append(
            _text(
                LEFT,
                legend_top,
                "Treatment started (dashed lines):"
                if use_names
                else "Treatment started (numbered dashed lines):",
                size=11,
                extra=' font-weight="bold"',
            )
        )
        out.append(f'<g class="treatment-legend" font-size="11" fill="{TREAT_COLOUR}">')
        for i, m in enumerate(marks):
            row, col = i % legend_rows, i // legend_rows
            entry = (
                f"{m.day.isoformat()} {m.label}" if use_names else f"{i + 1} {m.day.isoformat()} {m.label}"
            )
            out.append(_text(LEFT + col * col_w, legend_top + 15 * (row + 1), entry, size=11))
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _panel_legend(out: list[str], items: list[tuple[str, str, str]], x0: float, y0: float) -> None:
    x = x0
    out.append('<g class="legend" font-size="11">')
    for symbol, label, colour in items:
        out.append(_text(x, y0, symbol, size=11, extra=f' fill="{colour}"'))
        out.append(_text(x + _text_width(symbol, 11) + 6, y0, label, size=11, extra=' fill="#000000"'))
        x += _text_width(symbol, 11) + 6 + _text_width(label, 11) + 16
    out.append("</g>")


def describe(data: ChartData) -> str:
    """The chart in words (its `<desc>`)."""
    parts: list[str] = []
    if data.ck:
        peak = max(data.ck, key=lambda p: p.hi)
        last = data.ck[-1]

        def val(p: CkPoint) -> str:
            return f"{_num(p.lo)} × ULN" if p.lo == p.hi else f"{_num(p.lo)} to {_num(p.hi)} × ULN"

        parts.append(
            f"CK as a multiple of the upper limit of normal (log scale): {len(data.ck)} result(s) from "
            f"{data.ck[0].day.isoformat()} to {last.day.isoformat()}; highest {val(peak)} on {peak.day.isoformat()}, "
            f"latest {val(last)} on {last.day.isoformat()}."
        )
    else:
        parts.append("No dated CK results.")
    if data.mmt:
        for scale in sorted({p.scale for p in data.mmt}):
            pts = sorted((p for p in data.mmt if p.scale == scale), key=lambda p: p.day)
            parts.append(
                f"MMT-8 total out of {scale}: {len(pts)} visit(s), {pts[0].total:g} on {pts[0].day.isoformat()}"
                + (f" to {pts[-1].total:g} on {pts[-1].day.isoformat()}." if len(pts) > 1 else ".")
            )
    else:
        parts.append("No MMT-8 totals.")
    if data.treatments:
        parts.append(
            "Treatment started: "
            + "; ".join(
                f"{m.label} on {m.day.isoformat()}"
                for m in sorted(data.treatments, key=lambda m: (m.day, m.label))
            )
            + "."
        )
    return " ".join(parts)


# ---------------------------------------------------------------- the EULAR/ACR range bar


def range_bar(
    score: float,
    lo: float,
    hi: float,
    cutoffs: list[tuple[str, float]],
    *,
    title: str = "EULAR/ACR score on the category cut-offs",
    id_prefix: str = "range-bar",
    width: int = WIDTH,
) -> str:
    """The score (known items), its range over the unknown items and the category bands, as SVG.

    `cutoffs` are (category, lowest score) in ascending order (the first starts at 0).
    """
    left, right, bar_y, bar_h = 16, 16, 34, 22
    top_score = max(hi, cutoffs[-1][1] if cutoffs else hi) + 2.0
    top_score = float(math.ceil(top_score))
    plot_w = width - left - right

    def sx(v: float) -> float:
        return left + plot_w * min(max(v, 0.0), top_score) / top_score

    height = 100
    tid, did = f"{id_prefix}-title", f"{id_prefix}-desc"
    shades = ("#f0f0f0", "#d9d9d9", "#bdbdbd", "#969696", "#737373")
    bands = [
        (c, s, cutoffs[i + 1][1] if i + 1 < len(cutoffs) else top_score) for i, (c, s) in enumerate(cutoffs)
    ]
    where = next((c for c, a, b in reversed(bands) if score >= a), bands[0][0] if bands else "")
    desc = (
        f"Score {score:g} ({where})"
        + (f"; with the unknown items it could lie between {lo:g} and {hi:g}" if hi > lo else "")
        + ". Categories: "
        + "; ".join(f"{c} from {a:g}" for c, a, _b in bands)
        + "."
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="range-bar" role="img" aria-labelledby="{tid} {did}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family={quoteattr(FONT)} font-size="{FONT_SIZE}">',
        f'<title id="{tid}">{escape(title)}</title>',
        f'<desc id="{did}">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for i, (c, a, b) in enumerate(bands):
        out.append(
            f'<rect x="{_f(sx(a))}" y="{bar_y}" width="{_f(sx(b) - sx(a))}" height="{bar_h}" '
            f'fill="{shades[i % len(shades)]}" stroke="#000000" stroke-width="0.5"/>'
        )
        if sx(b) - sx(a) >= _text_width(c, 10) + 4:
            out.append(_text((sx(a) + sx(b)) / 2, bar_y - 6, c, anchor="middle", size=10))
    # cut-off labels under the bar; two close cut-offs (6.5 and 6.7) lean apart instead of overlapping
    ticks = [(sx(a), f"{a:g}") for _c, a, _b in bands]
    anchors = ["middle"] * len(ticks)
    for i in range(1, len(ticks)):
        (x0, t0), (x1, t1) = ticks[i - 1], ticks[i]
        if x1 - x0 < (_text_width(t0, 10) + _text_width(t1, 10)) / 2 + 4:
            anchors[i - 1], anchors[i] = "end", "start"
    for (x, t), anchor in zip(ticks, anchors, strict=True):
        shift = -1.5 if anchor == "end" else 1.5 if anchor == "start" else 0.0
        out.append(_text(x + shift, bar_y + bar_h + 14, t, anchor=anchor, size=10))
    if hi > lo:
        out.append(
            f'<rect class="range" x="{_f(sx(lo))}" y="{bar_y + 7}" width="{_f(max(sx(hi) - sx(lo), 2))}" height="8" '
            'fill="#2166ac" opacity="0.8"/>'
        )
    out.append(
        f'<path class="score" d="M{_f(sx(score))} {bar_y - 2}L{_f(sx(score) + 6)} {bar_y - 12}L{_f(sx(score) - 6)} {bar_y - 12}Z" fill="#b2182b"/>'
    )
    out.append(
        f'<line x1="{_f(sx(score))}" y1="{bar_y}" x2="{_f(sx(score))}" y2="{bar_y + bar_h}" stroke="#b2182b" stroke-width="3"/>'
    )
    key = f"▼ score {score:g} (items known present)" + (
        f"   ▬ range {lo:g}–{hi:g} over the unknown items" if hi > lo else ""
    )
    out.append(_text(left, height - 12, key, size=11))
    out.append("</svg>")
    return "\n".join(out)
