"""Printable reports: the clinician's work-up report and the patient's summary, as HTML and PDF.

`report(subject, kind=..., as_of=..., settings=..., paper=..., fmt=...) -> bytes` is the one call the
CLI (`imnm report`), the API and the web app's download buttons make. `build(...)` returns the
`Report` (HTML, sections, title) without the PDF step. The HTML comes from the Jinja2 templates in
`imnm/reports/templates/` (small partials the web app includes too, see `imnm.reports.views`), with
its stylesheet and SVG figures inline, so one file is the whole report. The PDF is that HTML laid
out by WeasyPrint with the Debian DejaVu fonts embedded; the same input gives the same bytes (the
PDF dates come from `as_of`, nothing random, no clock).

The reports sit in the render layer: they call `imnm.services` for the results and `imnm.render`
for the wording, and hold no clinical logic. Jinja2 and WeasyPrint are the `[reports]` extra and are
imported only when a report is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from imnm.errors import InputError, Problem

if TYPE_CHECKING:
    from imnm.screen.answers import Answers
    from imnm.services.patients import Patient
    from imnm.settings import Settings

Kind = Literal["clinician", "patient"]
Paper = Literal["a4", "letter"]
Format = Literal["pdf", "html"]
KINDS: tuple[str, ...] = ("clinician", "patient")
PAPERS: tuple[str, ...] = ("a4", "letter")
FORMATS: tuple[str, ...] = ("pdf", "html")

__all__ = ["FORMATS", "KINDS", "PAPERS", "Report", "build", "environment", "report", "template_dir"]


def template_dir() -> Path:
    """The folder of the report templates (the web app adds it to its Jinja loader)."""
    return Path(str(resources.files("imnm.reports") / "templates"))


def _need(module: str) -> None:
    raise InputError(
        [Problem("", f"making reports needs {module}", "pip install 'imnm[reports]'", value=module)],
        what="reports",
    )


def environment() -> Any:
    """The Jinja2 environment of the reports: autoescaping, strict undefined, marks printable."""
    try:
        import jinja2
    except ImportError:  # pragma: no cover - the [reports] extra is missing
        _need("jinja2")
    from markupsafe import Markup

    from imnm.reports.views import printable

    def finalize(value: object) -> object:
        if isinstance(value, str) and not isinstance(value, Markup):
            return printable(value)
        return value

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=finalize,
    )
    from imnm.reports.views import words

    env.filters["words"] = words
    env.filters["css_string"] = css_string
    return env


def css_string(value: object) -> Any:
    """A CSS string literal for the page footer, safe inside <style> (whose text HTML does not unescape)."""
    from markupsafe import Markup

    from imnm.reports.views import printable

    text = printable(str(value)).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    text = text.replace("<", "\\3c ").replace(">", "\\3e ").replace("&", "\\26 ")
    return Markup(f'"{text}"')


@dataclass(frozen=True)
class Report:
    """One report: its HTML, what it contains and how to print it."""

    kind: str
    title: str
    patient_id: str
    as_of: date
    paper: str
    html: str
    sections: tuple[str, ...]
    facts: dict[str, Any] = field(default_factory=dict)  # a few key results, for --json

    def pdf(self) -> bytes:
        from imnm.reports.pdf import html_to_pdf

        return html_to_pdf(self.html, as_of=self.as_of, title=self.title)

    def as_bytes(self, fmt: str) -> bytes:
        return self.pdf() if fmt == "pdf" else self.html.encode("utf-8")

    def pdf_and_pages(self) -> tuple[bytes, int]:
        from imnm.reports.pdf import render_pdf

        return render_pdf(self.html, as_of=self.as_of)


def _check(kind: str, paper: str, fmt: str) -> None:
    problems = []
    if kind not in KINDS:
        problems.append(
            Problem("--for", f"{kind!r} is not a report kind", "use clinician or patient", value=kind)
        )
    if paper not in PAPERS:
        problems.append(Problem("--paper", f"{paper!r} is not a paper size", "use a4 or letter", value=paper))
    if fmt not in FORMATS:
        problems.append(Problem("format", f"{fmt!r} is not a report format", "use pdf or html", value=fmt))
    if problems:
        raise InputError(problems, what="report")


def _age_sex(facts: Any) -> tuple[float | None, str | None]:
    age = sex = None
    for o in facts.get("age") or ():
        if isinstance(o.value, float | int):
            age = float(o.value)
    for o in facts.get("sex") or ():
        if isinstance(o.value, str):
            sex = o.value
    return age, sex


def build(
    subject: Patient | Answers,
    *,
    kind: str = "clinician",
    as_of: date,
    settings: Settings | None = None,
    paper: str = "a4",
    revision: str | None = None,
    share: tuple[str, ...] | None = None,
) -> Report:
    """Make the report's HTML from the services' results (a patient record, or screener answers for a
    patient summary)."""
    from imnm import services
    from imnm.reports import views as v
    from imnm.screen.answers import Answers
    from imnm.settings import default_settings

    _check(kind, paper, "html")
    s = settings or default_settings()
    env = environment()
    if isinstance(subject, Answers):
        if kind != "patient":
            raise InputError(
                [
                    Problem(
                        "--for",
                        "a screener answers file gives only a patient summary",
                        "use --for patient, or give a patient record for the clinician report",
                        value=kind,
                    )
                ],
                what="report",
            )
        from imnm.reports.patient import screening_view

        screening = services.screen(subject, settings=s)
        pv = screening_view(screening, as_of=as_of)
        html = env.get_template("patient.html").render(p=pv, paper=paper, as_of=as_of.isoformat())
        return Report(
            "patient",
            pv["title"],
            "screener answers",
            as_of,
            paper,
            html,
            _sections(pv),
            {"level": screening.result.level},
        )

    a = services.assess(subject, as_of=as_of, settings=s)
    act = services.activity(subject, settings=s, as_of=as_of)
    resp = None
    if sum(1 for x in act.visits) >= 2:
        try:
            resp = services.response(subject, settings=s, as_of=as_of)
        except InputError:
            resp = None  # the TIS needs two scorable visits; the activity table still shows them all
    match = services.match_trials(subject, as_of=as_of, settings=s)
    if kind == "patient":
        from imnm.reports.patient import DEFAULT_SHARE, record_view

        pv = record_view(
            a,
            activity=act,
            match=match,
            share=DEFAULT_SHARE if share is None else share,
            patient_id=a.record_id,
        )
        html = env.get_template("patient.html").render(p=pv, paper=paper, as_of=as_of.isoformat())
        return Report(
            "patient",
            pv["title"],
            a.record_id,
            as_of,
            paper,
            html,
            _sections(pv),
            {"shared": list(share or DEFAULT_SHARE)},
        )

    age, sex = _age_sex(act.facts)
    title = f"IMNM work-up report: {a.record_id}"
    ctx: dict[str, Any] = {
        "header": v.header_view(
            title=title, patient_id=a.record_id, as_of=as_of, age=age, sex=sex, revision=revision
        ),
        "summary": v.summary_view(a),
        "interpretation": v.interpretation_view(a),
        "eular": v.eular_view(a),
        "enmc": v.enmc_view(a),
        "mimics": v.mimics_view(a),
        "safety": v.safety_view(a),
        "next_tests": v.next_tests_view(a),
        "activity": v.activity_view(act, resp, title=a.record_id),
        "trials": v.trials_view(match),
        "choices": v.choices_view(s),
        "sources": v.sources_view(
            [*a.sources, f"trial catalog: {len(match.verdicts)} entries (knowledge/data/trials)"]
        ),
        "notice": v.notice_view(),
        "paper": paper,
    }
    html = env.get_template("clinician.html").render(**ctx)
    summary = ctx["summary"]
    return Report(
        "clinician",
        title,
        a.record_id,
        as_of,
        paper,
        html,
        CLINICIAN_SECTIONS,
        {
            "enmc_224": summary["enmc_result"],
            "eular_acr_score": summary["score"],
            "eular_acr_category": summary["category"],
            "visits": ctx["activity"]["visits"],
            "trials": match.counts(),
        },
    )


CLINICIAN_SECTIONS = (
    "header",
    "summary",
    "interpretation",
    "eular_acr",
    "enmc_224",
    "mimics",
    "safety",
    "next_tests",
    "activity",
    "trials",
    "choices",
    "sources",
    "notice",
)


def _sections(pv: dict[str, Any]) -> tuple[str, ...]:
    out = ["header"]
    if pv["level"]:
        out.append("result")
    if pv["results"]:
        out.append("results")
    if pv["diagnosis"]:
        out.append("diagnosis")
    out += ["tests", "questions", "care_now"]
    if pv["specialists"]:
        out.append("specialists")
    if pv["trials"]:
        out.append("trials")
    out += ["notes", "notice"]
    return tuple(out)


def report(
    subject: Patient | Answers,
    *,
    kind: str = "clinician",
    as_of: date,
    settings: Settings | None = None,
    paper: str = "a4",
    fmt: str = "pdf",
    revision: str | None = None,
    share: tuple[str, ...] | None = None,
) -> bytes:
    """The report as bytes: PDF (default) or HTML (UTF-8)."""
    _check(kind, paper, fmt)
    return build(
        subject, kind=kind, as_of=as_of, settings=settings, paper=paper, revision=revision, share=share
    ).as_bytes(fmt)
