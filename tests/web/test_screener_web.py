"""The public screener pages, in process: the same questions in the same order as the command-line
interview (its skip logic), the same result, carer and child wording, numbers read back, inline
errors linked to the question, and saving with a code stored only as its hash."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import World
from tests.conftest import EXAMPLES
from tests.web.conftest import hidden_fields

QUESTION = re.compile(r'data-question="([^"]+)"')
LEVEL = re.compile(r'class="level level-(\w+)"')


def answer_text(value: Any) -> str:
    if value is None or value == "dont_know":
        return "dont_know"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def play(client: TestClient, answers: dict[str, Any]) -> tuple[list[str], str, str]:
    """Answer every question the pages ask from `answers` (missing = don't know); (asked, level, html)."""
    html = client.get("/screener/step").text
    asked: list[str] = []
    for _ in range(40):
        m = QUESTION.search(html)
        if m is None:
            break
        q = m.group(1)
        asked.append(q)
        form = hidden_fields(html)
        value = answer_text(answers.get(q))
        if q in ("age", "ck_value"):
            value = "" if value == "dont_know" else value
        r = client.post("/screener/step", data={**form, "answer": value, "go": "next"})
        assert r.status_code == 200, r.text
        html = r.text
    level = LEVEL.search(html)
    assert level is not None, html[:2000]
    return asked, level.group(1), html


def interview_order(answers: dict[str, Any]) -> tuple[list[str], str]:
    """The command-line interview with the same answers typed in; (asked, level)."""
    from imnm import services
    from imnm.screen.interview import interview

    typed = {True: "y", False: "n", None: "?", "dont_know": "?"}
    asked: list[str] = []

    def read(prompt: str) -> str:
        from imnm.screen.screener import load_screener

        for q in load_screener().questions:
            if prompt.startswith(q.wording(False, False)) or any(
                prompt.startswith(w) for w in (q.text_carer, q.text_child, q.text_self_child) if w
            ):
                asked.append(q.id)
                v = answers.get(q.id)
                if q.kind == "choice" and v not in (None, "dont_know"):
                    return str(q.values.index(v) + 1)
                if q.kind == "number":
                    return "?" if v in (None, "dont_know") else f"{v:g}"
                return typed.get(v, "?")
        raise AssertionError(f"unexpected prompt: {prompt}")

    result, _asked = interview(read, lambda text: None)
    return asked, services.screen(result).result.level


YES_NO = st.sampled_from([True, False, "dont_know"])


@st.composite
def answer_sets(draw: Any) -> dict[str, Any]:
    from imnm.screen.screener import load_screener

    out: dict[str, Any] = {}
    for q in load_screener().questions:
        if q.kind == "yes_no":
            out[q.id] = draw(YES_NO)
        elif q.kind == "choice":
            out[q.id] = draw(st.sampled_from([*q.values, "dont_know"]))
        elif q.id == "age":
            out[q.id] = draw(st.sampled_from([9, 17, 18, 45, 70, "dont_know"]))
        else:
            out[q.id] = draw(st.sampled_from([400, 1001, 15000, "dont_know"]))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=answer_sets())
def test_the_pages_ask_what_the_interview_asks_and_give_its_level(
    web: World, answers: dict[str, Any]
) -> None:
    asked, level, _ = play(TestClient(web.app), answers)
    cli_asked, cli_level = interview_order(answers)
    assert asked == cli_asked
    assert level == cli_level


def bundled() -> list[Path]:
    return sorted((EXAMPLES / "screener").glob("*.yaml"))


# expected levels written down from the rules' sources (see tests/screen/test_scenarios.py)
EXPECTED = {
    "answers.yaml": "soon",  # typical pattern on a statin
    "carer-child.yaml": "soon",  # a child: both sides over months
    "none.yaml": "none",
    "routine-high-ck.yaml": "routine",  # CK 400 U/L found by chance
    "urgent-breathing.yaml": "urgent",  # weakness with shortness of breath
}


def test_every_bundled_scenario_gives_its_level(web: World) -> None:
    assert {p.name for p in bundled()} == set(EXPECTED)
    for path in bundled():
        answers = yaml.safe_load(path.read_text())
        _asked, level, html = play(TestClient(web.app), answers)
        assert level == EXPECTED[path.name], path.name
        assert 'role="status"' in html
        if level == "urgent":  # the advice itself comes first, in the heading
            assert re.search(r"<h1[^>]*>URGENT: Get medical care today", html)


def test_carer_and_child_wording_and_paediatric_specialists(web: World) -> None:
    from imnm.screen.screener import load_screener

    q = load_screener().questions_by_id
    c = TestClient(web.app)
    html = c.get("/screener/step").text
    form = hidden_fields(html)
    html = c.post("/screener/step", data={**form, "answer": "someone_else", "go": "next"}).text
    assert q["age"].text_carer in html  # "How old is the person with the symptoms?"
    form = hidden_fields(html)
    html = c.post("/screener/step", data={**form, "answer": "9", "go": "next"}).text
    assert q["trouble_climbing_stairs"].text_child in html  # "... your child ..."
    _, level, result = play(
        TestClient(web.app), yaml.safe_load((EXAMPLES / "screener" / "carer-child.yaml").read_text())
    )
    assert level == "soon"
    assert "paediatric rheumatologist" in result and "You answered for someone else" in result


def _to(c: TestClient, target: str, answers: dict[str, str]) -> str:
    """Answer the questions before `target` (don't know unless given) and return its page."""
    html = c.get("/screener/step").text
    while (q := QUESTION.search(html).group(1)) != target:  # type: ignore[union-attr]
        value = answers.get(q, "" if q in ("age", "ck_value") else "dont_know")
        html = c.post("/screener/step", data={**hidden_fields(html), "answer": value, "go": "next"}).text
    return html


def test_a_number_that_could_mean_thousands_is_read_back(web: World) -> None:
    c = TestClient(web.app)
    html = _to(c, "age", {})
    html = c.post("/screener/step", data={**hidden_fields(html), "answer": "58 years", "go": "next"}).text
    assert (
        'data-question="trouble_climbing_stairs"' in html and 'name="a.age" value="58"' in html
    )  # unit dropped
    html = c.post("/screener/step", data={**hidden_fields(html), "go": "back"}).text
    assert 'data-question="age"' in html and 'value="58"' in html  # the earlier answer is shown again
    html = c.post("/screener/step", data={**hidden_fields(html), "answer": "9.000", "go": "next"}).text
    # 9000 years is out of range: the question again, with the message linked to the field
    assert 'data-question="age"' in html and 'id="answer-error"' in html
    assert 'aria-describedby="answer-hint answer-error"' in html

    c = TestClient(web.app)
    html = _to(c, "ck_value", {"known_high_ck": "yes"})
    html = c.post("/screener/step", data={**hidden_fields(html), "answer": "9.000", "go": "next"}).text
    assert 'data-question="ck_value"' in html and 'name="confirm"' in html and "9000" in html
    html = c.post("/screener/step", data={**hidden_fields(html), "confirm": "yes", "go": "next"}).text
    assert (
        'data-question="family_history_muscle_disease"' in html and 'name="a.ck_value" value="9000"' in html
    )


def test_no_answer_chosen_is_an_inline_error_never_a_no(web: World) -> None:
    from imnm.screen.screener import load_screener

    c = TestClient(web.app)
    html = c.get("/screener/step").text
    r = c.post("/screener/step", data={**hidden_fields(html), "go": "next"})
    assert r.status_code == 200
    assert 'data-question="answering_for"' in r.text
    import html as h

    assert load_screener().texts["web_choose_one"] in h.unescape(r.text)
    assert 'aria-describedby="answer-error"' in r.text and 'role="alert"' in r.text


def test_tampered_state_is_a_clear_error(web: World) -> None:
    c = TestClient(web.app)
    r = c.post("/screener/step", data={"asked": "age", "a.age": "old", "q": "x", "go": "next"})
    assert r.status_code == 422 and "age" in r.text and "is not a number" in r.text
    r = c.post("/screener/step", data={"asked": "shoe_size", "go": "next"})
    assert r.status_code == 422 and "shoe_size" in r.text


def test_saving_gives_a_code_stored_only_as_its_hash_and_it_expires(fresh: World) -> None:
    from datetime import timedelta

    from sqlalchemy import select, update

    from imnm.store.models import ScreenerSave

    c = TestClient(fresh.app)
    answers = yaml.safe_load((EXAMPLES / "screener" / "urgent-breathing.yaml").read_text())
    _, level, html = play(c, answers)
    with fresh.db.session() as s:
        assert s.execute(select(ScreenerSave)).first() is None  # nothing kept unless asked
    before = fresh.events()
    r = c.post("/screener/save", data=hidden_fields(html))
    assert r.status_code == 200
    code = re.search(r'id="saved-code">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code)
    assert fresh.events() == before + 1  # the save is audited (no patient, no user)
    with fresh.db.session() as s:
        rows = list(s.execute(select(ScreenerSave)).scalars())
    assert len(rows) == 1
    assert code not in rows[0].answers and code.replace("-", "") not in rows[0].code_hash
    assert rows[0].code_hash == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    # the answers at rest are encrypted with a key only the code gives: no answer text in the row
    assert rows[0].answers.startswith("aesgcm1:")
    for key, value in answers.items():
        assert str(key) not in rows[0].answers and f'"{value}"' not in rows[0].answers
    from imnm.store.screener_saves import unseal

    assert unseal("0" * 16, rows[0].answers) is None  # another code cannot open them
    # reopened with the code typed loosely: the same result
    r = c.post("/screener/open", data={"code": " " + code.lower().replace("-", " ") + " "})
    assert r.status_code == 200 and LEVEL.search(r.text).group(1) == level  # type: ignore[union-attr]
    assert c.post("/screener/open", data={"code": "0000-0000-0000-0000"}).status_code == 404
    with fresh.db.session() as s:
        s.execute(update(ScreenerSave).values(expires_at=rows[0].created_at - timedelta(seconds=1)))
    r = c.post("/screener/open", data={"code": code})
    assert r.status_code == 404 and "could not find" in r.text


def test_the_summary_for_the_doctor_downloads_as_a_pdf(web: World, tmp_path: Path) -> None:
    import subprocess

    c = TestClient(web.app)
    _, level, html = play(c, yaml.safe_load((EXAMPLES / "screener" / "urgent-breathing.yaml").read_text()))
    assert level == "urgent" and 'action="/screener/summary.pdf"' in html
    r = c.post("/screener/summary.pdf", data=hidden_fields(html))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    (tmp_path / "s.pdf").write_bytes(r.content)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "s.pdf"), "-"], capture_output=True, text=True, check=True
    )
    assert "Seek care today" in text.stdout or "Get medical care today" in text.stdout
