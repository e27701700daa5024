"""Reviews against the record (issue 16 item 5: the conflict state), stale rules in the evaluation,
and the per-criterion comparison with a registry record (`imnm.trials.drift`)."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest

from imnm.trials.evaluate import Review
from imnm.trials.load import catalog
from tests.shared import shared
from tests.test_cli import imnm
from tests.trials.patients import AS_OF, DROP, imnm_patient, one, with_

ZILU = "NCT04025632"
RITUXIMAB = {"name": "rituximab", "dose": "1 g", "start": "2026-11-22", "stop": "2026-11-22"}
STATIN = {"name": "atorvastatin", "dose_mg_per_day": 20, "start": "2026-11-22"}


def _zilu() -> Any:
    return next(t for t in catalog() if t.id == ZILU)


def _crit(result: Any, cid: str) -> Any:
    return next(c for c in result.criteria if c.criterion.id == cid)


# ---------------------------------------------------------------- a review and the record


def test_a_review_settles_what_the_record_leaves_open() -> None:
    """No medication list: 'Rituximab use within 90 days' is unknown; a clinician's review "no rituximab"
    settles it (exclusion not met)."""
    data = with_(imnm_patient(), "medications", DROP)
    review = {(ZILU, "exc-4"): Review(ZILU, "exc-4", False, "Dr Test", date(2026, 11, 20))}
    c = _crit(one(data, ZILU), "exc-4")
    assert c.effect == "missing"
    c = _crit(one(data, ZILU, reviews=review), "exc-4")
    assert (c.status, c.effect, c.reviewed) == ("not_met", "ok", review[(ZILU, "exc-4")])


def test_a_later_record_fact_that_says_the_opposite_is_a_conflict() -> None:
    """The review said "no rituximab" on 2026-11-20; a rituximab course of 2026-11-22 is then recorded.
    The criterion is a conflict to resolve, never settled either way. (Rituximab is also an
    immunosuppressant, so another criterion, "no changes in immunosuppressive therapy", fails on the record.)"""
    data = imnm_patient()
    data["medications"].append(RITUXIMAB)
    review = {(ZILU, "exc-4"): Review(ZILU, "exc-4", False, "Dr Test", date(2026, 11, 20))}
    assert {c.criterion.id for c in one(data, ZILU).failed} == {"inc-6", "exc-4"}
    r = one(data, ZILU, reviews=review)
    c = _crit(r, "exc-4")
    assert (c.status, c.effect) == ("conflict", "conflict")
    assert c.conflict is not None and c.conflict.after_review is True and c.conflict.record == "met"
    assert "recorded after the review" in c.review
    assert "reviewed as not met by Dr Test on 2026-11-20" in c.review
    assert {f.criterion.id for f in r.failed} == {"inc-6"} and r.conflicts == (c,)
    d = r.as_dict()
    assert d["conflicts"][0]["id"] == "exc-4" and d["conflicts"][0]["evidence_after_review"] is True


def test_a_conflict_alone_keeps_the_trial_open() -> None:
    """The review said "no statin" on 2026-11-20; atorvastatin from 2026-11-22 is then recorded. Without the
    review the record excludes the patient; with it, the trial is neither eligible nor ineligible."""
    data = imnm_patient()
    data["medications"].append(STATIN)
    review = {(ZILU, "exc-5"): Review(ZILU, "exc-5", False, "Dr Test", date(2026, 11, 20))}
    assert one(data, ZILU).verdict == "ineligible"
    r = one(data, ZILU, reviews=review)
    assert r.verdict == "needs_information" and r.pending == "conflict" and r.failed == ()
    assert "disagree" in r.note


def test_a_review_that_disagrees_with_older_facts_is_a_conflict_too() -> None:
    """The review (2026-11-24) says the CK criterion is met; the CK of 2026-11-20 is 800 U/L."""
    data = imnm_patient()
    data["labs"][0]["value"] = 800
    review = {(ZILU, "inc-4"): Review(ZILU, "inc-4", True, "Dr Test", date(2026, 11, 24))}
    c = _crit(one(data, ZILU, reviews=review), "inc-4")
    assert c.effect == "conflict" and c.conflict.after_review is False
    assert "dated before the review" in c.review and "800" in c.review
    undated = {(ZILU, "inc-4"): Review(ZILU, "inc-4", True, "Dr Test", None)}
    assert "the review has no date" in _crit(one(data, ZILU, reviews=undated), "inc-4").review


def test_a_review_that_agrees_with_the_record_is_kept() -> None:
    review = {(ZILU, "exc-4"): Review(ZILU, "exc-4", False, "Dr Test", date(2026, 11, 20))}
    r = one(imnm_patient(), ZILU, reviews=review)
    c = _crit(r, "exc-4")
    assert (c.status, c.effect, c.conflict) == ("not_met", "ok", None) and c.reviewed is not None
    assert r.verdict == "eligible"


def test_conflicts_in_the_cli(tmp_path: Any) -> None:
    import yaml

    data = imnm_patient()
    data["medications"].append(STATIN)
    rec = tmp_path / "p.yaml"
    rec.write_text(yaml.safe_dump(data), encoding="utf-8")
    rv = tmp_path / "reviews.yaml"
    rv.write_text(
        yaml.safe_dump(
            {
                "reviews": [
                    {"trial": ZILU, "criterion": "exc-5", "met": False, "by": "Dr Test", "date": "2026-11-20"}
                ]
            }
        ),
        encoding="utf-8",
    )
    p = imnm("trials", str(rec), "--reviews", str(rv), "--trial", ZILU, "--as-of", "2026-11-25")
    assert p.returncode == 0, p.stderr
    assert "Conflicts to resolve (a clinician's review and the record disagree):" in p.stdout
    assert "(a review conflicts with the record)" in p.stdout


# ---------------------------------------------------------------- stale rules


def _stale(trial: Any, cid: str, **stale: Any) -> Any:
    from imnm.trials.model import Stale

    def mark(c: Any) -> Any:
        return c.model_copy(update={"stale": Stale(**stale)}) if c.id == cid else c

    return trial.model_copy(
        update={
            "inclusion": [mark(c) for c in trial.inclusion],
            "exclusion": [mark(c) for c in trial.exclusion],
        }
    )


def test_a_stale_rule_never_counts() -> None:
    changed = {
        "change": "changed",
        "since": "2025-03-03",
        "checked_on": date(2026, 11, 25),
        "registry_text": "CK > 500 U/L",
    }
    trial = _stale(_zilu(), "inc-4", **changed)
    met = imnm_patient()  # CK 6000: the old rule says met
    failing = imnm_patient()
    failing["labs"][0]["value"] = 800  # the old rule says not met
    for data in (met, failing):
        r = one(data, trial)
        c = _crit(r, "inc-4")
        assert (c.status, c.effect) == ("stale", "review")
        assert c.review == "needs review: the registry text changed on 2025-03-03"
        assert r.verdict == "needs_information" and r.failed == ()
        assert c.as_dict()["stale"]["registry_text"] == "CK > 500 U/L"
    removed = _stale(_zilu(), "exc-6", change="removed", since="2025-03", checked_on=date(2026, 11, 25))
    assert "no longer has this criterion" in _crit(one(met, removed), "exc-6").review


def test_a_review_of_a_stale_rule_counts_only_after_the_change() -> None:
    changed = {
        "change": "changed",
        "since": "2025-03",
        "checked_on": date(2026, 11, 25),
        "registry_text": "CK > 500 U/L",
    }
    trial = _stale(_zilu(), "inc-4", **changed)
    before = {
        (ZILU, "inc-4"): Review(ZILU, "inc-4", True, "Dr Test", date(2025, 3, 15))
    }  # within March: not surely after
    after = {(ZILU, "inc-4"): Review(ZILU, "inc-4", True, "Dr Test", date(2025, 4, 1))}
    assert _crit(one(imnm_patient(), trial, reviews=before), "inc-4").status == "stale"
    c = _crit(one(imnm_patient(), trial, reviews=after), "inc-4")
    assert (c.status, c.effect) == ("met", "ok")
    assert one(imnm_patient(), trial, reviews=after).verdict == "eligible"


# ---------------------------------------------------------------- comparing with a registry record


def _record() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        shared("knowledge", "trials", "NCT04025632.transcribed-v2.json").read_text()
    )
    return data


def test_the_transcribed_record_matches_the_catalog_text() -> None:
    from imnm.trials.drift import changes, compare

    diffs = compare(_zilu(), _record())
    assert len(diffs) == 13 and changes(diffs) == []


def test_each_kind_of_change_is_paired_with_its_criterion() -> None:
    from imnm.trials.drift import changes, compare

    study = copy.deepcopy(_record())
    elig = study["protocolSection"]["eligibilityModule"]
    text = elig["eligibilityCriteria"]
    text = text.replace(
        "Creatine kinase (CK) of >1000 U/L at Screening", "Creatine kinase (CK) of >500 U/L at Screening"
    )
    text = text.replace("* History of meningococcal disease\n", "")
    text += "\n* Prior treatment with any complement inhibitor"
    elig["eligibilityCriteria"] = text
    del elig["maximumAge"]
    found = {(d.change, d.criterion) for d in changes(compare(_zilu(), study))}
    assert found == {("changed", "inc-4"), ("removed", "exc-1"), ("added", None), ("changed", "age")}
    added = next(d for d in changes(compare(_zilu(), study)) if d.change == "added")
    assert (added.kind, added.new) == ("exclusion", "Prior treatment with any complement inhibitor")


def test_word_diff() -> None:
    from imnm.trials.drift import word_diff

    assert word_diff("CK of >1000 U/L at Screening", "CK of >500 U/L at Screening") == ["[->1000-]{+>500+}"]
    assert word_diff("a  b", "a b") == []


def test_registry_hashes() -> None:
    import hashlib

    from imnm.trials.drift import registry_text_sha256

    text = _record()["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
    assert registry_text_sha256(text) == hashlib.sha256(text.strip().encode()).hexdigest()
    assert registry_text_sha256(text.replace("\n", "\r\n")) == registry_text_sha256(text)


# ---------------------------------------------------------------- the client's limits


def test_a_long_retry_after_is_not_waited_for() -> None:
    from imnm.trials.registry import RegistryClient, RegistryError, RegistryOptions
    from tests.trials.registry_server import Registry

    server = Registry().start()
    try:
        server.serve(ZILU, ("status", 429, {"Retry-After": "600"}, b"{}"))
        waits: list[float] = []
        options = RegistryOptions(url=server.url, min_interval=0)
        with RegistryClient(options, sleep=waits.append) as client, pytest.raises(RegistryError) as err:
            client.study(ZILU)
        assert "asks to wait 600 s" in str(err.value) and waits == []
        # a 503 with an HTTP-date Retry-After in the past: retried at once (backoff only)
        server.serve(
            ZILU, ("status", 503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, b""), ("json", _record())
        )
        with RegistryClient(
            RegistryOptions(url=server.url, min_interval=0, backoff=0.01), sleep=waits.append
        ) as client:
            assert client.study(ZILU)["protocolSection"]["identificationModule"]["nctId"] == ZILU
        assert waits == [0.01]
        # the answer is another study's record
        server.serve(
            ZILU,
            (
                "json",
                json.loads(shared("knowledge", "trials", "NCT05013879.ctgov-v2.trimmed.json").read_text()),
            ),
        )
        with (
            RegistryClient(options, sleep=waits.append) as client,
            pytest.raises(RegistryError, match="answered with NCT05013879"),
        ):
            client.study(ZILU)
    finally:
        server.stop()


def test_nothing_touches_the_network_without_update_or_search(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Matching and listing never build a registry client (offline by default)."""
    import imnm.trials.registry as registry

    def refuse(*_a: Any, **_k: Any) -> None:
        raise AssertionError("a registry client was built")

    monkeypatch.setattr(registry.RegistryClient, "__init__", refuse)
    from imnm import services
    from imnm.record.load import parse_record

    services.match_trials(parse_record(imnm_patient()), as_of=AS_OF)
    services.list_trials(today=AS_OF)
