"""Knowledge tables taken from the literature, each with its source and verification mark.

The tables live in `imnm/knowledge/data/*.yaml`. Every file must carry a `source` block with a
citation, a DOI or URL and a verification mark (✅ ☑️ ⚠️ ❗, as in the project's clinical fact
sheet); `load` refuses a file without one. Items marked ⚠️ or ❗ are documented, configurable
`choices`: `choice_default` gives the default and outputs that depend on a choice say so.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from imnm.errors import KnowledgeError, Problem

MARKS = ("✅", "☑️", "⚠️", "❗")
DATA_PACKAGE = "imnm.knowledge.data"


def available() -> list[str]:
    """Ids of every knowledge table shipped with the package."""
    root = resources.files(DATA_PACKAGE)
    return sorted(p.name[: -len(".yaml")] for p in root.iterdir() if p.name.endswith(".yaml"))


def check_provenance(table_id: str, data: object) -> list[Problem]:
    """Problems with a table's `source` block (empty when it is complete)."""
    file = f"knowledge/data/{table_id}.yaml"
    if not isinstance(data, dict):
        return [Problem("", "a knowledge table must be a mapping", file=file)]
    problems: list[Problem] = []
    source = data.get("source")
    if not isinstance(source, dict):
        return [
            Problem(
                "source",
                "the table has no source block",
                "add source: {citation, doi or urls, mark}",
                file=file,
            )
        ]
    if not isinstance(source.get("citation"), str) or not source["citation"].strip():
        problems.append(Problem("source.citation", "missing", "cite the publication", file=file))
    if not source.get("doi") and not source.get("urls"):
        problems.append(Problem("source", "no DOI and no URL", "add source.doi or source.urls", file=file))
    if source.get("mark") not in MARKS:
        problems.append(
            Problem(
                "source.mark",
                f"{source.get('mark')!r} is not a verification mark",
                f"use one of {' '.join(MARKS)}",
                value=source.get("mark"),
                file=file,
            )
        )
    if data.get("id") != table_id:
        problems.append(Problem("id", f"id {data.get('id')!r} differs from the file name", file=file))
    return problems


@cache
def load(table_id: str) -> dict[str, Any]:
    """Load one knowledge table by id (cached); refuses a table without provenance."""
    from imnm.io.yaml import load_yaml_text

    path = resources.files(DATA_PACKAGE) / f"{table_id}.yaml"
    if not path.is_file():
        raise KnowledgeError(
            [Problem(table_id, "no such knowledge table", f"one of: {', '.join(available())}")],
            what="knowledge",
        )
    data = load_yaml_text(path.read_text(encoding="utf-8"))
    problems = check_provenance(table_id, data)
    if problems:
        raise KnowledgeError(problems, what=f"knowledge table {table_id}")
    assert isinstance(data, dict)
    return data


def choice_default(table_id: str, choice_id: str) -> str:
    """The default option of a documented ⚠️/❗ choice in a table."""
    for choice in load(table_id).get("choices") or []:
        if choice.get("id") == choice_id:
            return str(choice["default"])
    raise KnowledgeError(
        [Problem(f"choices.{choice_id}", "no such choice", file=f"knowledge/data/{table_id}.yaml")],
        what="knowledge",
    )


def source_line(table_id: str) -> str:
    """A one-line citation for a table, for explanations."""
    src = load(table_id)["source"]
    ref = (src.get("doi") and f"doi:{src['doi']}") or (src.get("urls") or [""])[0]
    return f"{src['citation']} ({ref}) {src['mark']}"
