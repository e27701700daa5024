"""Load and validate trial catalog files, with every problem named (file, path, value, fix).

`catalog()` loads every `knowledge/data/trials/*.yaml` shipped with the package once (cached):
each file is validated against the schema (`imnm.trials.model`), its provenance is checked
(registry URLs, version or date taken, verification mark, what was truncated) and every rule
is checked against the whole fact vocabulary (`imnm.facts.REGISTRY`), so a typo in a fact
name, unit or operator fails at load time, not at evaluation time.

`load_catalog(dirs, only=...)` adds the catalog files of user folders (`imnm trials --catalog DIR`,
for example drafts from `imnm trials import` or `imnm trials search`) to the shipped ones, or uses
only them (`--catalog-only`). A user file whose id is a shipped trial's replaces the shipped entry
(that is how `imnm trials update --catalog DIR` keeps refreshed copies of shipped trials); two user
files with one id are an error naming both. Every problem of every file is reported at once, each
naming its file.

Facts promised by the work-up and activity modules (ENMC subtype, EULAR/ACR score, lowest
proximal MMT grade) may not be registered in every build. A criterion whose rule needs such a
fact is then turned into a manual-review item with the reason "needs <fact> (not yet
available)" rather than failing or silently passing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from imnm.core.evaluate import check
from imnm.core.facts import Registry
from imnm.core.rules import facts_used
from imnm.errors import KnowledgeError, Problem
from imnm.trials.model import Criterion, Trial

DATA_PACKAGE = "imnm.knowledge.data"
FOLDER = "trials"

PENDING_FACTS: frozenset[str] = frozenset(
    {
        "enmc.subtype",
        "enmc.imnm",
        "eular_acr.score",
        "eular_acr.probability",
        "eular_acr.category",
        "eular_acr.classified_as_iim",
        "eular_acr.subgroup",
        "visit.mmt8_min_proximal_grade",
        "visit.muscle_enzyme_fold",
    }
)
"""Contract facts of the work-up (issue 4) and activity (issue 5) modules."""


SCREENING = "screening"
DEFAULT_SCREENING_WINDOW = "30d"
"""⚠️ Choice: how far back a result counts as taken 'at Screening'. No registry text states a
window; catalog rules write `window: {before: screening}` and the loader puts this duration in."""


class TrialError(KnowledgeError):
    """A trial catalog file does not validate."""


def _registry() -> Registry:
    from imnm.vocabulary import REGISTRY

    return REGISTRY


def check_window(value: str) -> str:
    """A screening window duration (`30d`, `4w`, `1mo`), or an `InputError` naming the fix."""
    from imnm.core.rules import duration_problem
    from imnm.errors import InputError

    problem = duration_problem(value)
    if problem:
        raise InputError(
            [Problem("--screening-window", problem, "write e.g. 30d, 4w or 1mo", value)],
            what="command line",
        )
    return value.strip()


def _screening(data: object, window: str) -> object:
    """Put the screening window into every `window: {before|after: screening}` of a rule tree."""
    if isinstance(data, dict):
        out = {k: _screening(v, window) for k, v in data.items()}
        w = out.get("window")
        if isinstance(w, dict):
            out["window"] = {
                k: (window if v == SCREENING and k in ("before", "after") else v) for k, v in w.items()
            }
        return out
    if isinstance(data, list):
        return [_screening(v, window) for v in data]
    return data


def parse_trial(
    data: object,
    *,
    file: str,
    registry: Registry | None = None,
    screening_window: str = DEFAULT_SCREENING_WINDOW,
) -> Trial:
    """Validate plain data as a catalog file; raises `TrialError` listing every problem.

    `screening_window` replaces the `screening` token in rule windows (see `DEFAULT_SCREENING_WINDOW`).
    """
    from imnm.types import problems_from

    reg = registry or _registry()
    data = _screening(data, check_window(screening_window))
    try:
        trial = Trial.model_validate(data)
    except ValidationError as exc:
        raise TrialError(problems_from(exc, Trial, file=file), what=file) from None
    problems: list[Problem] = []
    stem = Path(file).name.split(".")[0]
    if file.endswith((".yaml", ".yml")) and stem != trial.id and not trial.draft:
        problems.append(Problem("id", f"id {trial.id!r} differs from the file name {stem!r}", file=file))
    trial = _downgrade_pending(trial, reg)
    for where, crit in _criteria_paths(trial):
        if crit.rule is not None:
            problems.extend(
                Problem(p.path, p.message, p.fix, p.value, file)
                for p in check(crit.rule, reg, path=f"{where}.rule")
            )
        for i, v in enumerate(crit.versions):  # earlier registry wordings are evaluated too
            if v.rule is not None:
                problems.extend(
                    Problem(p.path, p.message, p.fix, p.value, file)
                    for p in check(v.rule, reg, path=f"{where}.versions[{i}].rule")
                )
    if problems:
        raise TrialError(problems, what=file)
    return trial


def _criteria_paths(trial: Trial) -> list[tuple[str, Criterion]]:
    out: list[tuple[str, Criterion]] = []
    for kind in ("inclusion", "exclusion"):
        out.extend((f"{kind}[{i}]", c) for i, c in enumerate(getattr(trial, kind)))
    for j, cohort in enumerate(trial.cohorts):
        for kind in ("inclusion", "exclusion"):
            out.extend((f"cohorts[{j}].{kind}[{i}]", c) for i, c in enumerate(getattr(cohort, kind)))
    return out


def _downgrade(crit: Criterion, reg: Registry) -> Criterion:
    if crit.rule is None:
        return crit
    absent = sorted(f for f in facts_used(crit.rule) if f in PENDING_FACTS and f not in reg)
    if not absent:
        return crit
    return crit.model_copy(
        update={
            "rule": None,
            "manual_review": True,
            "reason": f"needs {', '.join(absent)} (not yet available)",
        }
    )


def _downgrade_pending(trial: Trial, reg: Registry) -> Trial:
    def fix(items: list[Criterion]) -> list[Criterion]:
        return [_downgrade(c, reg) for c in items]

    cohorts = [
        c.model_copy(update={"inclusion": fix(c.inclusion), "exclusion": fix(c.exclusion)})
        for c in trial.cohorts
    ]
    return trial.model_copy(
        update={"inclusion": fix(trial.inclusion), "exclusion": fix(trial.exclusion), "cohorts": cohorts}
    )


def load_trial(path: str | Path, *, screening_window: str = DEFAULT_SCREENING_WINDOW) -> Trial:
    """Load one catalog file from disk (YAML or JSON)."""
    from imnm.io.yaml import read_document

    return parse_trial(read_document(path), file=str(path), screening_window=screening_window)


def shipped_files() -> list[str]:
    """File names of the catalog shipped with the package."""
    root = resources.files(DATA_PACKAGE) / FOLDER
    return sorted(p.name for p in root.iterdir() if p.name.endswith(".yaml"))


@cache
def catalog(screening_window: str = DEFAULT_SCREENING_WINDOW) -> tuple[Trial, ...]:
    """Every shipped trial, validated once per screening window (cached for the life of the process)."""
    from imnm.io.yaml import load_yaml_text

    root = resources.files(DATA_PACKAGE) / FOLDER
    trials: list[Trial] = []
    problems: list[Problem] = []
    for name in shipped_files():
        file = f"knowledge/data/{FOLDER}/{name}"
        data: Any = load_yaml_text((root / name).read_text(encoding="utf-8"), file=file)
        try:
            trials.append(parse_trial(data, file=file, screening_window=screening_window))
        except TrialError as exc:
            problems.extend(exc.problems)
    if problems:
        raise TrialError(problems, what="trial catalog")
    return tuple(trials)


CATALOG_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class CatalogChoice:
    """Which catalog to use: the shipped files plus user folders, or the user folders only."""

    dirs: tuple[Path, ...] = ()
    only: bool = False

    def describe(self) -> str:
        if not self.dirs:
            return "the shipped catalog"
        folders = ", ".join(str(d) for d in self.dirs)
        return folders if self.only else f"the shipped catalog and {folders}"


@dataclass(frozen=True)
class Entry:
    """A trial of the catalog in use, and the file it came from."""

    trial: Trial
    file: str  # as shown in messages
    path: Path | None  # on disk (None when the shipped data is not a plain folder)
    bundled: bool
    replaces: str | None = None  # the shipped file a user file replaces


@dataclass(frozen=True)
class Catalog:
    entries: tuple[Entry, ...]
    choice: CatalogChoice

    @property
    def trials(self) -> tuple[Trial, ...]:
        return tuple(e.trial for e in self.entries)

    def entry(self, trial_id: str) -> Entry | None:
        return next((e for e in self.entries if e.trial.id == trial_id), None)


def bundled_folder() -> Path | None:
    """The shipped catalog folder on disk (an editable or unpacked install), else None."""
    root = resources.files(DATA_PACKAGE) / FOLDER
    path = Path(str(root))
    return path if path.is_dir() else None


@cache
def _bundled_entries(screening_window: str) -> tuple[Entry, ...]:
    folder = bundled_folder()
    out = []
    for name, trial in zip(shipped_files(), catalog(screening_window), strict=True):
        out.append(
            Entry(trial, f"knowledge/data/{FOLDER}/{name}", folder / name if folder else None, bundled=True)
        )
    return tuple(out)


def catalog_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in CATALOG_SUFFIXES)


def load_catalog(
    dirs: tuple[Path, ...] | list[Path] = (),
    *,
    only: bool = False,
    screening_window: str = DEFAULT_SCREENING_WINDOW,
) -> Catalog:
    """The catalog in use: shipped files plus the files of `dirs` (or only those), validated."""
    from imnm.errors import InputError
    from imnm.io.yaml import read_document

    choice = CatalogChoice(tuple(Path(d) for d in dirs), only)
    problems: list[Problem] = []
    if only and not dirs:
        problems.append(
            Problem("--catalog-only", "no catalog folder given", "add --catalog DIR (the folder to use)")
        )
    user: list[Entry] = []
    seen: dict[str, str] = {}
    for d in choice.dirs:
        if not d.is_dir():
            what = "does not exist" if not d.exists() else "is not a folder"
            problems.append(
                Problem("--catalog", f"{d} {what}", "give a folder of catalog files (*.yaml)", str(d), str(d))
            )
            continue
        files = catalog_files(d)
        if only and not files and len(choice.dirs) == 1:
            problems.append(
                Problem("--catalog", f"{d} holds no catalog files (*.yaml, *.json)", None, str(d), str(d))
            )
        for path in files:
            try:
                trial = parse_trial(read_document(path), file=str(path), screening_window=screening_window)
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            if trial.id in seen:
                problems.append(
                    Problem(
                        "id",
                        f"trial {trial.id} is in two catalog files: {seen[trial.id]} and {path}",
                        "keep one of them",
                        trial.id,
                        str(path),
                    )
                )
                continue
            seen[trial.id] = str(path)
            user.append(Entry(trial, str(path), path, bundled=False))
    if problems:
        raise TrialError(problems, what="trial catalog")
    if only:
        return Catalog(tuple(user), choice)
    by_id = {e.trial.id: e for e in user}
    entries: list[Entry] = []
    for b in _bundled_entries(check_window(screening_window)):
        mine = by_id.pop(b.trial.id, None)
        if mine is None:
            entries.append(b)
        else:
            entries.append(Entry(mine.trial, mine.file, mine.path, False, replaces=b.file))
    entries.extend(e for e in user if e.trial.id in by_id)
    return Catalog(tuple(entries), choice)
