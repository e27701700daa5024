"""Load and validate trial catalog files, with every problem named (file, path, value, fix).

`catalog()` loads every `knowledge/data/trials/*.yaml` shipped with the package once (cached):
each file is validated against the schema (`imnm.trials.model`), its provenance is checked
(registry URLs, version or date taken, verification mark, what was truncated) and every rule
is checked against the whole fact vocabulary (`imnm.facts.REGISTRY`), so a typo in a fact
name, unit or operator fails at load time, not at evaluation time.

Facts promised by the work-up and activity modules (ENMC subtype, EULAR/ACR score, lowest
proximal MMT grade) may not be registered in every build. A criterion whose rule needs such a
fact is then turned into a manual-review item with the reason "needs <fact> (not yet
available)" rather than failing or silently passing.
"""

from __future__ import annotations

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
