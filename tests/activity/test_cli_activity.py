"""`imnm activity` and `imnm response` run as a user would (real subprocess), and the plot.

Expected TIS values are worked out by hand from clinical.md §3.1–§3.3 (shown in comments).
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import EXAMPLES
from tests.test_cli import imnm

RESPONSE_KEYS = {
    "tis",
    "tis_min",
    "tis_max",
    "category",
    "category_min",
    "category_max",
    "population",
    "method",
    "measures",
}


def _write(tmp_path: Path, rec: dict[str, Any]) -> str:
    f = tmp_path / f"{rec['id']}.yaml"
    f.write_text(yaml.safe_dump(rec, sort_keys=False))
    return str(f)


def _visit(
    day: str, pg: float, pt: float, mmt: dict[str, Any] | None, haq: float | None, ex: float
) -> dict[str, Any]:
    v: dict[str, Any] = {
        "date": day,
        "physician_global": pg,
        "patient_global": pt,
        "extramuscular_global": ex,
    }
    if mmt is not None:
        v["mmt8"] = mmt
    if haq is not None:
        v["haq_di"] = haq
    return v


def t1_record() -> dict[str, Any]:
    """clinical.md §3.5 T1 (adult IMNM) as a record."""
    return {
        "id": "t1",
        "birth_date": "1970-01-01",
        "symptom_onset": "2023-06-01",
        "labs": [
            {"test": "ck", "value": 8000, "unit": "U/L", "uln": 200, "date": "2024-01-09"},
            {"test": "ck", "value": 2000, "unit": "U/L", "uln": 200, "date": "2024-07-01"},
        ],
        "visits": [
            _visit("2024-01-10", 6, 7, {"total": 60, "scale": 80}, 1.5, 2),
            _visit("2024-07-01", 3, 5, {"total": 68, "scale": 80}, 1.125, 1),
        ],
    }


def test_response_json_on_the_example() -> None:
    p = imnm("response", str(EXAMPLES / "anti-hmgcr.yaml"), "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert set(d) >= RESPONSE_KEYS
    # PhGA 6→3: 30 % → 17.5; PtGA 7→4: 30 % → 7.5; MMT 58→70 /80: 15 % → 20; HAQ 1.5→1.0: 16.7 % → 7.5;
    # CK 8000 U/L → 35 µkat/L = 2100 U/L: 73.75 % → 7.5; extramuscular 2→1: 10 % → 7.5. Total 67.5, adult ≥ 60: major
    assert d["tis"] == 67.5 and d["tis_min"] == d["tis_max"] == 67.5
    assert (d["category"], d["category_min"], d["category_max"], d["population"]) == (
        "major",
        "major",
        "major",
        "adult",
    )
    assert d["method"] == "range_normalised_relative_enzyme"
    m = d["measures"]
    assert {k: v["points"] for k, v in m.items()} == {
        "physician_global": 17.5,
        "patient_global": 7.5,
        "mmt": 20,
        "haq": 7.5,
        "muscle_enzyme": 7.5,
        "extramuscular_global": 7.5,
    }
    assert m["muscle_enzyme"]["baseline"] == 8000 and m["muscle_enzyme"]["followup"] == 2100
    assert m["mmt"]["percent_change"] == 15
    assert set(m["mmt"]) >= {"baseline", "followup", "percent_change", "points"}
    assert d["imacs_doi"]["truth"] == "met"


def test_response_text_names_method_and_disclaimer() -> None:
    p = imnm("response", str(EXAMPLES / "anti-hmgcr.yaml"))
    assert p.returncode == 0, p.stderr
    for needle in (
        "TIS 67.5 / 100",
        "Improvement: major",
        "range_normalised_relative_enzyme",
        "⚠️",
        "not a diagnosis",
        "by extension",
    ):
        assert needle in p.stdout, needle


def test_t1_as_a_record_with_enzyme_one_day_before(tmp_path: Path) -> None:
    f = _write(tmp_path, t1_record())
    d = json.loads(imnm("response", f, "--json").stdout)
    assert d["tis"] == 52.5 and d["category"] == "moderate" and d["population"] == "adult"
    assert any(
        "CK from 2024-01-09, 1 day before the visit" in n for n in d["measures"]["muscle_enzyme"]["notes"]
    )


def test_t4_as_a_juvenile_record(tmp_path: Path) -> None:
    """T4: child (onset at 8), bilateral MMT-8 /150, CHAQ, aldolase the only enzyme → 42.5, juvenile minimal."""
    rec = {
        "id": "t4",
        "birth_date": "2012-03-01",
        "symptom_onset": "2020-05-01",
        "labs": [
            {"test": "aldolase", "value": 10, "unit": "U/L", "uln": 14.5, "date": "2021-01-05"},
            {"test": "aldolase", "value": 9.6, "unit": "U/L", "uln": 14.5, "date": "2021-06-05"},
        ],
        "visits": [
            _visit("2021-01-05", 5, 6, {"total": 120, "scale": 150}, 1.2, 4),
            _visit("2021-06-05", 3, 4, {"total": 128, "scale": 150}, 0.9, 3),
        ],
    }
    d = json.loads(imnm("response", _write(tmp_path, rec), "--json").stdout)
    assert d["tis"] == 42.5 and d["population"] == "juvenile" and d["category"] == "minimal"
    assert d["thresholds"] == {"juvenile": {"minimal": 30, "moderate": 45, "major": 70}}
    assert any("150" in n and "⚠️" in n for n in d["measures"]["mmt"]["notes"])
    adult = json.loads(imnm("response", _write(tmp_path, rec), "--json", "--population", "adult").stdout)
    assert adult["category"] == "moderate"


def test_missing_measures_give_a_range(tmp_path: Path) -> None:
    rec = t1_record()
    rec["labs"] = rec["labs"][:1]  # no CK at follow-up
    del rec["visits"][1]["haq_di"]
    d = json.loads(imnm("response", _write(tmp_path, rec), "--json").stdout)
    # known: 17.5 + 5 + 10 + 7.5 = 40; missing HAQ (max 10) and enzyme (max 7.5)
    assert d["tis"] is None and d["category"] is None
    assert (d["tis_min"], d["tis_max"]) == (40, 57.5)
    assert (d["category_min"], d["category_max"]) == ("moderate", "moderate")
    assert d["measures"]["haq"]["points"] is None
    p = imnm("response", _write(tmp_path, rec))
    assert "TIS not determined: between 40 and 57.5" in p.stdout
    z = json.loads(
        imnm("response", _write(tmp_path, rec), "--json", "--missing", "missing_as_zero_points").stdout
    )
    assert z["tis"] == 40 and z["category"] == "moderate"


def test_enzyme_window_is_a_choice(tmp_path: Path) -> None:
    rec = t1_record()
    rec["labs"][1]["date"] = "2024-07-11"  # 10 days after the follow-up visit
    f = _write(tmp_path, rec)
    d = json.loads(imnm("response", f, "--json").stdout)
    assert d["measures"]["muscle_enzyme"]["points"] is None and d["choices"]["enzyme_window_days"] == 7
    d14 = json.loads(imnm("response", f, "--json", "--window-days", "14").stdout)
    assert d14["tis"] == 52.5
    assert any("10 days after the visit" in n for n in d14["measures"]["muscle_enzyme"]["notes"])


def test_from_to_and_bad_options_exit_2(tmp_path: Path) -> None:
    rec = t1_record()
    rec["visits"].insert(1, _visit("2024-03-01", 5, 6, {"total": 62, "scale": 80}, 1.4, 2))
    f = _write(tmp_path, rec)
    d = json.loads(imnm("response", f, "--json", "--to", "2024-03-01").stdout)
    assert d["followup_date"] == "2024-03-01" and d["baseline_date"] == "2024-01-10"
    for args, needle in (
        (["--from", "2024-02-02"], "no visit on 2024-02-02"),
        (["--from", "2024-07-01", "--to", "2024-01-10"], "is not after baseline"),
        (["--from", "01/02/2024"], "not an ISO date"),
        (["--method", "ratio"], "--method: 'ratio' is not allowed"),
        (["--kendall-trace", "2"], "--kendall-trace"),
        (["--enzyme", "cpk"], "--enzyme"),
    ):
        p = imnm("response", f, *args)
        assert p.returncode == 2 and needle in p.stderr and "Traceback" not in p.stderr, (args, p.stderr)
    one = {"id": "one", "visits": [rec["visits"][0]]}
    p = imnm("response", _write(tmp_path, one))
    assert p.returncode == 2 and "the TIS compares two visits; the record has 1" in p.stderr


def test_method_option_is_named(tmp_path: Path) -> None:
    d = json.loads(
        imnm(
            "response",
            _write(tmp_path, t1_record()),
            "--json",
            "--method",
            "range_normalised_relative_enzyme_fold",
        ).stdout
    )
    assert d["method"] == "range_normalised_relative_enzyme_fold" and d["tis"] == 52.5


def test_activity_json_on_the_grades_example() -> None:
    p = imnm("activity", str(EXAMPLES / "anti-srp-grades-haq.yaml"), "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    v0 = d["visits"][0]
    # neck 5 + (6+6) + (7+7) + (9+9) + (5+4) + (5+5) + (7+6) + (10+10) = 101 /150; right side 5+6+7+9+5+5+7+10 = 54 /80
    assert [(s["total"], s["scale"]) for s in v0["mmt8"]] == [(101, 150), (54, 80)]
    assert v0["mmt8_min_proximal_grade"]["lo"] == 4  # left gluteus maximus
    # HAQ: 2 (aids, stays 2), 2, 1, 2, 2 (help), 2, 1, 2 → 14 / 8 = 1.75
    assert v0["haq_di"]["value"] == 1.75 and v0["haq_di"]["source"].startswith("from items")
    assert v0["enzymes"]["ck"]["where"] == "CK from 2025-01-13, 1 day before the visit"
    assert d["followed_enzyme"]["test"] == "ck"
    trend = {t["measure"]: t["direction"] for t in d["trend"]}
    assert trend["mmt8"] == "better" and trend["ck_fold"] == "better"


def test_activity_text() -> None:
    p = imnm("activity", str(EXAMPLES / "anti-hmgcr.yaml"))
    assert p.returncode == 0, p.stderr
    assert "58/80" in p.stdout and "70/80" in p.stdout and "not a diagnosis" in p.stdout


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_plot_png_and_svg(tmp_path: Path) -> None:
    png, svg = tmp_path / "out.png", tmp_path / "out.svg"
    for out in (png, svg):
        p = imnm("activity", str(EXAMPLES / "anti-hmgcr.yaml"), "--plot", str(out))
        assert p.returncode == 0, p.stderr
    assert _png_size(png) == (800, 600)
    assert png.stat().st_size > 10_000  # a real picture, not an empty canvas
    text = svg.read_text()
    for label in (
        "CK (× ULN, log scale)",
        "MMT-8 total (/80)",
        "Date",
        "example-anti-hmgcr: CK and MMT-8 over time",
    ):
        assert label in text, label
    assert re.search(r">2024-\d\d-\d\d<", text)  # dates on the x axis
    p = imnm("activity", str(EXAMPLES / "anti-hmgcr.yaml"), "--plot", str(tmp_path / "out.pdf"))
    assert p.returncode == 2 and "is not a .png or .svg file" in p.stderr


def test_plot_reads_back_with_matplotlib(tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    from imnm import services
    from imnm.activity.plot import plot_activity

    result = services.activity(services.load_patient(EXAMPLES / "anti-srp-grades-haq.yaml"))
    out = plot_activity(result.facts, list(result.visits), tmp_path / "p.png", title=result.patient_id)
    img = mpimg.imread(out)
    assert img.shape[:2] == (600, 800)
    assert img.std() > 0.01  # not blank
