"""`imnm trials update`, `search` and `approve` against a registry on loopback (issue 16).

The registry is a real HTTP server started by the tests (`registry_server.Registry`) serving ClinicalTrials.gov
API v2 records: the two v2 records of ../shared/knowledge/trials/ and edited copies of them (a changed status,
a changed age limit, a removed criterion, a new criterion). The catalog is a temporary folder used with
`--catalog-only`: a copy of the shipped zilucoplan file (its baseline is its own text) and a draft imported
from the knee-arthroplasty record. The commands run as a user runs them (subprocesses).
"""

from __future__ import annotations

import copy
import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.shared import shared
from tests.test_cli import imnm
from tests.trials.patients import imnm_patient
from tests.trials.registry_server import Registry

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "imnm" / "knowledge" / "data" / "trials"
ZILU = "NCT04025632"
KNEE = "NCT05013879"
DAY = "2026-11-25"


def record(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(shared("knowledge", "trials", name).read_text(encoding="utf-8"))
    return data


def zilucoplan() -> dict[str, Any]:
    return record("NCT04025632.transcribed-v2.json")


def knee() -> dict[str, Any]:
    return record("NCT05013879.ctgov-v2.trimmed.json")


def _elig(study: dict[str, Any]) -> dict[str, Any]:
    elig: dict[str, Any] = study["protocolSection"]["eligibilityModule"]
    return elig


def zilucoplan_2025() -> dict[str, Any]:
    """The zilucoplan record as a later version: maximum age 65 (was 75), the plasma-exchange exclusion
    removed, a hypersensitivity exclusion added, posted 2025-03-03."""
    z = copy.deepcopy(zilucoplan())
    elig = _elig(z)
    elig["maximumAge"] = "65 Years"
    text = elig["eligibilityCriteria"]
    pe = "\n* Plasma exchange within 4 weeks prior to Baseline or expected to occur during the 8-week Treatment Period"
    assert pe in text
    text = text.replace(pe, "\n* Known hypersensitivity to zilucoplan or any of its excipients")
    elig["eligibilityCriteria"] = text
    z["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"] = {
        "date": "2025-03-03",
        "type": "ACTUAL",
    }
    z["derivedSection"] = {"miscInfoModule": {"versionHolder": "2025-03-04"}}
    return z


def knee_recruiting() -> dict[str, Any]:
    """The knee record as it would have read while recruiting (the version the draft was imported from)."""
    k = copy.deepcopy(knee())
    k["protocolSection"]["statusModule"]["overallStatus"] = "RECRUITING"
    return k


def knee_withdrawn() -> dict[str, Any]:
    k = copy.deepcopy(knee())
    status = k["protocolSection"]["statusModule"]
    status["overallStatus"] = "WITHDRAWN"
    status["whyStopped"] = "Funding ended (edited copy for the tests)"
    status["lastUpdatePostDateStruct"] = {"date": "2025-01-20", "type": "ACTUAL"}
    return k


@pytest.fixture()
def registry() -> Iterator[Registry]:
    server = Registry().start()
    yield server
    server.stop()


@pytest.fixture()
def catalog(tmp_path: Path) -> Path:
    """A catalog folder: the shipped zilucoplan file and a draft imported from the (recruiting) knee record."""
    folder = tmp_path / "catalog"
    folder.mkdir()
    shutil.copy(SHIPPED / f"{ZILU}.yaml", folder / f"{ZILU}.yaml")
    study = tmp_path / "knee.json"
    study.write_text(json.dumps(knee_recruiting()), encoding="utf-8")
    p = imnm(
        "trials", "import", str(study), "-o", str(folder / f"{KNEE}.draft.yaml"), "--as-of", "2026-01-05"
    )
    assert p.returncode == 0, p.stderr
    return folder


def update(registry: Registry, catalog: Path, *args: str) -> Any:
    return imnm(
        "trials",
        "update",
        "--catalog",
        str(catalog),
        "--catalog-only",
        "--registry-url",
        registry.url,
        "--min-interval",
        "0",
        "--as-of",
        DAY,
        *args,
    )


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def criteria(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for kind in ("inclusion", "exclusion") for c in doc.get(kind, [])}


# ---------------------------------------------------------------- unchanged records


def test_first_check_of_unchanged_records(registry: Registry, catalog: Path) -> None:
    """The transcribed zilucoplan record has the catalog's own wording: nothing is stale; the status gets
    the registry as its source. The knee record is the one the draft came from, except its status."""
    registry.serve(ZILU, ("json", zilucoplan()))
    registry.serve(KNEE, ("json", knee()))
    before = snapshot(catalog)
    p = update(registry, catalog)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "the registry text matches the catalog's text" in p.stdout
    z = load(catalog / f"{ZILU}.yaml")
    assert z["status"] == "TERMINATED"
    assert z["status_as_of"]["kind"] == "registry" and z["status_as_of"]["checked_on"] == DAY
    assert z["registry_check"]["criteria"] == "baseline"
    assert not any("stale" in c or "added" in c for c in criteria(z).values())
    # only the status source and the check were written: every other line is as it was
    old, new = before[f"{ZILU}.yaml"].splitlines(), (catalog / f"{ZILU}.yaml").read_text().splitlines()
    assert [line for line in old if line not in new] == [
        "  source: classic ClinicalTrials.gov page (ct2) as stored in the research corpus",
        "  url: https://clinicaltrials.gov/ct2/show/NCT04025632",
    ]
    assert z["status_as_of"]["date"] is None  # the transcribed record carries no lastUpdatePostDate
    k = load(catalog / f"{KNEE}.draft.yaml")
    assert k["status"] == "COMPLETED"  # the draft said RECRUITING
    assert k["status_as_of"]["date"] == "2024-02-23"  # lastUpdatePostDate of the record
    assert k["registry_check"]["criteria"] == "unchanged"  # the same text the draft was imported from
    assert "status: recruiting → completed" in p.stdout
    # a second run changes only the check (nothing new to mark)
    again = update(registry, catalog, "--json")
    assert again.returncode == 0
    out = json.loads(again.stdout)
    assert out["counts"] == {"checked": 2, "updated": 0, "failed": 0, "skipped": 0}


# ---------------------------------------------------------------- a registry that moved


def test_changed_records_mark_stale_rules_and_print_the_diff(
    registry: Registry, catalog: Path, tmp_path: Path
) -> None:
    registry.serve(ZILU, ("json", zilucoplan_2025()))
    registry.serve(KNEE, ("json", knee_withdrawn()))
    before_z = load(catalog / f"{ZILU}.yaml")
    before_text = (catalog / f"{ZILU}.yaml").read_text()
    p = update(registry, catalog)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    # the diff, per criterion
    assert "~ inclusion age changed; its rule is marked stale:" in out
    assert "- Minimum age 18 Years; maximum age 75 Years (registry structured fields)" in out
    assert "+ Minimum age 18 Years; maximum age 65 Years (registry structured fields)" in out
    assert "[-75-]{+65+}" in out
    assert "- exclusion exc-6 is no longer in the registry text; marked stale:" in out
    assert "+ new exclusion criterion added as exc-7:" in out
    assert "Known hypersensitivity to zilucoplan or any of its excipients" in out
    # the file: the changed and removed rules are stale, the new criterion is a manual item; nothing else moves
    z = load(catalog / f"{ZILU}.yaml")
    crits = criteria(z)
    assert crits["age"]["stale"] == {
        "change": "changed",
        "since": "2025-03-03",
        "checked_on": DAY,
        "registry_text": "Minimum age 18 Years; maximum age 65 Years (registry structured fields)",
        "registry_version": "2025-03-04",
    }
    assert crits["age"]["rule"] == criteria(before_z)["age"]["rule"]  # the rule itself is untouched
    assert crits["exc-6"]["stale"]["change"] == "removed"
    assert crits["exc-7"]["manual_review"] is True and crits["exc-7"]["added"]["since"] == "2025-03-03"
    for cid, c in criteria(before_z).items():
        if cid not in ("age", "exc-6"):
            assert crits[cid] == c, cid
    moved = ("status_as_of", "dates", "exclusion", "inclusion")
    untouched = {k: v for k, v in before_z.items() if k not in moved}
    assert {k: z[k] for k in untouched} == untouched
    # the dates gain the record's last update; the others are the same
    assert z["dates"] == {**before_z["dates"], "last_update_posted": {"date": "2025-03-03", "type": "ACTUAL"}}
    assert z["status_as_of"]["date"] == "2025-03-03"
    assert z["registry_check"]["criteria"] == "baseline"
    # comments and flow-style rules of the file are kept
    assert before_text.splitlines()[0] in (catalog / f"{ZILU}.yaml").read_text()
    assert "    rule: {is_true: history.meningococcal_disease}" in (catalog / f"{ZILU}.yaml").read_text()
    # the withdrawn trial: status, date and reason
    k = load(catalog / f"{KNEE}.draft.yaml")
    assert (k["status"], k["status_as_of"]["date"], k["why_stopped"]) == (
        "WITHDRAWN",
        "2025-01-20",
        "Funding ended (edited copy for the tests)",
    )

    # the results of the stale rule say so; the trial cannot be eligible on it
    rec = tmp_path / "p.yaml"
    rec.write_text(yaml.safe_dump(imnm_patient()), encoding="utf-8")
    args = ("trials", str(rec), "--catalog", str(catalog), "--catalog-only", "--as-of", DAY)
    m = json.loads(imnm(*args, "--json").stdout)
    zr = next(t for t in m["trials"] if t["id"] == ZILU)
    age = next(c for c in zr["criteria"] if c["id"] == "age")
    assert age["status"] == "stale" and age["effect"] == "review"
    assert age["manual_review"] == "needs review: the registry text changed on 2025-03-03"
    assert zr["verdict"] == "needs_information"
    assert {s["id"] for s in zr["stale"]} == {"age", "exc-6"}
    text = imnm(*args).stdout
    assert "needs review: the registry text changed on 2025-03-03" in text
    assert "Registry text changed since these rules were encoded" in text
    # the withdrawn trial is listed apart, with its date
    closed = text.split("Closed trials (for reference)", 1)[1]
    assert "NCT05013879" in closed and "withdrawn per the registry record of 2025-01-20" in closed
    # the list shows the drift
    listing = json.loads(
        imnm("trials", "list", "--catalog", str(catalog), "--catalog-only", "--json", "--as-of", DAY).stdout
    )
    zl = next(t for t in listing["trials"] if t["id"] == ZILU)
    assert zl["freshness"]["state"] == "drift" and zl["freshness"]["stale_rules"] == 2
    assert zl["freshness"]["added_criteria"] == 1


def test_approve_after_a_change(registry: Registry, catalog: Path) -> None:
    registry.serve(ZILU, ("json", zilucoplan_2025()))
    registry.serve(KNEE, ("json", knee()))
    assert update(registry, catalog).returncode == 0
    base = ("trials", "approve", "--catalog", str(catalog), "--catalog-only", "--trial", ZILU, "--as-of", DAY)
    p = imnm(*base, "--criterion", "exc-6", "--criterion", "exc-7", "--by", "Dr Test")
    assert p.returncode == 0, p.stdout + p.stderr
    z = load(catalog / f"{ZILU}.yaml")
    crits = criteria(z)
    assert "exc-6" not in crits  # removed from the registry text, and now from the catalog
    assert "added" not in crits["exc-7"] and crits["exc-7"]["approved"]["by"] == "Dr Test"
    assert "stale" in crits["age"]  # not approved: still stale
    # a criterion that is not stale cannot be approved; nor without a name
    bad = imnm(*base, "--criterion", "inc-1", "--by", "Dr Test")
    assert bad.returncode == 2 and "inc-1 is not marked stale or added" in bad.stderr
    assert imnm(*base, "--criterion", "age").returncode == 2


# ---------------------------------------------------------------- network failures leave the catalog unchanged

FAILURES = [
    ("timeout", ("sleep", 3, None), ("--timeout", "0.5", "--retries", "0"), "no answer from"),
    ("404", ("status", 404, {}, b"{}"), (), "the registry has no study NCT04025632 (http"),
    (
        "429",
        ("status", 429, {"Retry-After": "1"}, b"{}"),
        ("--retries", "1"),
        "429 Too Many Requests; Retry-After 1",
    ),
    (
        "500",
        ("status", 500, {}, b"oops"),
        ("--retries", "1"),
        "the registry failed (HTTP 500 Internal Server Error) after 2 attempts",
    ),
    ("malformed JSON", ("raw", b'{"protocolSection": {'), (), "is not JSON"),
    ("not a v2 record", ("json", {"protocolSection": []}), (), "is not an API v2 study record"),
]


@pytest.mark.parametrize(("case", "behaviour", "args", "message"), FAILURES, ids=[f[0] for f in FAILURES])
def test_failures_give_a_message_per_trial_and_change_nothing(
    registry: Registry, catalog: Path, case: str, behaviour: Any, args: tuple[str, ...], message: str
) -> None:
    registry.serve(ZILU, behaviour)
    registry.serve(KNEE, ("json", knee()))
    before = snapshot(catalog)
    p = update(registry, catalog, "--trial", ZILU, *args)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    assert f"✘ {ZILU}: could not be checked:" in p.stdout
    assert message in p.stdout
    assert "catalog entry left unchanged" in p.stdout
    assert snapshot(catalog) == before


def test_a_failure_does_not_stop_the_other_trials(registry: Registry, catalog: Path) -> None:
    registry.serve(ZILU, ("status", 500, {}, b""))
    registry.serve(KNEE, ("json", knee_withdrawn()))
    before = snapshot(catalog)
    p = update(registry, catalog, "--retries", "0", "--json")
    assert p.returncode == 1
    out = json.loads(p.stdout)
    outcomes = {t["id"]: t["outcome"] for t in out["trials"]}
    assert outcomes == {ZILU: "failed", KNEE: "updated"}
    after = snapshot(catalog)
    assert after[f"{ZILU}.yaml"] == before[f"{ZILU}.yaml"]
    assert after[f"{KNEE}.draft.yaml"] != before[f"{KNEE}.draft.yaml"]


def test_retry_after_is_honoured_and_requests_are_polite(registry: Registry, catalog: Path) -> None:
    """A 429 with Retry-After: 1, then the record: the client waits at least a second, sends its user
    agent, and keeps the minimum interval between requests."""
    registry.serve(ZILU, ("status", 429, {"Retry-After": "1"}, b"{}"), ("json", zilucoplan()))
    registry.serve(KNEE, ("json", knee()))
    p = imnm(
        "trials",
        "update",
        "--catalog",
        str(catalog),
        "--catalog-only",
        "--registry-url",
        registry.url,
        "--min-interval",
        "0.3",
        "--as-of",
        DAY,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    z = registry.study_requests(ZILU)
    assert len(z) == 2 and z[1]["time"] - z[0]["time"] >= 0.95
    times = [r["time"] for r in registry.requests]
    assert all(b - a >= 0.28 for a, b in itertools.pairwise(times))
    assert all(r["headers"]["User-Agent"].startswith("IMNM-Navigator/") for r in registry.requests)
    assert all(r["headers"]["Accept"] == "application/json" for r in registry.requests)


def test_dry_run_writes_nothing(registry: Registry, catalog: Path) -> None:
    registry.serve(ZILU, ("json", zilucoplan_2025()))
    registry.serve(KNEE, ("json", knee_withdrawn()))
    before = snapshot(catalog)
    p = update(registry, catalog, "--dry-run")
    assert p.returncode == 0 and "dry run: nothing written" in p.stdout
    assert "~ inclusion age changed" in p.stdout
    assert snapshot(catalog) == before


def test_bad_options_are_input_errors(catalog: Path) -> None:
    p = imnm("trials", "update", "--catalog", str(catalog), "--catalog-only", "--registry-url", "ftp://x")
    assert p.returncode == 2 and "--registry-url" in p.stderr
    p = imnm("trials", "update", "--catalog", str(catalog), "--catalog-only", "--timeout", "0")
    assert p.returncode == 2 and "--timeout" in p.stderr


def test_shipped_trials_are_refreshed_into_the_catalog_folder(registry: Registry, tmp_path: Path) -> None:
    """With --catalog DIR (not --catalog-only), a shipped trial's refreshed entry is written to DIR and
    replaces the shipped one from then on; the shipped file is not touched."""
    folder = tmp_path / "site"
    folder.mkdir()
    registry.serve(ZILU, ("json", zilucoplan_2025()))
    shipped_before = (SHIPPED / f"{ZILU}.yaml").read_text()
    p = imnm(
        "trials",
        "update",
        "--catalog",
        str(folder),
        "--trial",
        ZILU,
        "--registry-url",
        registry.url,
        "--min-interval",
        "0",
        "--as-of",
        DAY,
        "--json",
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert (SHIPPED / f"{ZILU}.yaml").read_text() == shipped_before
    assert (folder / f"{ZILU}.yaml").exists()
    listing = json.loads(imnm("trials", "list", "--catalog", str(folder), "--json", "--as-of", DAY).stdout)
    z = next(t for t in listing["trials"] if t["id"] == ZILU)
    assert z["replaces_shipped"] == f"knowledge/data/trials/{ZILU}.yaml"
    assert z["freshness"]["state"] == "drift"
    assert len(listing["trials"]) == 23


# ---------------------------------------------------------------- search


def test_search_drafts_the_new_trial(registry: Registry, catalog: Path) -> None:
    new = copy.deepcopy(zilucoplan())
    new["protocolSection"]["identificationModule"]["nctId"] = "NCT09900001"
    new["protocolSection"]["identificationModule"]["briefTitle"] = (
        "Edited copy of the zilucoplan record (a new IMNM trial)"
    )
    new["protocolSection"]["statusModule"]["overallStatus"] = "RECRUITING"
    observational = copy.deepcopy(new)
    observational["protocolSection"]["identificationModule"]["nctId"] = "NCT09900002"
    observational["protocolSection"]["designModule"]["studyType"] = "OBSERVATIONAL"
    registry.search_pages = [[zilucoplan(), new, observational], [knee()]]
    p = imnm(
        "trials",
        "search",
        "--catalog",
        str(catalog),
        "--catalog-only",
        "--registry-url",
        registry.url,
        "--min-interval",
        "0",
        "--as-of",
        DAY,
        "--condition",
        "necrotizing myopathy",
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "+ NCT09900001 (new)" in p.stdout and "13 of 13 criteria encoded (100 %)" in p.stdout
    assert "= NCT04025632 (in the catalog)" in p.stdout
    draft = catalog / "NCT09900001.draft.yaml"
    data = load(draft)
    assert data["draft"] is True and data["status"] == "RECRUITING"
    assert data["encoded_from"]["basis"] == "registry_record"
    assert data["sites"][0]["facility"] == "University of California Los Angeles"
    assert not (catalog / "NCT09900002.draft.yaml").exists()  # observational
    # the search asked for interventional studies, page by page
    searches = [r for r in registry.requests if r["path"] == "/api/v2/studies"]
    assert searches[0]["query"]["filter.advanced"] == ["AREA[StudyType]INTERVENTIONAL"]
    assert searches[1]["query"]["pageToken"] == ["1"]
    # the knee study on page 2 is interventional and not in the catalog: searched by the user's own term,
    # it is drafted too (the registry decides what matches a term the user gives)
    assert (catalog / f"{KNEE}.draft.yaml").exists()
    # the draft loads as part of the catalog; a second search does not overwrite it
    listing = json.loads(
        imnm("trials", "list", "--catalog", str(catalog), "--catalog-only", "--json", "--as-of", DAY).stdout
    )
    new_row = next(t for t in listing["trials"] if t["id"] == "NCT09900001")
    assert new_row["freshness"]["state"] == "fresh"
    assert new_row["freshness"]["text"] == f"read from the registry on {DAY}"
    again = imnm(
        "trials",
        "search",
        "--catalog",
        str(catalog),
        "--catalog-only",
        "--registry-url",
        registry.url,
        "--min-interval",
        "0",
        "--condition",
        "necrotizing myopathy",
        "--json",
    )
    found = {f["id"]: f for f in json.loads(again.stdout)["found"]}
    assert found["NCT09900001"]["in_catalog"] is True


def test_default_search_keeps_broad_hits_only_when_imnm_is_named(registry: Registry, catalog: Path) -> None:
    """The default terms include 'myositis'; its hits are kept only when the criteria or conditions name
    IMNM (the knee record does not)."""
    registry.search_pages = [[knee()]]
    (catalog / f"{KNEE}.draft.yaml").unlink()
    p = imnm(
        "trials",
        "search",
        "--catalog",
        str(catalog),
        "--catalog-only",
        "--registry-url",
        registry.url,
        "--min-interval",
        "0",
        "--json",
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    # the four specific terms keep it (the registry matched them), "myositis" alone would not
    assert out["conditions"][-1] == "myositis"
    assert [f["id"] for f in out["found"]] == [KNEE]
    assert out["found"][0]["terms"] == out["conditions"][:4]
