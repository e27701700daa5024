"""Plain language: every patient-facing sentence scores reading grade 8 or lower.

Formula: Flesch–Kincaid grade level, 0.39 × (words / sentences) + 11.8 × (syllables / words) − 15.59,
as computed by the maintained `textstat` library (`textstat.flesch_kincaid_grade`), applied to each
sentence on its own. Language "en-US": textstat then counts syllables with the Pyphen US-English
hyphenation dictionary, which works offline (its default "en" setting downloads the CMU
pronouncing dictionary through NLTK at first use).

Checked: every string in screener.yaml a person reads (questions, short labels, answer choices,
level titles and advice, reasons, notes, specialists, headings, hints and prompts) and the
plain_name / plain_description of every test the screener lists (tests.yaml). Short fragments
(labels, names, answer choices) are not sentences, and Flesch–Kincaid is meaningless for one or
two words; each is scored inside the sentence the person sees it in (a heading with what follows it).

Not scored: the technical terms a person needs in order to ask for something, which come with a plain
name or explanation that is scored (a specialist's `term`, "paediatric rheumatologist", shown after
its plain name "Rheumatologist for children"; the statin names shown under the statin question).
They are checked to be short terms, not sentences.
"""

from __future__ import annotations

import re

from textstat.textstat import textstatistics

from imnm import knowledge
from imnm.screen.screener import load_screener

MAX_GRADE = 8.0
_TEXTSTAT = textstatistics()  # an own instance, so the language setting does not leak to other tests
_TEXTSTAT.set_lang("en-US")


def _grade(sentence: str) -> float:
    return float(_TEXTSTAT.flesch_kincaid_grade(sentence))


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def patient_facing() -> list[tuple[str, str]]:
    """(where, sentence) for every patient-facing sentence."""
    s = load_screener()
    data = knowledge.load("screener")
    out: list[tuple[str, str]] = []

    def add(where: str, text: str) -> None:
        out.extend((where, sentence) for sentence in _sentences(text))

    for q in s.questions:
        add(f"questions.{q.id}.text", q.text)
        if q.text_child:
            add(f"questions.{q.id}.text_child", q.text_child)
        for label in filter(None, (q.label, q.label_child)):
            add(f"questions.{q.id}.label", f"Your answer about {label} was yes.")
        for value, shown in q.value_text.items():
            add(f"questions.{q.id}.value_text.{value}", f"You said: {shown}.")
    for lv in s.levels.values():
        add(f"levels.{lv.id}.title", f"{lv.title}.")
        add(f"levels.{lv.id}.advice", lv.advice)
    for t in s.triggers:
        add(f"triggers.{t.id}.reason", t.reason)
    for n in s.notes:
        add(f"notes.{n.id}.text", n.text)
    for sp in s.specialists:
        add(f"specialists.{sp['id']}.name", f"Ask to see a {sp['name'].lower()}.")
        add(f"specialists.{sp['id']}.text", sp["text"])
    for q in s.questions:
        for variant in (q.text_carer, q.text_self_child):
            if variant:
                add(f"questions.{q.id}.text (variant)", variant)
    for key, text in data["texts"].items():
        # a heading or lead-in ending in ':' is read together with what follows it
        add(f"texts.{key}", f"{text} {s.levels['soon'].title}." if text.endswith(":") else text)
    for t in s.tests:
        add(f"tests.yaml {t['id']}.plain_name", f"You may have a {t['name'].lower()}.")
        add(f"tests.yaml {t['id']}.plain_description", t["description"])
    return out


def test_there_is_plenty_to_check() -> None:
    where = {w.split(".")[0] for w, _ in patient_facing()}
    assert {"questions", "levels", "triggers", "notes", "specialists", "texts"} <= where
    assert len(patient_facing()) > 100


def test_every_patient_facing_sentence_is_grade_8_or_lower() -> None:
    too_hard = [
        (where, sentence, round(_grade(sentence), 1))
        for where, sentence in patient_facing()
        if _grade(sentence) > MAX_GRADE
    ]
    assert not too_hard, "\n".join(f"{w}: grade {g}: {s}" for w, s, g in too_hard)


def test_exempt_terms_are_short_terms_with_a_plain_name() -> None:
    s = load_screener()
    for sp in s.specialists:
        if sp["term"] == sp["name"]:
            continue  # no separate term: the name itself is scored
        assert len(sp["term"].split()) <= 3 and not sp["term"].endswith(".")
        assert sp["name"] == sp["term"] or _grade(f"Ask to see a {sp['name'].lower()}.") <= MAX_GRADE
    for q in s.questions:
        assert all(len(x.split()) == 1 for x in q.examples)


def test_the_check_can_fail() -> None:
    hard = "Immune-mediated necrotizing myopathy necessitates comprehensive serological investigation."
    assert _grade(hard) > MAX_GRADE
