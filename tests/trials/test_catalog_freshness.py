"""What every catalog entry says about its own freshness (issue 9 item 14, issue 16 item 3), the
`--catalog` folders (issue 9 item 16), rollover parents (item 13), and the layout-keeping writer."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from imnm.trials.load import catalog, shipped_files
from tests.test_cli import imnm
from tests.trials.patients import imnm_patient

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "imnm" / "knowledge" / "data" / "trials"
TRIALS_DATA = Path(__file__).resolve().parent.parent / "data" / "trials"


def _record(tmp_path: Path) -> str:
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(imnm_patient(), sort_keys=False), encoding="utf-8")
    return str(p)


# ---------------------------------------------------------------- status date and source, encoded-from baseline


@pytest.mark.parametrize("name", shipped_files())
def test_every_entry_has_a_status_source_and_an_encoding_baseline(name: str) -> None:
    raw = yaml.safe_load((SHIPPED / name).read_text(encoding="utf-8"))
    sa = raw["status_as_of"]
    assert sa["source"].strip() and sa["kind"] in ("registry", "mirror", "site", "sponsor", "publication")
    assert "date" in sa  # a date, or null when the source gives none (never left out)
    ef = raw["encoded_from"]
    assert ef["basis"] == "catalog_text" and ef["encoded_by"] and ef["text_source"]
    assert ef["reviewed_by"] is None  # no clinician has reviewed the rules yet: said, not implied
    # the baseline hash, computed here from the file's own texts: every criterion's text with its
    # whitespace collapsed, in file order, structured (registry field) criteria left out
    texts = []
    for kind in ("inclusion", "exclusion"):
        texts += [" ".join(c["text"].split()) for c in raw.get(kind, []) if not c.get("structured")]
    for co in raw.get("cohorts", []):
        for kind in ("inclusion", "exclusion"):
            texts += [" ".join(c["text"].split()) for c in co.get(kind, []) if not c.get("structured")]
    assert ef["text_sha256"] == hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()


def test_status_dates_from_the_research_notes() -> None:
    by_id = {t.id: t for t in catalog()}
    assert by_id["NCT06686524"].status_as_of.date == "2024-11-11"  # CenterWatch, updated 2024-11-11
    assert by_id["NCT05895786"].status_as_of.date == "2025-10-14"  # meddatax
    assert by_id["NCT04999020"].status_as_of.date == "2025-07-07"  # CenterWatch
    assert by_id["NCT05379634"].status_as_of.date == "2024-04-23"  # ichgcp update
    assert by_id["NCT06599697"].status_as_of.date is None  # "date not shown"


def test_list_shows_age_and_freshness() -> None:
    p = imnm("trials", "list", "--json", "--as-of", "2026-11-25")
    assert p.returncode == 0, p.stderr
    rows = {t["id"]: t for t in json.loads(p.stdout)["trials"]}
    ucar = rows["NCT06686524"]
    assert ucar["freshness"]["status_age_days"] == (date(2026, 11, 25) - date(2024, 11, 11)).days
    assert ucar["freshness"]["state"] == "unverified"
    assert ucar["status_as_of"]["text"] == "recruiting per the CenterWatch listing of 2024-11-11"
    assert rows["NCT06599697"]["freshness"]["status_age_days"] is None
    assert all(r["text_matches_encoding"] is True for r in rows.values())
    # partial dates count from their first day: "2025" is at least 328 days old on 2026-11-25
    assert rows["NCT05523167"]["freshness"]["status_age_days"] == (date(2026, 11, 25) - date(2025, 1, 1)).days
    text = imnm("trials", "list", "--as-of", "2026-11-25").stdout
    assert "recruiting per the CenterWatch listing of 2024-11-11" in text and "744 d" in text
    assert "never checked against the registry" in text


def test_trials_output_shows_status_dates_sites_and_parents(tmp_path: Path) -> None:
    rec = _record(tmp_path)
    text = imnm("trials", rec, "--as-of", "2026-11-25").stdout
    assert "Status: recruiting per the CenterWatch listing of 2024-11-11 (open)." in text
    assert "Rollover or extension: needs participation in NCT05523167 first." in text
    assert "University of California Los Angeles (Los Angeles, California, United States)" in text
    assert "2 of the 15 sites" in text
    closed = text.split("Closed trials (for reference)", 1)
    assert len(closed) == 2
    for nct in ("NCT04025632", "NCT00106184", "LIM2020-IVIG"):  # terminated, completed, completed
        assert nct not in closed[0] and nct in closed[1]
    assert "NCT06599697 MIGHT" in closed[0]
    assert (
        "terminated per the classic ClinicalTrials.gov page (ct2) as stored in the research corpus (no date given); completion 2021-06-14, actual"
        in closed[1]
    )
    out = json.loads(imnm("trials", rec, "--as-of", "2026-11-25", "--json").stdout)
    plus = next(t for t in out["trials"] if t["id"] == "NCT05979441")
    assert plus["parent_trial"] == "NCT05523167"
    z = next(t for t in out["trials"] if t["id"] == "NCT04025632")
    assert [s["facility"] for s in z["sites"]] == [
        "University of California Los Angeles",
        "University of California Irvine",
    ]
    assert z["status_as_of"]["kind"] == "registry" and z["dates"]["completion"] == {
        "date": "2021-06-14",
        "type": "ACTUAL",
    }


def test_a_rollover_must_name_its_parent() -> None:
    from imnm.errors import InputError
    from imnm.io.yaml import read_document
    from imnm.trials.load import parse_trial

    data: dict[str, Any] = read_document(SHIPPED / "NCT05979441.yaml")
    del data["parent_trial"]
    with pytest.raises(InputError) as err:
        parse_trial(data, file="NCT05979441.yaml")
    assert "must say which trial it needs" in str(err.value)


# ---------------------------------------------------------------- the writer keeps the layout


@pytest.mark.parametrize("name", shipped_files())
def test_round_trip_keeps_every_byte(name: str) -> None:
    from imnm.trials import write

    text = (SHIPPED / name).read_text(encoding="utf-8")
    assert write.dump(write.load(text)) == text


def test_write_checked_refuses_an_invalid_file(tmp_path: Path) -> None:
    from imnm.errors import InputError
    from imnm.trials import write

    target = tmp_path / "NCT04025632.yaml"
    shutil.copy(SHIPPED / "NCT04025632.yaml", target)
    before = target.read_text()
    doc = write.load(before)
    doc["status"] = "OPEN"
    with pytest.raises(InputError):
        write.write_checked(target, write.dump(doc))
    assert target.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["NCT04025632.yaml"]  # no temporary file left


# ---------------------------------------------------------------- --catalog DIR and --catalog-only


def _draft(tmp_path: Path) -> Path:
    folder = tmp_path / "drafts"
    folder.mkdir()
    p = imnm(
        "trials",
        "import",
        str(TRIALS_DATA / "NCT05013879.ctgov-v2.trimmed.json"),
        "-o",
        str(folder / "NCT05013879.draft.yaml"),
    )
    assert p.returncode == 0, p.stderr
    return folder


def test_catalog_folder_adds_drafts(tmp_path: Path) -> None:
    folder = _draft(tmp_path)
    rec = _record(tmp_path)
    out = json.loads(imnm("trials", rec, "--catalog", str(folder), "--json", "--as-of", "2026-11-25").stdout)
    ids = [t["id"] for t in out["trials"]]
    assert "NCT05013879" in ids and len(set(ids)) == 23 + 1
    only = json.loads(
        imnm(
            "trials", rec, "--catalog", str(folder), "--catalog-only", "--json", "--as-of", "2026-11-25"
        ).stdout
    )
    assert [t["id"] for t in only["trials"]] == ["NCT05013879"]
    listing = json.loads(imnm("trials", "list", "--catalog", str(folder), "--catalog-only", "--json").stdout)
    (row,) = listing["trials"]
    assert row["draft"] is True and row["file"].endswith("NCT05013879.draft.yaml")
    assert row["status_as_of"]["date"] == "2024-02-23"  # lastUpdatePostDate of the record
    assert row["encoded_from"]["basis"] == "registry_record"


def test_catalog_folder_replaces_a_shipped_trial(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    data = yaml.safe_load((SHIPPED / "NCT06599697.yaml").read_text(encoding="utf-8"))
    data["status"] = "ACTIVE_NOT_RECRUITING"
    (folder / "NCT06599697.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    listing = json.loads(imnm("trials", "list", "--catalog", str(folder), "--json").stdout)
    rows = [t for t in listing["trials"] if t["id"] == "NCT06599697"]
    assert len(rows) == 1 and rows[0]["status"] == "ACTIVE_NOT_RECRUITING"
    assert rows[0]["replaces_shipped"] == "knowledge/data/trials/NCT06599697.yaml"


def test_catalog_errors_name_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "NCT00000009.yaml").write_text("id: NCT00000009\ntitle: t\nstatus: OPEN\n", encoding="utf-8")
    (folder / "NCT00000008.yaml").write_text("id: [\n", encoding="utf-8")
    p = imnm("trials", "list", "--catalog", str(folder))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert f"{folder / 'NCT00000009.yaml'}: status" in p.stderr
    assert str(folder / "NCT00000008.yaml") in p.stderr
    missing = imnm("trials", "list", "--catalog", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    only = imnm("trials", "list", "--catalog-only")
    assert only.returncode == 2 and "--catalog-only: no catalog folder given" in only.stderr
    # one trial in two user folders
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = _draft(tmp_path / "a"), _draft(tmp_path / "b")
    dup = imnm("trials", "list", "--catalog", str(a), "--catalog", str(b))
    assert dup.returncode == 2 and "is in two catalog files" in dup.stderr


def test_services_take_the_catalog(tmp_path: Path) -> None:
    from imnm import services
    from imnm.record.load import parse_record

    folder = _draft(tmp_path)
    choice = services.CatalogChoice((folder,), only=True)
    match = services.match_trials(parse_record(imnm_patient()), as_of=date(2026, 11, 25), catalog=choice)
    assert [v.result.trial.id for v in match.verdicts] == ["NCT05013879"]
    assert [s.trial.id for s in services.list_trials(catalog=choice).trials] == ["NCT05013879"]
    assert services.get_trial("NCT05013879", catalog=choice).draft


def test_earlier_wordings_are_checked_like_rules() -> None:
    from imnm.errors import InputError
    from imnm.io.yaml import read_document
    from imnm.trials.load import parse_trial

    data: dict[str, Any] = read_document(SHIPPED / "NCT06665256.yaml")
    data["inclusion"][0]["versions"][0]["rule"]["all"][0]["compare"]["fact"] = "agee"
    with pytest.raises(InputError) as err:
        parse_trial(data, file="NCT06665256.yaml")
    assert "inclusion[0].versions[0].rule.all[0].compare.fact: unknown fact 'agee'" in str(err.value)
