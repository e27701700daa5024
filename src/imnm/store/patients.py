"""Patients as record documents with revisions; diff; reviews of manual-review criteria; erasure.

The stored document of a revision is the validated record, `model_dump(mode="json",
exclude_none=True)`: omitted = unknown, exactly as in a record file. Revisions are numbered
from 1, immutable, and each says who, when and why. A write names the revision it is based on;
a stale write raises `ConflictError` with the current revision (never a silent lost update).
Visibility: the principal must belong to the patient's team, otherwise `NotFoundError` (the
same as for a patient that does not exist).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections import OrderedDict
from datetime import date, timedelta
from difflib import SequenceMatcher
from threading import Lock
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from imnm.errors import InputError, Problem
from imnm.store.models import ErasureRequest, Patient, Review, Revision, Team, utcnow
from imnm.store.principal import Principal
from imnm.store.users import ConflictError, NotFoundError, sha256

ERASURE_TTL = timedelta(minutes=15)


def canonical(record: Any) -> dict[str, Any]:
    """The stored form of a validated record."""
    return record.model_dump(mode="json", exclude_none=True)  # type: ignore[no-any-return]


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


# Parsed records per document digest (revisions never change, so this cache is always right).
_CACHE: OrderedDict[str, Any] = OrderedDict()
_CACHE_LOCK = Lock()
_CACHE_SIZE = 1024


def record_of(rev: Revision) -> Any:
    """The validated `Record` of a revision (cached by its content digest)."""
    with _CACHE_LOCK:
        hit = _CACHE.get(rev.digest)
        if hit is not None:
            _CACHE.move_to_end(rev.digest)
            return hit
    return _remember(rev.digest, rev.document)


def document_of(rev: Revision) -> dict[str, Any]:
    return json.loads(rev.document)  # type: ignore[no-any-return]


# -- lookup -----------------------------------------------------------------------------------


def visible(s: Session, who: Principal, patient_id: str) -> Patient:
    p = s.get(Patient, patient_id) if isinstance(patient_id, str) and len(patient_id) <= 40 else None
    if p is None or p.erased_at is not None or not who.sees_team(p.team_id):
        raise NotFoundError("no such patient (or not one of your teams' patients)")
    return p


def revision(s: Session, p: Patient, number: int | None = None) -> Revision:
    n = p.current_revision if number is None else number
    rev = s.execute(
        select(Revision).where(Revision.patient_id == p.id, Revision.number == n)
    ).scalar_one_or_none()
    if rev is None:
        raise NotFoundError(f"patient {p.id} has no revision {n} (revisions 1 to {p.current_revision})")
    return rev


_P, _R = Patient.__table__, Revision.__table__
_RECORD_LOOKUP = (
    select(_P.c.team_id, _P.c.erased_at, _P.c.current_revision, _R.c.number, _R.c.digest)
    .join(_R, _R.c.patient_id == _P.c.id)
    .where(_P.c.id == bindparam("p"))
)


def record_for(s: Session, who: Principal, patient_id: str, number: int | None = None) -> tuple[Any, int]:
    """The validated record of a visible patient's revision (current by default) and its number.

    Hot path of the computed views: one Core query, the parsed record cached by content digest."""
    if not isinstance(patient_id, str) or len(patient_id) > 40:
        raise NotFoundError("no such patient (or not one of your teams' patients)")
    conn = s.connection()
    stmt = _RECORD_LOOKUP.where(_R.c.number == (_P.c.current_revision if number is None else number))
    row = conn.execute(stmt, {"p": patient_id}).first()
    if row is None:
        head = conn.execute(
            select(_P.c.team_id, _P.c.erased_at, _P.c.current_revision).where(_P.c.id == patient_id)
        ).first()
        if head is None or head.erased_at is not None or not who.sees_team(head.team_id):
            raise NotFoundError("no such patient (or not one of your teams' patients)")
        raise NotFoundError(
            f"patient {patient_id} has no revision {number} (revisions 1 to {head.current_revision})"
        )
    if row.erased_at is not None or not who.sees_team(row.team_id):
        raise NotFoundError("no such patient (or not one of your teams' patients)")
    with _CACHE_LOCK:
        hit = _CACHE.get(row.digest)
    if hit is None:
        doc = conn.execute(
            select(_R.c.document).where(_R.c.patient_id == patient_id, _R.c.number == row.number)
        ).scalar_one()
        hit = _remember(row.digest, doc)
    return hit, int(row.number)


def _remember(digest: str, document: str) -> Any:
    from imnm.record.load import parse_record

    rec = parse_record(json.loads(document))
    with _CACHE_LOCK:
        _CACHE[digest] = rec
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return rec


def team_name(s: Session, team_id: int) -> str:
    return str(s.execute(select(Team.name).where(Team.id == team_id)).scalar_one())


def summary(s: Session, p: Patient, rev: Revision | None = None) -> dict[str, Any]:
    return {
        "id": p.id,
        "record_id": p.record_id,
        "team": team_name(s, p.team_id),
        "revision": p.current_revision,
        "created_at": p.created_at.isoformat(),
        "updated_at": rev.created_at.isoformat() if rev else None,
    }


def revision_dict(rev: Revision) -> dict[str, Any]:
    return {
        "number": rev.number,
        "created_at": rev.created_at.isoformat(),
        "by": rev.actor,
        "reason": rev.reason,
        "operations": json.loads(rev.operations) if rev.operations else None,
        "digest": rev.digest,
    }


def search(
    s: Session,
    who: Principal,
    *,
    q: str | None = None,
    team: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Patient], int]:
    stmt = select(Patient).where(Patient.erased_at.is_(None))
    if not who.operator:
        stmt = stmt.where(Patient.team_id.in_(sorted(who.team_ids) or [-1]))
    if team is not None:
        stmt = stmt.join(Team, Team.id == Patient.team_id).where(Team.name == team)
    if q:
        like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(func.lower(Patient.record_id).like(like, escape="\\") | (Patient.id == q))
    total = int(s.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())
    rows = list(s.execute(stmt.order_by(Patient.record_id, Patient.id).limit(limit).offset(offset)).scalars())
    return rows, total


# -- writes -----------------------------------------------------------------------------------


def _new_revision(
    s: Session, p: Patient, number: int, record: Any, who: Principal, reason: str | None, ops: Any
) -> Revision:
    doc = _dumps(canonical(record))
    rev = Revision(
        patient_id=p.id,
        number=number,
        document=doc,
        digest=hashlib.sha256(doc.encode()).hexdigest(),
        user_id=who.user_id,
        token_id=who.token_id,
        actor=who.actor,
        reason=reason,
        operations=None if ops is None else json.dumps(ops, ensure_ascii=False),
    )
    s.add(rev)
    return rev


def create(
    s: Session, who: Principal, record: Any, *, team: str | None, reason: str | None
) -> tuple[Patient, Revision]:
    """A new patient in one of the principal's teams, revision 1 = the given record."""
    team_row = _team_for(s, who, team)
    if s.execute(
        select(Patient.id).where(Patient.team_id == team_row.id, Patient.record_id == record.id)
    ).first():
        raise ConflictError(
            f"team {team_row.name!r} already has a patient with record id {record.id!r}",
            fix="update that patient (PATCH) or give the record another id",
        )
    p = Patient(id=uuid.uuid4().hex[:20], team_id=team_row.id, record_id=record.id, current_revision=1)
    s.add(p)
    s.flush()
    rev = _new_revision(s, p, 1, record, who, reason or "created", None)
    try:
        s.flush()
    except IntegrityError:
        raise ConflictError(
            f"team {team_row.name!r} already has a patient with record id {record.id!r}"
        ) from None
    return p, rev


def _team_for(s: Session, who: Principal, team: str | None) -> Team:
    if team is None:
        if who.operator or len(who.team_ids) != 1:
            raise InputError(
                [Problem("team", "say which team the patient belongs to", "give team: NAME", None)],
                what="request",
            )
        return s.get(Team, next(iter(who.team_ids)))  # type: ignore[return-value]
    row = s.execute(select(Team).where(Team.name == team)).scalar_one_or_none()
    if row is None or not who.sees_team(row.id):
        raise InputError(
            [Problem("team", f"{team!r} is not one of your teams", "use a team you belong to", team)],
            what="request",
        )
    return row


def update(s: Session, who: Principal, p: Patient, *, base: int, body: Any) -> Revision:
    """A new revision from partial-update operations on revision `base` (the If-Match)."""
    from imnm.store.ops import updated_record

    if base != p.current_revision:
        raise ConflictError(
            f"revision {base} is not the current revision ({p.current_revision}); "
            "read the current revision, reapply your change and send it with If-Match: "
            f'"{p.current_revision}"',
            current_revision=p.current_revision,
        )
    current = revision(s, p)
    record = updated_record(document_of(current), body)
    if record.id != p.record_id:
        clash = s.execute(
            select(Patient.id).where(Patient.team_id == p.team_id, Patient.record_id == record.id)
        ).first()
        if clash:
            raise ConflictError(f"this team already has a patient with record id {record.id!r}")
    number = base + 1
    ops = [op.model_dump(mode="json") for op in body.operations]
    rev = _new_revision(s, p, number, record, who, body.reason, ops)
    p.current_revision = number
    p.record_id = record.id
    try:
        s.flush()
    except IntegrityError:  # a concurrent writer took this revision number
        s.rollback()
        raise ConflictError(
            f"revision {base} was changed meanwhile; read the current revision and retry",
            current_revision=None,
        ) from None
    return rev


# -- diff -------------------------------------------------------------------------------------


def _key(x: Any) -> str:
    return json.dumps(x, sort_keys=True, ensure_ascii=False)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def diff(a: Any, b: Any, path: str = "") -> list[dict[str, Any]]:
    """Changes from document `a` to document `b`: added / removed / changed, with dotted paths."""
    if a == b:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[dict[str, Any]] = []
        for k in [*a, *(k for k in b if k not in a)]:
            if k not in b:
                out.append({"change": "removed", "path": _join(path, k), "old": a[k]})
            elif k not in a:
                out.append({"change": "added", "path": _join(path, k), "new": b[k]})
            else:
                out.extend(diff(a[k], b[k], _join(path, k)))
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        sm = SequenceMatcher(None, [_key(x) for x in a], [_key(x) for x in b], autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal":
                continue
            if tag == "replace" and i2 - i1 == j2 - j1:
                for k in range(i2 - i1):
                    out.extend(diff(a[i1 + k], b[j1 + k], _join(path, j1 + k)))
                continue
            for k in range(i1, i2):
                out.append({"change": "removed", "path": _join(path, k), "old": a[k]})
            for k in range(j1, j2):
                out.append({"change": "added", "path": _join(path, k), "new": b[k]})
        return out
    return [{"change": "changed", "path": path, "old": a, "new": b}]


# -- reviews ----------------------------------------------------------------------------------


def add_review(
    s: Session, who: Principal, p: Patient, *, trial: str, criterion: str, met: bool, note: str | None
) -> Review:
    """Store a review (the caller checks that the criterion is a manual-review item of the trial)."""
    row = Review(
        patient_id=p.id,
        trial_id=trial,
        criterion_id=criterion,
        met=met,
        note=note,
        user_id=who.user_id,
        actor=who.actor,
        revision=p.current_revision,
    )
    s.add(row)
    s.flush()
    return row


def reviews(s: Session, p: Patient) -> list[Review]:
    return reviews_of(s, p.id)


def reviews_of(s: Session, patient_id: str) -> list[Review]:
    return list(
        s.execute(select(Review).where(Review.patient_id == patient_id).order_by(Review.id)).scalars()
    )


def review_dict(r: Review) -> dict[str, Any]:
    return {
        "id": r.id,
        "trial": r.trial_id,
        "criterion": r.criterion_id,
        "met": r.met,
        "note": r.note,
        "by": r.actor,
        "at": r.created_at.isoformat(),
        "revision": r.revision,
    }


def latest_reviews(rows: list[Review]) -> dict[tuple[str, str], Review]:
    """The latest review per (trial, criterion); `rows` oldest first."""
    out: dict[tuple[str, str], Review] = {}
    for r in rows:
        out[(r.trial_id, r.criterion_id)] = r
    return out


# -- erasure (two steps) --------------------------------------------------------------------


def request_erasure(s: Session, who: Principal, patient_id: str, reason: str) -> tuple[ErasureRequest, str]:
    p = s.get(Patient, patient_id) if len(patient_id) <= 40 else None
    if p is None or p.erased_at is not None:
        raise NotFoundError("no such patient")
    if not reason.strip():
        raise InputError(
            [Problem("reason", "say why the patient is erased", "e.g. the patient's request of DATE")]
        )
    token = secrets.token_urlsafe(24)
    row = ErasureRequest(
        patient_id=p.id,
        token_hash=sha256(token),
        reason=reason,
        requested_by=who.actor,
        expires_at=utcnow() + ERASURE_TTL,
    )
    s.add(row)
    s.flush()
    return row, token


def confirm_erasure(s: Session, who: Principal, patient_id: str, token: str) -> ErasureRequest:
    row = s.execute(
        select(ErasureRequest).where(ErasureRequest.token_hash == sha256(token or ""))
    ).scalar_one_or_none()
    if (
        row is None
        or row.patient_id != patient_id
        or row.confirmed_at is not None
        or row.expires_at <= utcnow()
    ):
        raise InputError(
            [
                Problem(
                    "token",
                    "no open erasure request with this token for this patient (wrong, used or expired)",
                    "request the erasure again; a token is valid for 15 minutes",
                )
            ],
            what="erasure",
        )
    p = s.get(Patient, patient_id)
    if p is None or p.erased_at is not None:
        raise NotFoundError("no such patient")
    s.execute(delete(Review).where(Review.patient_id == p.id))
    s.execute(delete(Revision).where(Revision.patient_id == p.id))
    p.record_id = None
    p.erased_at = utcnow()
    row.confirmed_at = p.erased_at
    row.confirmed_by = who.actor
    s.flush()
    return row


def parse_day(value: str | None, path: str = "as_of") -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            [Problem(path, f"{value!r} is not an ISO date", "write YYYY-MM-DD", value)], what="query"
        ) from None
