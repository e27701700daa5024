"""`imnm screen`: the patient-facing screener on the command line (thin adapter)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

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
        typer.Option(
            "--save",
            metavar="FILE",
            help="Write the answers to this YAML file (to re-run later). Checked before the first "
            "question; an existing file is kept unless --overwrite.",
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Let --save replace an existing file.")
    ] = False,
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
    it. In the interview: y / n / ? (don't know), `back` for the previous question; Ctrl-C offers
    to save the answers so far. Exit code 0 with a result, 2 for invalid answers or a --save path
    that cannot be written, 130 after Ctrl-C.
    """
    from imnm import services
    from imnm.cli.common import settings_from
    from imnm.render.screen import render_text
    from imnm.screen.answers import load_answers
    from imnm.screen.screener import load_screener

    settings = settings_from(unknown_policy=unknown_policy, urgent_flags=urgent_flags)  # before any question
    screener = load_screener()
    if save is not None:
        save = check_save_path(save, overwrite=overwrite)  # before the first question
    asked: tuple[str, ...] | None = None
    if answers_file is not None:
        answers = load_answers(answers_file)
    else:
        answers, asked = _interactive(screener, save)
    if save is not None:
        write_answers(save, answers, asked)
    screening = services.screen(answers, settings=settings)
    result, screener = screening.result, screening.screener
    if as_json:
        print_json(screening.as_dict())
        return
    c = console()
    text = render_text(result, screener)
    first, _, rest = text.partition("\n")
    # the urgent advice stands out: first line, bold, red where the terminal has colour
    c.print(first, markup=False, style="bold red" if result.level == "urgent" else None)
    c.print(rest, markup=False)
    if explain:
        from imnm.render.screen import render_explanation

        c.print("\n" + render_explanation(result), markup=False)
    if save is not None:
        c.print(f"\n{screener.texts['saved']} {save}", markup=False)


EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (the shell's convention for SIGINT), once the offer to save was answered."""


def _interactive(screener: Any, save: Path | None) -> tuple[Any, tuple[str, ...]]:
    """Run the interview on the terminal; on Ctrl-C offer to save the answers so far, then exit 130."""
    from imnm.errors import InputError
    from imnm.screen.interview import Interrupted, interview, yes_no

    prompts = err_console()
    echo = not sys.stdin.isatty()  # piped answers: show them after each prompt
    texts = screener.texts

    def read(prompt: str) -> str:
        reply = str(prompts.input(prompt, markup=False))
        if echo:
            prompts.print(reply, markup=False)
        return reply

    def write(text: str) -> None:
        prompts.print(text, markup=False)

    try:
        return interview(read, write, screener=screener)
    except Interrupted as stop:
        write(f"\n{texts['stopped']}")
        try:
            while True:
                reply = read(texts["save_offer"] + " ")
                try:
                    wanted = yes_no(reply)
                except ValueError:
                    continue
                if wanted is not None:
                    break
            if wanted:
                target = save
                while target is None:
                    name = read(texts["save_where"] + " ").strip()
                    if not name:
                        continue
                    try:
                        target = check_save_path(Path(name).expanduser(), overwrite=False)
                    except InputError as exc:
                        for p in exc.problems:
                            write(f"  {p.message}; {p.fix}")
                write_answers(target, stop.answers, stop.asked)
                write(f"{texts['saved']} {target}")
                write(f"  imnm screen {target}")
            else:
                write(texts["not_saved"])
        except (KeyboardInterrupt, EOFError):
            write(f"\n{texts['not_saved']}")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def check_save_path(path: Path, *, overwrite: bool) -> Path:
    """The --save file, checked before any question: a .yaml file in an existing, writable folder,
    not a folder, and not an existing file unless --overwrite (nothing saved is silently replaced)."""
    import os
    import tempfile

    from imnm.errors import InputError, Problem

    def bad(message: str, fix: str) -> InputError:
        return InputError([Problem("--save", message, fix, value=str(path))], what="--save")

    if path.is_dir():
        raise bad(f"{path} is a folder", f"name a file in it, such as {path / 'answers.yaml'}")
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise bad(f"{path.name} is not a .yaml file name", "answers are saved as YAML: end the name in .yaml")
    parent = path.parent
    if not parent.exists():
        raise bad(f"the folder {parent} does not exist", "create it first, or save somewhere else")
    if not parent.is_dir():
        raise bad(f"{parent} is not a folder", "save the file in a folder")
    if path.exists() and not overwrite:
        raise bad(f"{path} already exists", "choose another name, or add --overwrite to replace it")
    try:
        fd, probe = tempfile.mkstemp(prefix=".imnm-save-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise bad(
            f"cannot write in {parent} ({exc.strerror or exc})", "save somewhere you can write"
        ) from None
    return path


def write_answers(path: Path, answers: Any, asked: tuple[str, ...] | None) -> None:
    """Write the answers file atomically (a crash never leaves half a file)."""
    import os
    import tempfile

    from imnm.screen.answers import dump_answers

    fd, tmp = tempfile.mkstemp(prefix=".imnm-save-", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(dump_answers(answers, asked=asked))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
