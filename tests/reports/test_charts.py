"""The shared activity chart and EULAR/ACR range bar (imnm.render.charts): valid SVG with a title and a
description, the same bytes every time, log scale, thinned date labels, treatment starts."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from imnm.render.charts import (
    MAX_X_TICKS,
    ChartData,
    CkPoint,
    MmtPoint,
    TreatmentMark,
    activity_chart,
    chart_data,
    date_ticks,
    range_bar,
)
from tests.reports.helpers import long_record, record

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def data_of(rec: object) -> ChartData:
    from imnm import services

    return chart_data(services.activity(rec))  # type: ignore[arg-type]


def test_the_example_chart_marks_the_two_treatment_starts_not_the_tapers() -> None:
    """examples/anti-hmgcr.yaml: prednisone 40 mg from 2024-04-10, tapered to 20 mg on 2024-07-01 and 10 mg
    on 2024-10-01 (dose changes, not new starts), methotrexate from 2024-05-01; the statin is an exposure."""
    d = data_of(record("anti-hmgcr"))
    assert [(m.day.isoformat(), m.label) for m in d.treatments] == [
        ("2024-04-10", "prednisone"),
        ("2024-05-01", "methotrexate"),
    ]
    # CK 7000/200, 8000/200 and 35 ukat/L over 3.3 ukat/L
    assert [(p.day.isoformat(), round(p.lo, 2)) for p in d.ck] == [
        ("2024-03-01", 35.0),
        ("2024-04-10", 40.0),
        ("2024-10-10", round(35 / 3.3, 2)),
    ]
    assert [(p.total, p.scale) for p in d.mmt] == [(58.0, 80), (70.0, 80)]
    svg = activity_chart(d)
    root = parse(svg)
    assert root.get("role") == "img"
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "prednisone on 2024-04-10" in (desc.text or "")
    assert "highest 40 × ULN on 2024-04-10" in (desc.text or "")
    assert len(root.findall(f".//{NS}g[@class='treatments']/{NS}line")) == 2


def test_a_restart_after_a_gap_is_a_new_start() -> None:
    d = data_of(long_record())
    ivig = [m.day for m in d.treatments if m.label == "ivig"]
    assert len(ivig) == 2 and (ivig[1] - ivig[0]).days == 420  # stopped after 180 days, restarted at 420
    assert [m.label for m in d.treatments].count("prednisone") == 1  # five tapering rows, one start


def test_log_scale_puts_decades_equally_apart() -> None:
    days = [date(2024, 1, 1) + timedelta(days=30 * i) for i in range(3)]
    d = ChartData(tuple(CkPoint(day, v, v) for day, v in zip(days, (1.0, 10.0, 100.0), strict=True)), (), ())
    root = parse(activity_chart(d))
    ys = [float(c.get("cy") or "nan") for c in root.findall(f".//{NS}g[@class='ck-points']/{NS}circle")]
    assert len(ys) == 3
    assert math.isclose(ys[0] - ys[1], ys[1] - ys[2], abs_tol=0.11)  # coordinates carry one decimal
    assert ys[0] > ys[1] > ys[2]  # higher CK higher up


def test_same_data_same_bytes() -> None:
    one = activity_chart(data_of(long_record()))
    two = activity_chart(data_of(long_record()))
    assert one == two
    assert "NaN" not in one and "e+" not in one


def test_long_follow_up_labels_are_thinned_and_do_not_overlap() -> None:
    d = data_of(long_record())
    assert len(d.ck) > 100 and len(d.mmt) == 30
    root = parse(activity_chart(d))
    labels = root.findall(f".//{NS}g[@class='x-labels']/{NS}text")
    assert 2 <= len(labels) <= MAX_X_TICKS
    xs = [float(t.get("x") or 0) for t in labels]
    widths = [len(t.text or "") * 0.62 * 12 for t in labels]
    for i in range(1, len(xs)):
        assert xs[i] - xs[i - 1] >= (widths[i] + widths[i - 1]) / 2, "date labels overlap"


@given(
    start=st.dates(min_value=date(1990, 1, 1), max_value=date(2150, 1, 1)),
    days=st.integers(min_value=0, max_value=40 * 365),
    width=st.integers(min_value=200, max_value=1200),
)
def test_date_ticks_always_fit(start: date, days: int, width: int) -> None:
    end = start + timedelta(days=days)
    ticks = date_ticks(start, end, width)
    assert len(ticks) <= MAX_X_TICKS
    assert all(start <= d <= end for d, _ in ticks)
    assert [d for d, _ in ticks] == sorted({d for d, _ in ticks})


points = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3000), st.floats(min_value=0.05, max_value=500)), max_size=60
)


@given(
    ck=points,
    mmt=st.lists(
        st.tuples(st.integers(min_value=0, max_value=3000), st.integers(min_value=0, max_value=80)),
        max_size=40,
    ),
    marks=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=3000), st.sampled_from(["prednisone", "IVIG", "rituximab"])
        ),
        max_size=12,
    ),
)
def test_any_data_gives_a_valid_chart_inside_its_box(
    ck: list[tuple[int, float]], mmt: list[tuple[int, int]], marks: list[tuple[int, str]]
) -> None:
    base = date(2020, 1, 1)
    d = ChartData(
        tuple(sorted((CkPoint(base + timedelta(days=k), v, v * 1.5) for k, v in ck), key=lambda p: p.day)),
        tuple(MmtPoint(base + timedelta(days=k), float(t), 80) for k, t in mmt),
        tuple(TreatmentMark(base + timedelta(days=k), label) for k, label in marks),
        "synthetic & <test>",
    )
    svg = activity_chart(d)
    assert svg == activity_chart(d)
    root = parse(svg)
    _, _, w, h = (float(v) for v in (root.get("viewBox") or "").split())
    for el in root.iter():
        for attr in ("x", "x1", "x2", "cx"):
            if el.get(attr) is not None:
                assert -1 <= float(el.get(attr) or 0) <= w + 1, (el.tag, attr, el.get(attr))
        for attr in ("y", "y1", "y2", "cy"):
            if el.get(attr) is not None:
                assert -1 <= float(el.get(attr) or 0) <= h + 1, (el.tag, attr, el.get(attr))
    assert len(root.findall(f".//{NS}g[@class='x-labels']/{NS}text")) <= MAX_X_TICKS
    assert len(root.findall(f".//{NS}g[@class='treatments']/{NS}line")) == len(marks)


def test_range_bar_places_the_score_in_its_category() -> None:
    """The biopsy cut-offs of eular_acr_2017.yaml: possible from 6.5, probable 6.7, definite 8.7."""
    cuts = [("not iim", 0.0), ("possible", 6.5), ("probable", 6.7), ("definite", 8.7)]
    svg = range_bar(7.6, 6.1, 9.3, cuts)
    root = parse(svg)
    desc = root.find(f"{NS}desc")
    assert desc is not None and "Score 7.6 (probable)" in (desc.text or "")
    assert "between 6.1 and 9.3" in (desc.text or "")
    rng = root.find(f".//{NS}rect[@class='range']")
    assert rng is not None
    bands = [r for r in root.findall(f"{NS}rect") if r.get("stroke-width") == "0.5"]
    x_prob, x_def = float(bands[2].get("x") or 0), float(bands[3].get("x") or 0)
    score_x = float(re.findall(r"M([\d.]+)", root.find(f"{NS}path[@class='score']").get("d") or "")[0])  # type: ignore[union-attr]
    assert x_prob < score_x < x_def


def test_close_cut_off_labels_lean_apart_instead_of_overlapping() -> None:
    """6.5 and 6.7 on a 0-15 bar are a few pixels apart: their labels must not overlap (seen in the
    README screenshot as "6.56.7")."""
    cuts = [("not iim", 0.0), ("possible", 6.5), ("probable", 6.7), ("definite", 8.7)]
    root = parse(range_bar(7.6, 7.6, 7.6, cuts))
    labels = {t.text: t for t in root.iter(f"{NS}text") if t.text in ("6.5", "6.7", "8.7")}
    assert labels["6.5"].get("text-anchor") == "end"
    assert (labels["6.7"].get("text-anchor") or "start") == "start"  # SVG default
    assert labels["8.7"].get("text-anchor") == "middle"
    assert float(labels["6.5"].get("x") or 0) < float(labels["6.7"].get("x") or 0)
