"""`make bench` stage: printable reports (issue 15). Goal: a clinician report for a record with 30 visits
and 200 labs renders in < 2 s (HTML from the services' results, then the PDF with WeasyPrint).

Prints the median and best wall-clock and CPU time over a few runs for the bundled anti-HMGCR example and
the long follow-up record, per step (services + HTML, PDF layout), the PDF size and page count.
Usage: python bench/reports.py [--runs 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
AS_OF = date(2026, 11, 25)
GOAL_S = 2.0


def measure(subject: Any, kind: str, runs: int) -> dict[str, float]:
    from imnm import reports
    from imnm.reports.pdf import render_pdf

    walls, cpus, html_s = [], [], []
    size = pages = 0
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        built = reports.build(subject, kind=kind, as_of=AS_OF)
        h = time.perf_counter()
        data, pages = render_pdf(built.html, as_of=AS_OF)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        html_s.append(h - w0)
        size = len(data)
    return {
        "median_s": statistics.median(walls),
        "best_s": min(walls),
        "cpu_median_s": statistics.median(cpus),
        "html_median_s": statistics.median(html_s),
        "bytes": size,
        "pages": pages,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None)
    ns = ap.parse_args()

    from imnm import reports, services
    from imnm.record.load import parse_record
    from imnm.synthetic import long_followup_record

    example = services.load_patient(ROOT / "examples" / "anti-hmgcr.yaml")
    long = parse_record(long_followup_record(visits=30, labs=200))
    reports.report(example, kind="clinician", as_of=AS_OF)  # warm up: imports, fonts, catalog
    results: dict[str, Any] = {}
    print(f"{'report':44} {'median s':>9} {'best s':>7} {'cpu s':>6} {'html s':>7} {'pages':>5} {'bytes':>9}")
    for label, subject, kind in (
        ("clinician, anti-hmgcr example", example, "clinician"),
        ("patient summary, anti-hmgcr example", example, "patient"),
        ("clinician, 30 visits and 200 labs", long, "clinician"),
    ):
        r = measure(subject, kind, ns.runs)
        results[label] = r
        print(
            f"{label:44} {r['median_s']:9.3f} {r['best_s']:7.3f} {r['cpu_median_s']:6.3f} "
            f"{r['html_median_s']:7.3f} {r['pages']:5d} {r['bytes']:9,d}"
        )
    long_r = results["clinician, 30 visits and 200 labs"]
    ok = long_r["median_s"] < GOAL_S
    print(
        f"goal: clinician report for 30 visits / 200 labs < {GOAL_S:g} s: "
        f"{'met' if ok else 'MISSED'} (median {long_r['median_s']:.2f} s wall, {long_r['cpu_median_s']:.2f} s CPU)"
    )
    if ns.json:
        ns.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
