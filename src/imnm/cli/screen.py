"""`imnm screen`: the patient-facing screener on the command line (thin adapter)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from imnm.cli.common import JsonOpt, console, err_console, handle_errors, print_json


@handle_errors()
def screen(
    answers_file: Annotated[
        Path | None,
        typer.Argument(
            help="A saved answers file (.yaml or .json). Omit it to answer the questions one at a time.",
            metavar="[ANSWERS]",
        ),
    ] = None,
    save: Annotated[
        Path | None,
        typer.Option("--save", metavar="FILE", help="Write the answers to this YAML file (to re-run later)."),
    ] = None,
    unknown_policy: Annotated[
        str | None,
        typer.Option(
            "--unknown-policy",
            metavar="POLICY",
            help="Level when only don't-know answers could raise it: at_least_routine (default) or "
            "highest_possible. See knowledge/data/screener.yaml.",
        ),
    ] = None,
    urgent_flags: Annotated[
        str | None,
        typer.Option(
            "--urgent-flags",
            metavar="POLICY",
            help="same_day (default): breathing or swallowing trouble, fast weakness and dark urine with "
            "muscle trouble mean 'seek care today'; within_weeks counts them as 'soon'.",
        ),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Also show every rule with its status and source (for clinicians)."),
    ] = False,
    as_json: bool = JsonOpt,
) -> None:
    """Who should seek testing for necrotizing myositis: how soon, why, and what to expect.

    Asks the questions one at a time (skipping ones that no longer matter), or reads an answers
    file. Don't-know answers never count as no; the result lists the questions that could change
    it. Exit code 0 with a result, 2 for invalid answers.
    """
    from imnm.screen.answers import dump_answers, load_answers
    from imnm.screen.screener import load_screener, render_text
    from imnm.screen.screener import screen as run_screen

    screener = load_screener()
    asked: tuple[str, ...] | None = None
    if answers_file is not None:
        answers = load_answers(answers_file)
    else:
        from imnm.screen.interview import interview

        prompts = err_console()

        echo = not sys.stdin.isatty()  # piped answers: show them after each prompt

        def read(prompt: str) -> str:
            reply = str(prompts.input(prompt, markup=False))
            if echo:
                prompts.print(reply, markup=False)
            return reply

        def write(text: str) -> None:
            prompts.print(text, markup=False)

        answers, asked = interview(read, write, screener=screener)
    if save is not None:
        save.write_text(dump_answers(answers, asked=asked), encoding="utf-8")
    result = run_screen(answers, unknown_policy=unknown_policy, urgent_flags=urgent_flags, screener=screener)
    if as_json:
        print_json(result.as_dict(screener))
        return
    console().print(render_text(result, screener), markup=False)
    if explain:
        from imnm.screen.screener import render_explanation

        console().print("\n" + render_explanation(result), markup=False)
    if save is not None:
        console().print(f"\n{screener.texts['saved']} {save}", markup=False)
