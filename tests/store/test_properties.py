"""Invariants of the store under random partial updates (hypothesis): a valid update adds exactly one
revision holding the old record plus the change; an invalid one changes nothing; no revision is ever
altered; the diff of two revisions names exactly what changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imnm.errors import InputError
from imnm.record.load import load_record, parse_record
from imnm.store import ops, patients, users
from imnm.store.db import Database
from tests.conftest import EXAMPLES

units = st.sampled_from(["U/L", "IU/L", "ukat/L", "mg/dL", "U"])
values: Any = st.one_of(st.floats(min_value=-10, max_value=1e6, allow_nan=False), st.just("12"), st.none())
labs = st.fixed_dictionaries(
    {"test": st.sampled_from(["ck", "aldolase", "cpk"]), "value": values, "unit": units},
    optional={
        "uln": st.floats(min_value=-1, max_value=500, allow_nan=False),
        "date": st.sampled_from(["2024-12-01", "2024-13-01"]),
    },
)
findings = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["dysphagia", "fever", "myalgia", "dysphagai"]),
        "value": st.sampled_from([True, False, None, "yes"]),
    }
)
operation = st.one_of(
    st.builds(lambda v: {"op": "add_lab", "value": v}, labs),
    st.builds(lambda v: {"op": "set_finding", "value": v}, findings),
    st.builds(lambda i: {"op": "remove_item", "value": {"section": "labs", "index": i}}, st.integers(0, 8)),
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = tmp_path_factory.mktemp("prop") / "p.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.session() as s:
        users.create_team(s, "t")
        u = users.create_user(s, "prop", "property password", roles=["clinician"], teams=["t"])
        who = users.principal_for(s, u)
        p, _ = patients.create(s, who, load_record(EXAMPLES / "anti-hmgcr.yaml"), team="t", reason="seed")
    yield db, who, p.id
    db.dispose()


@settings(max_examples=60, deadline=None)
@given(batch=st.lists(operation, min_size=1, max_size=4))
def test_an_update_adds_one_revision_or_changes_nothing(store: Any, batch: list[dict[str, Any]]) -> None:
    db, who, pid = store
    with db.session() as s:
        p = patients.visible(s, who, pid)
        before_n = p.current_revision
        before = patients.document_of(patients.revision(s, p))
        old_revisions = [patients.revision(s, p, n).document for n in range(1, before_n + 1)]
    body = ops.parse_patch({"reason": "property", "operations": batch})
    try:
        with db.session() as s:
            p = patients.visible(s, who, pid)
            rev = patients.update(s, who, p, base=before_n, body=body)
            after = patients.document_of(rev)
    except InputError as exc:
        assert exc.problems and all(q.path for q in exc.problems)
        with db.session() as s:
            p = patients.visible(s, who, pid)
            assert p.current_revision == before_n
            assert patients.document_of(patients.revision(s, p)) == before
        return
    expected, _ = ops.apply(before, body)
    assert after == patients.canonical(parse_record(expected))  # the change, validated, nothing else
    assert patients.canonical(parse_record(after)) == after  # stored documents are canonical
    with db.session() as s:
        p = patients.visible(s, who, pid)
        assert p.current_revision == before_n + 1
        assert [patients.revision(s, p, n).document for n in range(1, before_n + 1)] == old_revisions
    changes = patients.diff(before, after)
    assert (changes == []) == (before == after)
    for c in changes:
        assert c["change"] in ("added", "removed", "changed") and c["path"]
