"""The public screener: one question per step, the interview's skip logic, the result, and a code to
reopen saved answers. No login; nothing is stored unless the person asks.

Each step is a form POST that carries the answers so far as hidden fields (never in the address, so
they do not end up in logs or the browser history); htmx swaps only the form when JavaScript runs.
The questions, their order and skips (`imnm.screen.interview.next_question`), the reading of a typed
number (`parse_reply`: units dropped, "9.000" read back before use) and every sentence (the screener
table and `imnm.render.screen.view`) are the command line's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from imnm.api.auth import Ctx
from imnm.errors import InputError, Problem
from imnm.screen.answers import DONT_KNOW, Answers, answer_text, parse_answers
from imnm.screen.screener import CHILD_AGE, Question, Screener, load_screener
from imnm.web.common import public
from imnm.web.templating import render

router = APIRouter(include_in_schema=False)
MAX_FORM_FIELDS = 200


@dataclass
class State:
    """The answers so far (as written in an answers file) and the questions asked, in order."""

    values: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def answers(self) -> Answers:
        return parse_answers(decode(self.values))

    def hidden(self) -> list[tuple[str, str]]:
        return [("asked", ",".join(self.asked)), *((f"a.{q}", self.values[q]) for q in self.asked)]


def decode(values: dict[str, str]) -> dict[str, object]:
    """Answer texts (yes / no / dont_know / a number / a choice) as the answers model takes them."""
    s = load_screener()
    qs = s.questions_by_id
    out: dict[str, object] = {}
    for qid, raw in values.items():
        q = qs[qid]
        if raw == DONT_KNOW:
            out[qid] = DONT_KNOW
        elif q.kind == "yes_no":
            out[qid] = {"yes": True, "no": False}.get(raw, raw)
        elif q.kind == "number":
            try:
                out[qid] = float(raw)
            except ValueError:
                out[qid] = raw  # the model names the question and the value
        else:
            out[qid] = raw
    return out


def read_state(form: FormData) -> State:
    """The state carried by the form; a field that does not fit is an error naming it."""
    s = load_screener()
    qs = s.questions_by_id
    asked = [x for x in str(form.get("asked") or "").split(",") if x]
    problems = [
        Problem("asked", f"{x!r} is not a question of the screener", "start the questions again", x)
        for x in asked
        if x not in qs
    ]
    if len(set(asked)) != len(asked):
        problems.append(Problem("asked", "a question appears twice", "start the questions again"))
    if problems:
        raise InputError(problems, what="screener form")
    values = {q: str(form.get(f"a.{q}") or DONT_KNOW) for q in asked}
    state = State(values, asked)
    state.answers()  # the same checks as an answers file (raises RecordError naming the question)
    return state


def _options(q: Question, t: dict[str, str]) -> list[tuple[str, str]]:
    if q.kind == "yes_no":
        return [("yes", t["web_yes"]), ("no", t["web_no"]), (DONT_KNOW, t["web_dont_know"])]
    if q.kind == "choice":
        return [*((v, q.value_text.get(v, v)) for v in q.values), (DONT_KNOW, t["web_dont_know"])]
    return []


def question_page(
    request: Request,
    s: Screener,
    state: State,
    index: int,
    *,
    error: str | None = None,
    prefill: str | None = None,
    confirm: Any = None,
    note: str | None = None,
    typed: str | None = None,
) -> Response:
    from imnm.screen.interview import questions_left

    q = s.questions[index]
    answers = state.answers()
    child = answers.age is not None and answers.age < CHILD_AGE
    carer = answers.answering_for == "someone_else"
    n = len(state.asked) + 1
    total = len(state.asked) + questions_left(s, answers, index)
    t = s.texts
    unit = f" ({q.unit})" if q.unit else ""
    return render(
        request,
        "screener/question.html",
        {
            "title": f"{t['web_progress'].format(n=n, total=total)}: {q.label}",
            "t": t,
            "q": q,
            "wording": q.wording(child, carer),
            "options": _options(q, t),
            "field_label": f"{q.label[0].upper()}{q.label[1:]}{unit}",
            "progress": t["web_progress"].format(n=n, total=total),
            "n": n,
            "total": total,
            "hidden": state.hidden(),
            "error": error,
            "prefill": prefill,
            "typed": typed,
            "confirm": confirm,
            "note": note,
            "first": not state.asked,
        },
    )


def result_page(
    request: Request, s: Screener, state: State, *, saved: tuple[str, Any] | None = None, status: int = 200
) -> Response:
    from imnm import services
    from imnm.render.screen import result_view

    answers = state.answers()
    screening = services.screen(answers)
    v = result_view(screening.result, s)
    d = screening.as_dict()
    qs = s.questions_by_id
    shown = [(qs[q].short(screening.result.child), qs[q].show(answers.value(q))) for q in state.asked]
    days = request.app.state.settings.screener_save_days
    return render(
        request,
        "screener/result.html",
        {
            "title": f"{v['title']} · your result",
            "t": s.texts,
            "v": v,
            "d": d,
            "shown": shown,
            "hidden": state.hidden(),
            "saved": saved,
            "save_intro": s.texts["web_save_intro"].format(days=f"{days:g}"),
            "can_go_back": bool(state.asked),
        },
        status=status,
    )


async def _form(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)


@router.get("/screener")
def start(request: Request, ctx: Annotated[Ctx, Depends(public())]) -> Response:
    s = load_screener()
    days = request.app.state.settings.screener_save_days
    return render(
        request,
        "screener/start.html",
        {
            "title": s.texts["web_title"],
            "t": s.texts,
            "not_found": None,
            "code": "",
            "open_hint": s.texts["web_open_not_found"].format(days=f"{days:g}"),
        },
    )


@router.get("/screener/step")
def first_step(request: Request, ctx: Annotated[Ctx, Depends(public())]) -> Response:
    from imnm.screen.interview import next_question

    s = load_screener()
    state = State()
    first = next_question(s, state.answers(), 0)
    assert first is not None
    return question_page(request, s, state, first)


def _read_answer(q: Question, form: FormData, t: dict[str, str]) -> tuple[str | None, str | None, Any]:
    """(answer text, error, Confirm) for the current question from the form."""
    from imnm.screen.interview import Confirm, parse_reply

    if q.kind != "number":
        raw = str(form.get("answer") or "")
        allowed = [v for v, _ in _options(q, t)]
        if raw not in allowed:
            return None, t["web_choose_one"], None
        return raw, None, None
    confirm = form.get("confirm")
    if confirm is not None:
        value = str(form.get("confirm_value") or "")
        if confirm == "yes":
            return value, None, None
        if confirm == "no":
            return None, t["retry_number_all"], None
        return None, t["web_choose_one"], Confirm(t["confirm_number"], float(value))
    typed = str(form.get("answer") or "")
    if len(typed) > 40:
        return None, t["retry_number_all"], None
    try:
        parsed = parse_reply(q, typed, t)
    except ValueError as exc:
        return None, str(exc), None
    except Exception:  # "back" typed into a number box is not a number either
        return None, t["retry_number_all"], None
    if isinstance(parsed, Confirm):
        return None, None, parsed
    return answer_text(parsed if isinstance(parsed, float) else None), None, None


@router.post("/screener/step")
async def step(request: Request, ctx: Annotated[Ctx, Depends(public())]) -> Response:
    from imnm.screen.interview import next_question

    s = load_screener()
    t = s.texts
    form = await _form(request)
    state = read_state(form)
    go = str(form.get("go") or "next")
    index_of = {q.id: i for i, q in enumerate(s.questions)}
    start = index_of[state.asked[-1]] + 1 if state.asked else 0

    if go == "restart":
        state = State()
        start = 0
    elif go == "back":
        if not state.asked:
            first = next_question(s, state.answers(), 0)
            assert first is not None
            return question_page(request, s, state, first, note=t["first_question"])
        last = state.asked.pop()
        previous = state.values.pop(last)
        return question_page(request, s, state, index_of[last], prefill=previous)
    else:
        expected = next_question(s, state.answers(), start)
        qid = str(form.get("q") or "")
        if expected is not None and qid == s.questions[expected].id:
            q = s.questions[expected]
            value, error, confirm = _read_answer(q, form, t)
            if error is not None or confirm is not None:
                typed = str(form.get("answer") or "") if q.kind == "number" else None
                return question_page(
                    request,
                    s,
                    state,
                    expected,
                    error=error,
                    confirm=confirm,
                    typed=typed,
                    prefill=str(form.get("answer") or "") or None,
                )
            assert value is not None
            candidate = State({**state.values, q.id: value}, [*state.asked, q.id])
            try:
                candidate.answers()
            except InputError as exc:
                msg = exc.problems[0].message.split(" (question:")[0]
                fix = exc.problems[0].fix
                return question_page(
                    request, s, state, expected, error=f"{msg}. {fix}." if fix else msg, prefill=value
                )
            state = candidate
            start = expected + 1
        # else: a stale form (the page was resubmitted); show the question that is due now
    nxt = next_question(s, state.answers(), start)
    if nxt is None:
        return result_page(request, s, state)
    return question_page(request, s, state, nxt)


@router.post("/screener/save")
async def save(request: Request, ctx: Annotated[Ctx, Depends(public("screener.save"))]) -> Response:
    from imnm.store import screener_saves

    s = load_screener()
    state = read_state(await _form(request))
    days = request.app.state.settings.screener_save_days
    with ctx.session() as db:
        code, expires = screener_saves.save(db, {"asked": state.asked, "answers": state.values}, days=days)
        ctx.record(db, 200)
    return result_page(request, s, state, saved=(code, expires.date().isoformat()))


@router.post("/screener/summary.pdf")
async def summary_pdf(request: Request, ctx: Annotated[Ctx, Depends(public())]) -> Response:
    """The printable summary of the answers for the doctor (the patient summary of `imnm report`, PDF).
    Made from the answers in the form; nothing is kept."""
    from datetime import date

    from starlette.concurrency import run_in_threadpool

    from imnm import reports

    state = read_state(await _form(request))
    answers = state.answers()
    data = await run_in_threadpool(
        lambda: reports.report(answers, kind="patient", as_of=date.today(), fmt="pdf")
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "content-disposition": 'attachment; filename="imnm-screener-summary.pdf"',
            "cache-control": "no-store",
        },
    )


@router.get("/screener/open")
def open_form(request: Request, ctx: Annotated[Ctx, Depends(public())]) -> Response:
    return start(request, ctx)


@router.post("/screener/open")
async def open_saved(request: Request, ctx: Annotated[Ctx, Depends(public("screener.open"))]) -> Response:
    from imnm.store import screener_saves

    s = load_screener()
    form = await _form(request)
    code = str(form.get("code") or "")[:100]
    with ctx.reader() as db:
        found = screener_saves.open_saved(db, code)
    days = request.app.state.settings.screener_save_days
    if found is None:
        assert ctx.trail is not None
        ctx.trail.detail = "no saved answers for this code"
        return render(
            request,
            "screener/start.html",
            {
                "title": s.texts["web_open_heading"],
                "t": s.texts,
                "not_found": s.texts["web_open_not_found"].format(days=f"{days:g}"),
                "code": code,
                "open_hint": None,
            },
            status=404,
        )
    data, _expires = found
    asked = [str(x) for x in data.get("asked") or [] if isinstance(x, str)]  # type: ignore[attr-defined]
    raw = data.get("answers") or {}
    values = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    state = State({q: values.get(q, DONT_KNOW) for q in asked}, asked)
    return result_page(request, s, state)
