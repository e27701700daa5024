"""Draw CK (fold over ULN, log scale) and MMT-8 over time (matplotlib, Agg backend, imported lazily).

The figure is 8 × 6 inches at 100 dpi (800 × 600 pixels as PNG); SVG keeps text as text.
"""

from __future__ import annotations

from pathlib import Path

from imnm.activity.measures import VisitMeasures
from imnm.core.facts import FactSource, NumRange
from imnm.errors import InputError, Problem

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 6.0, 100
CK_LABEL = "CK (× ULN, log scale)"
DATE_LABEL = "Date"


def mmt_label(scales: list[int]) -> str:
    return "MMT-8 total (" + ", ".join(f"/{s}" for s in scales) + ")" if scales else "MMT-8 total"


def ck_series(facts: FactSource) -> list[tuple[object, float, float]]:
    """Every dated CK fold over ULN (the `lab.ck.fold` fact, so the default-ULN choice applies), as
    (date, low, high): low == high for a reported ULN, a range when the ULN was assumed."""
    out = []
    for o in facts.get("lab.ck.fold") or ():
        if o.date is None:
            continue
        v = o.value
        if isinstance(v, NumRange):
            out.append((o.date, v.lo, v.hi))
        elif isinstance(v, float):
            out.append((o.date, v, v))
    return sorted(out, key=lambda x: x[0])  # type: ignore[arg-type,return-value]


def plot_activity(facts: FactSource, visits: list[VisitMeasures], out: Path, *, title: str = "") -> Path:
    """Write the figure to `out` (.png or .svg)."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise InputError(
            [
                Problem(
                    "--plot",
                    f"{out.name!r} is not a .png or .svg file",
                    "name the file OUT.png or OUT.svg",
                    value=str(out),
                )
            ],
            what="command line",
        )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt
        import matplotlib.ticker as ticker
    except ImportError:
        raise InputError(
            [Problem("--plot", "matplotlib is not installed", "pip install 'imnm[plot]' (or matplotlib)")],
            what="command line",
        ) from None

    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig, (ax_ck, ax_mmt) = plt.subplots(2, 1, sharex=True, figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
        ck = ck_series(facts)
        if ck:
            mids = [(lo * hi) ** 0.5 for _, lo, hi in ck]
            ax_ck.plot([d for d, _, _ in ck], mids, "o-", color="tab:red", label="CK × ULN")
            ranged = [(d, lo, hi) for d, lo, hi in ck if hi > lo]
            if ranged:
                ax_ck.vlines(
                    [d for d, _, _ in ranged],
                    [lo for _, lo, _ in ranged],
                    [hi for _, _, hi in ranged],
                    color="tab:red",
                    alpha=0.5,
                    label="range (ULN not reported)",
                )
            ax_ck.set_yscale("log")
            ax_ck.yaxis.set_major_formatter(ticker.FuncFormatter(lambda y, _pos: f"{y:g}"))
            ax_ck.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="upper limit of normal")
            ax_ck.legend(loc="best", fontsize="small")
        else:
            ax_ck.text(
                0.5, 0.5, "no CK results with a ULN", ha="center", va="center", transform=ax_ck.transAxes
            )
        ax_ck.set_ylabel(CK_LABEL)
        scales: list[int] = []
        for v in visits:
            for s in v.mmt_scores:
                if s.scale not in scales and s.total is not None:
                    scales.append(s.scale)
        primary = sorted({v.mmt.scale for v in visits if v.mmt is not None})
        shown = [s for s in scales if s in primary] or scales
        for scale in shown:
            pts = [
                (v.date, s.total)
                for v in visits
                for s in v.mmt_scores
                if s.scale == scale and s.total is not None
            ]
            if pts:
                ax_mmt.plot([d for d, _ in pts], [t for _, t in pts], "s-", label=f"MMT-8 /{scale}")
        if shown:
            ax_mmt.set_ylim(0, max(shown) * 1.05)
            ax_mmt.legend(loc="best", fontsize="small")
        else:
            ax_mmt.text(0.5, 0.5, "no MMT-8 totals", ha="center", va="center", transform=ax_mmt.transAxes)
        ax_mmt.set_ylabel(mmt_label(shown))
        ax_mmt.set_xlabel(DATE_LABEL)
        ax_mmt.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))  # type: ignore[no-untyped-call]
        fig.autofmt_xdate()
        fig.suptitle(f"{title}: CK and MMT-8 over time" if title else "CK and MMT-8 over time")
        fig.savefig(out, format=fmt, dpi=DPI)
        plt.close(fig)
    return out
