"""The coordinator's pages: the trial catalog, a trial's criteria with their encoding, the candidate
list across the patients one may see (with manual reviews), and its CSV export.

Verdicts, missing tests and reviews come from `imnm.services.match_trials` with the stored reviews
(exactly `GET /api/v1/patients/{id}/trials`); the wording of missing items is `imnm.render.trials`'.
Every patient shown on a candidate page or in a CSV file gets its own audit event.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from imnm.api.auth import Ctx, need
from imnm.errors import InputError, Problem
from imnm.store.principal import Perm
from imnm.web.common import audit_shown, day, read_form, text
from imnm.web.templating import render

router = APIRouter(include_in_schema=False)
MAX_CANDIDATES = 1000
PHASE_TEXT = {
    "EARLY_PHASE1": "early phase 1",
    "PHASE1": "phase 1",
    "PHASE2": "phase 2",
    "PHASE3": "phase 3",
    "PHASE4": "phase 4",
    "NA": "not applicable",
}
IMNM_TEXT = {
    "imnm_only": "IMNM only",
    "includes_imnm": "includes IMNM",
    "rollover": "rollover (open-label extension)",
    "unclear": "unclear whether IMNM may enrol",
    "excludes_imnm": "excludes IMNM (for reference)",
    "not_imnm": "not for IMNM (for reference)",
    "unreviewed": "not reviewed",
}
# Trial fields the trial page shows in their own places; any other field of the catalog entry (for
# example the status date, sites and contacts of issue 16) is listed under "More registry details".
SHOWN = {
    "id", "acronym", "title", "official_title", "phases", "sponsor", "status", "status_note", "conditions",
    "minimum_age", "maximum_age", "sex", "imnm", "draft", "source", "assumptions", "inclusion", "exclusion",
    "cohorts",
}  # fmt: skip


def _trial(trial_id: str) -> Any:
    from imnm import services

    try:
        return services.get_trial(trial_id)
    except InputError:
        from imnm.store.users import NotFoundError

        raise NotFoundError(f"{trial_id!r} is not in the trial catalog") from None


@router.get("/trials")
def catalog(
    request: Request,
    ctx: Annotated[Ctx, Depends(need(Perm.CATALOG))],
    open: Annotated[str | None, Query(max_length=5)] = None,
    phase: Annotated[str | None, Query(max_length=20)] = None,
    imnm: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    from imnm import services
    from imnm.trials.evaluate import status_group

    listing = services.list_trials()
    rows = []
    phases: set[str] = set()
    for summary in listing.trials:
        d = summary.as_dict()
        phases.update(d["phases"])  # type: ignore[arg-type]
        if open and not d["recruiting"]:
            continue
        if phase and phase not in d["phases"]:  # type: ignore[operator]
            continue
        if imnm and d["imnm"] != imnm:
            continue
        rows.append(
            {
                **d,
                "group": status_group(str(d["status"])),
                "imnm_text": IMNM_TEXT.get(str(d["imnm"]), str(d["imnm"])),
            }
        )
    order = {"open": 0, "not_open": 1, "closed": 2}
    rows.sort(key=lambda r: (order.get(str(r["group"]), 3), str(r["id"])))
    return render(
        request,
        "trials/catalog.html",
        {
            "title": "Trial catalog",
            "rows": rows,
            "total": len(listing.trials),
            "filters": {"open": bool(open), "phase": phase or "", "imnm": imnm or ""},
            "phases": [(p, PHASE_TEXT.get(p, p)) for p in sorted(phases)],
            "imnm_roles": list(IMNM_TEXT.items()),
        },
        fragment="trials/_catalog_table.html",
    )


def _criteria_rows(trial: Any) -> list[dict[str, Any]]:
    from imnm.render.rules import rule_lines, rule_yaml

    groups: list[tuple[str | None, str, list[Any]]] = [
        (None, "inclusion", list(trial.inclusion)),
        (None, "exclusion", list(trial.exclusion)),
    ]
    for c in trial.cohorts:
        groups += [(c.label, "inclusion", list(c.inclusion)), (c.label, "exclusion", list(c.exclusion))]
    out = []
    for cohort, kind, crits in groups:
        for c in crits:
            out.append(
                {
                    "cohort": cohort,
                    "kind": kind,
                    "c": c,
                    "lines": rule_lines(c.rule) if c.rule is not None else [],
                    "yaml": rule_yaml(c.rule) if c.rule is not None else None,
                    "extra": {
                        k: v
                        for k, v in c.model_dump(
                            mode="json", exclude_none=True, exclude_defaults=True
                        ).items()
                        if k
                        not in (
                            "id",
                            "text",
                            "rule",
                            "manual_review",
                            "reason",
                            "assumptions",
                            "assessments",
                            "structured",
                            "truncated",
                            "note",
                        )
                    },
                }
            )
    return out


def extra_fields(trial: Any) -> list[tuple[str, Any]]:
    data = trial.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    return [(k.replace("_", " "), v) for k, v in data.items() if k not in SHOWN]


@router.get("/trials/{trial_id}")
def trial_page(request: Request, trial_id: str, ctx: Annotated[Ctx, Depends(need(Perm.CATALOG))]) -> Response:
    t = _trial(trial_id)
    return render(
        request,
        "trials/trial.html",
        {
            "title": f"{t.id} {t.acronym or ''}".strip(),
            "t": t,
            "tab": "criteria",
            "rows": _criteria_rows(t),
            "extra": extra_fields(t),
            "phases": [PHASE_TEXT.get(p, p) for p in t.phases],
            "imnm_text": IMNM_TEXT.get(t.imnm, t.imnm),
        },
    )


# ---------------------------------------------------------------- candidates


@dataclass
class Candidate:
    patient_id: str
    record_id: str | None
    team: str
    revision: int
    verdict: str | None = None
    pending: str | None = None
    cohort: str | None = None
    failed: list[dict[str, Any]] = field(default_factory=list)
    missing: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (ask, details, criteria)
    reviewable: list[dict[str, Any]] = field(default_factory=list)
    checklist: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.patient_id}-{self.cohort or 'all'}"


def _reviewable(trial: Any, result: Any, latest: dict[tuple[str, str], Any]) -> list[dict[str, Any]]:
    """Criteria a person may answer for this patient: manual-review items, and open criteria the
    records service accepts a review for."""
    from imnm.api import compute

    out = []
    seen: set[str] = set()
    reviewed = [c for c in result.criteria if (trial.id, c.criterion.id) in latest]  # settled by a review
    items = [*reviewed, *result.manual_review, *(c for c in result.criteria if c.effect == "missing")]
    for c in items:
        cid = c.criterion.id
        if cid in seen:
            continue
        seen.add(cid)
        try:
            compute.check_review(trial.id, cid)
        except InputError:
            continue
        prior = latest.get((trial.id, cid))
        out.append(
            {
                "id": cid,
                "kind": c.kind,
                "text": " ".join(c.criterion.text.split()),
                "reason": c.review,
                "manual": c.criterion.manual_review,
                "reviewed": None
                if prior is None
                else {
                    "met": prior.met,
                    "by": prior.actor,
                    "at": prior.created_at.date().isoformat(),
                    "note": prior.note,
                },
            }
        )
    return out


def candidates(ctx: Ctx, trial: Any, as_of: date) -> list[Candidate]:
    from imnm import services
    from imnm.api import compute
    from imnm.render.trials import group_missing
    from imnm.store import patients as store

    loaded = []
    with ctx.reader() as s:
        rows, _total = store.search(s, ctx.principal, limit=MAX_CANDIDATES)
        teams: dict[int, str] = {}
        for p in rows:
            record, number = store.record_for(s, ctx.principal, p.id)
            team = teams.setdefault(p.team_id, store.team_name(s, p.team_id))
            loaded.append((p, team, record, number, store.reviews_of(s, p.id)))
    out: list[Candidate] = []
    for p, team, record, number, reviews in loaded:
        base = Candidate(patient_id=p.id, record_id=p.record_id, team=team, revision=number)
        try:
            match = services.match_trials(
                record, as_of=as_of, trial_ids=[trial.id], reviews=compute.reviews(reviews)
            )
        except InputError as exc:
            base.problems = list(exc.problems)
            out.append(base)
            continue
        latest = store.latest_reviews(reviews)
        for v in match.verdicts:
            r = v.result
            out.append(
                replace(
                    base,
                    verdict=r.verdict,
                    pending=r.pending,
                    cohort=r.cohort.label if r.cohort else None,
                    failed=[
                        {"id": c.criterion.id, "kind": c.kind, "text": " ".join(c.criterion.text.split())}
                        for c in r.failed
                    ],
                    missing=[
                        (ask, "; ".join(details), crits)
                        for ask, (details, crits) in group_missing(r.missing).items()
                    ],
                    reviewable=_reviewable(trial, r, latest),
                    checklist="; ".join(f"{i.label}: {i.shown()}" for i in v.checklist),
                )
            )
    order = {"eligible": 0, "needs_information": 1, "ineligible": 2, None: 3}
    out.sort(key=lambda c: (order[c.verdict], c.record_id or "", c.cohort or ""))
    return out


@router.get("/trials/{trial_id}/candidates")
def candidates_page(
    request: Request,
    trial_id: str,
    ctx: Annotated[Ctx, Depends(need(Perm.PATIENT_READ, audit="trial.candidates"))],
    as_of: Annotated[str | None, Query(max_length=20)] = None,
    saved: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    t = _trial(trial_id)
    when = day(as_of)
    rows = candidates(ctx, t, when)
    assert ctx.trail is not None
    ctx.trail.detail = f"{t.id}: {len({c.patient_id for c in rows})} patient(s) as of {when.isoformat()}"
    audit_shown(ctx, "trial.candidate", {(c.patient_id, c.revision) for c in rows}, t.id)
    counts = {
        k: sum(1 for c in rows if c.verdict == k) for k in ("eligible", "needs_information", "ineligible")
    }
    return render(
        request,
        "trials/candidates.html",
        {
            "title": f"Candidates for {t.id}",
            "t": t,
            "tab": "candidates",
            "rows": rows,
            "counts": counts,
            "as_of": when.isoformat(),
            "saved": saved,
            "can_review": ctx.principal.can(Perm.REVIEW_WRITE),
        },
    )


def _csv_cell(value: object) -> str:
    text_ = "" if value is None else str(value)
    return (
        "'" + text_ if text_[:1] in ("=", "+", "-", "@", "\t", "\r") else text_
    )  # no formulas in spreadsheets


CSV_COLUMNS = (
    "trial", "cohort", "patient_id", "record_id", "team", "revision", "as_of", "verdict", "pending",
    "failed_criteria", "tests_still_needed", "manual_review_open", "reviews", "baseline_checklist",
)  # fmt: skip


def candidates_csv_text(trial: Any, rows: list[Candidate], as_of: date) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for c in rows:
        reviews = [
            f"{x['id']}={'met' if x['reviewed']['met'] else 'not met'} ({x['reviewed']['by']}, {x['reviewed']['at']})"
            for x in c.reviewable
            if x["reviewed"] is not None
        ]
        open_items = [x["id"] for x in c.reviewable if x["reviewed"] is None and x["manual"]]
        w.writerow(
            [
                _csv_cell(v)
                for v in (
                    trial.id,
                    c.cohort,
                    c.patient_id,
                    c.record_id,
                    c.team,
                    c.revision,
                    as_of.isoformat(),
                    c.verdict or "error: " + "; ".join(str(p) for p in c.problems),
                    c.pending,
                    "; ".join(f["id"] for f in c.failed),
                    "; ".join(ask for ask, _, _ in c.missing),
                    "; ".join(open_items),
                    "; ".join(reviews),
                    c.checklist,
                )
            ]
        )
    return buf.getvalue()


@router.get("/trials/{trial_id}/candidates.csv")
def candidates_csv(
    request: Request,
    trial_id: str,
    ctx: Annotated[Ctx, Depends(need(Perm.PATIENT_READ, audit="trial.candidates_export"))],
    as_of: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    t = _trial(trial_id)
    when = day(as_of)
    rows = candidates(ctx, t, when)
    assert ctx.trail is not None
    ctx.trail.detail = f"{t.id}: {len({c.patient_id for c in rows})} patient(s) as of {when.isoformat()}"
    audit_shown(ctx, "trial.candidate_export", {(c.patient_id, c.revision) for c in rows}, t.id)
    body = candidates_csv_text(t, rows, when)
    name = f"candidates-{t.id}-{when.isoformat()}.csv"
    return Response(
        body.encode("utf-8-sig"),  # a byte-order mark so spreadsheet programs read UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"},
    )


@router.post("/trials/{trial_id}/reviews")
async def add_review(
    request: Request,
    trial_id: str,
    ctx: Annotated[Ctx, Depends(need(Perm.REVIEW_WRITE, audit="review.create"))],
) -> Response:
    from imnm.api import compute
    from imnm.store import patients as store

    form = await read_form(request)
    t = _trial(trial_id)
    patient_id = text(form, "patient", 40)
    criterion = text(form, "criterion", 100)
    met_text = text(form, "met", 10)
    note = text(form, "note", 4000) or None
    as_of = text(form, "as_of", 20)
    assert ctx.trail is not None
    ctx.trail.patient_id = patient_id or None
    problems = []
    if met_text not in ("yes", "no"):
        problems.append(
            Problem("met", "say whether the criterion is met", "choose met or not met", met_text or None)
        )
    with ctx.session() as s:
        p = store.visible(s, ctx.principal, patient_id)
        compute.check_review(t.id, criterion)
        if problems:
            raise InputError(problems, what="review")
        store.add_review(
            s, ctx.principal, p, trial=t.id, criterion=criterion, met=met_text == "yes", note=note
        )
        ctx.trail.revision = p.current_revision
        ctx.trail.detail = f"{t.id} {criterion}"
        ctx.record(s, 303)
    target = (
        f"/trials/{t.id}/candidates?saved={criterion}"
        + (f"&as_of={as_of}" if as_of else "")
        + f"#cand-{patient_id}"
    )
    return RedirectResponse(target, status_code=303)
