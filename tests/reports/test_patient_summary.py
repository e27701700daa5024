"""The patient summary (issue 15): plain language (Flesch–Kincaid grade ≤ 8 per sentence, the screener's
check), one or two pages, large type, never telling anyone to stop a medicine on their own."""

from __future__ import annotations

import re

import pytest

from tests.conftest import AS_OF, EXAMPLES
from tests.reports.helpers import RECORDS, built, page1_png, pdf, pdfinfo, pdftotext, write_pdf
from tests.screen.test_readability import MAX_GRADE, _grade, _sentences

ALL_SHARED = ("results", "diagnosis", "trials")
WORST_CASE = {  # a carer answering for a child with every symptom: the longest summary there is
    "answering_for": "someone_else",
    "age": 12,
    **{
        q: True
        for q in (
            "trouble_climbing_stairs",
            "trouble_rising_from_chair",
            "trouble_lifting_arms_overhead",
            "trouble_getting_up_after_fall",
            "weakness_both_sides",
            "trouble_swallowing",
            "choking",
            "short_of_breath",
            "chronic_dry_cough",
            "muscle_pain",
            "dark_urine",
            "rash_eyelids_or_knuckles",
            "known_high_ck",
            "family_history_muscle_disease",
        )
    },
    "onset": "days",
    "statin": "past",
    "red_yeast_rice": "past",
    "oyster_mushrooms": "current",
    "ck_value": 15000.0,
}


def summary_texts() -> list[tuple[str, str]]:
    """Every sentence of patient_summary.yaml, with sample numbers filled in."""
    from imnm import knowledge

    data = knowledge.load("patient_summary")
    out: list[tuple[str, str]] = []

    def add(where: str, text: str) -> None:
        filled = text.format(
            fold="40", first="58", last="70", scale="80", n="3", name="HMGCR antibody blood test"
        )
        out.extend((where, s) for s in _sentences(filled))

    for key, text in data["texts"].items():
        if key in ("prepared", "for"):
            continue  # "Made on" / "For" + a date or name: not sentences
        add(f"texts.{key}", text if text.endswith((".", ":", "?")) else f"{text}.")
    for q in data["questions"]:
        add(f"questions.{q['id']}", q["text"])
    for i, c in enumerate(data["care_now"]):
        add(f"care_now[{i}]", c)
    add("emergency", data["emergency"])
    for group in ("results", "diagnosis", "trials"):
        for key, text in data[group].items():
            add(f"{group}.{key}", text)
    return out


def test_every_sentence_of_the_summary_table_is_grade_8_or_lower() -> None:
    sentences = summary_texts()
    assert len(sentences) > 40
    hard = [(w, s, round(_grade(s), 1)) for w, s in sentences if _grade(s) > MAX_GRADE]
    assert not hard, "\n".join(f"{w}: grade {g}: {s}" for w, s, g in hard)


def visible_sentences(html: str) -> list[str]:
    """The sentences a person reads on the page, scored as tests/screen/test_readability.py scores them:
    a heading or a test's name is read with what follows it, a specialist's name (in bold before its
    description) as "Ask to see a ...", and a technical term in brackets after its plain name is exempt."""
    import html5lib

    tree = html5lib.HTMLParser(namespaceHTMLElements=False).parse(html)
    blocks: list[str] = []
    lead = ""
    for el in tree.iter():
        if el.tag not in ("p", "li", "dd", "dt", "h2", "h3"):
            continue
        text = " ".join("".join(el.itertext()).split())
        if not text or re.match(r"^Made on \d{4}-\d\d-\d\d", text):
            continue
        if el.tag == "dt":  # a test's plain name, read as the screener test reads it
            blocks.append(f"You may have a {text.lower()}.")
            continue
        if el.tag in ("h2", "h3"):
            lead = f"{lead} {text}".strip()
            continue
        strong = el.find("strong")
        if el.tag == "li" and strong is not None and text.startswith("".join(strong.itertext())):
            name = "".join(strong.itertext())
            blocks.append(f"Ask to see a {name.lower()}.")
            text = text[len(name) :].lstrip(" :")
        blocks.append(f"{lead}: {text}" if lead else text)
        lead = ""
    out = []
    for b in blocks:
        b = re.sub(r"\((paediatric [a-z ]+|neurologist|EMG|ECG)\)", "", b)
        out.extend(_sentences(b if b.endswith((".", "?", "!", ":")) else b + "."))
    return out


def subjects() -> list[tuple[str, object]]:
    from imnm.screen.answers import load_answers, parse_answers
    from tests.reports.helpers import record

    subs: list[tuple[str, object]] = [(f"record {n}", record(n)) for n in RECORDS]
    subs.append(("answers.yaml", load_answers(EXAMPLES / "screener" / "answers.yaml")))
    subs.append(("worst case", parse_answers(WORST_CASE)))
    subs.append(("all don't know", parse_answers({})))
    return subs


def test_every_rendered_sentence_is_grade_8_or_lower() -> None:
    from imnm import reports

    hard = []
    for label, subject in subjects():
        html = reports.build(subject, kind="patient", as_of=AS_OF, share=ALL_SHARED).html  # type: ignore[arg-type]
        for s in visible_sentences(html):
            if _grade(s) > MAX_GRADE:
                hard.append(f"{label}: grade {_grade(s):.1f}: {s}")
    assert not hard, "\n".join(hard)


@pytest.mark.parametrize("label", [label for label, _ in subjects()])
def test_one_or_two_pages_and_never_stop_a_medicine(label: str) -> None:
    from imnm import reports

    subject = dict(subjects())[label]
    data = reports.report(subject, kind="patient", as_of=AS_OF, share=ALL_SHARED)  # type: ignore[arg-type]
    pages = int(pdfinfo(data)["Pages"])
    assert 1 <= pages <= 2, f"{label}: {pages} pages"
    text = " ".join(pdftotext(data, layout=False).split())
    assert "Never stop a medicine your doctor prescribed without talking to that doctor first." in text
    for sentence in _sentences(text):
        if re.search(r"\bstop", sentence, flags=re.I):
            assert re.search(r"\b(never|not|without)\b", sentence, flags=re.I), f"{label}: {sentence}"
    assert "not a diagnosis" in text
    assert "Get care at once if" in text


def test_urgent_advice_comes_first() -> None:
    from imnm import reports
    from imnm.screen.answers import parse_answers

    data = reports.report(parse_answers(WORST_CASE), kind="patient", as_of=AS_OF)
    text = " ".join(pdftotext(data, layout=False).split())
    first = text.index("URGENT: Get medical care today.")
    assert first < text.index("Why") < text.index("Tests a doctor may do")


def test_the_shared_parts_follow_the_clinicians_choice() -> None:
    """anti-HMGCR example: by default only the results; the diagnosis and the studies only when shared."""
    default = " ".join(pdftotext(pdf("anti-hmgcr", "patient")).split())
    assert "Your last CK blood test was 11 times the top of the normal range." in default  # 35 / 3.3 µkat/L
    assert "Your CK level has gone down since the first test." in default
    assert "The HMGCR antibody blood test was positive." in default
    assert "Your strength score went from 58 to 70 out of 80." in default
    assert "necrotizing myositis. It is linked to the HMGCR antibody" not in default
    assert "research stud" not in default
    everything = " ".join(pdftotext(pdf("anti-hmgcr", "patient", share=ALL_SHARED)).split())
    assert "It is linked to the HMGCR antibody." in everything
    assert "Studies you could join" in everything
    nothing = " ".join(pdftotext(pdf("anti-hmgcr", "patient", share=())).split())
    assert "Your test results so far" not in nothing
    assert "Tests your doctor may suggest next" in nothing  # always: the tests to expect


def test_page_one_pictures() -> None:
    for name, kind in (("anti-hmgcr", "patient"), ("answers", "patient")):
        path = write_pdf(pdf(name, kind), f"patient-{name}")
        assert page1_png(path, f"patient-{name}").stat().st_size > 20_000


def test_the_type_is_large() -> None:
    """Body text of the summary is 12 pt (16 px), headings larger; the clinician report uses 9.5 pt."""
    patient, clinician = built("answers", "patient").html, built("anti-hmgcr").html
    assert re.search(r"body \{[^}]*font-size: 12pt", patient)
    assert re.search(r"body \{[^}]*font-size: 9.5pt", clinician)
