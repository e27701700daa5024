"""Many patients at once (issue 9 item 17): the files of a batch, and one summary line per patient.

`patient_files(paths)` expands folders into the record files they hold (`.yaml`, `.yml`, `.json`,
sorted by name; a folder of FHIR bulk-export `.ndjson` files is one patient, as `load_patient`
reads it). `run(paths, use_case)` loads and evaluates each in turn and never stops at a bad file:
that patient's row carries the problems (field, value, fix) and the others still run.
`assess_summary` and `trials_summary` are the one-line summaries of the two use cases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imnm.errors import ImnmError, InputError, Problem

RECORD_SUFFIXES = (".yaml", ".yml", ".json")


def _is_bulk_export(folder: Path) -> bool:
    return any(p.suffix.lower() in (".ndjson", ".jsonl") for p in folder.iterdir())


def patient_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every patient file named, folders expanded (record files sorted by name); every missing path
    or empty folder is reported at once."""
    out: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            problems.append(
                Problem("", "file or folder not found", "check the path", value=str(p), file=str(p))
            )
        elif p.is_dir() and not _is_bulk_export(p):
            found = sorted(
                (f for f in p.iterdir() if f.is_file() and f.suffix.lower() in RECORD_SUFFIXES),
                key=lambda f: f.name,
            )
            if not found:
                problems.append(
                    Problem(
                        "",
                        "the folder holds no record files",
                        f"put {', '.join(RECORD_SUFFIXES)} records (or FHIR .ndjson files) in it",
                        value=str(p),
                        file=str(p),
                    )
                )
            out.extend(found)
        else:
            out.append(p)
    if problems:
        raise InputError(problems, what="command line")
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class BatchRow:
    """One patient of a batch: the file, the patient id and the summary, or the problems."""

    file: str
    patient_id: str | None
    summary: dict[str, Any] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    what: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"file": self.file, "id": self.patient_id, "status": "ok" if self.ok else "error"}
        d.update(self.summary)
        if self.problems:
            d["problems"] = [p.as_dict() for p in self.problems]
        return d


def run(
    files: Iterable[Path],
    evaluate: Callable[[Any], dict[str, Any]],
    *,
    on_done: Callable[[BatchRow], None] | None = None,
) -> Iterator[BatchRow]:
    """Load and evaluate each file in turn; a file that cannot be read or evaluated gives a row with
    its problems, never an end to the batch."""
    from imnm.services.records import load_patient

    for f in files:
        try:
            patient = load_patient(f)
            row = BatchRow(str(f), patient.id, evaluate(patient))
        except InputError as err:
            row = BatchRow(str(f), None, problems=tuple(err.problems), what=err.what)
        except ImnmError as err:
            row = BatchRow(str(f), None, problems=(Problem("", str(err), "see the message", file=str(f)),))
        if on_done is not None:
            on_done(row)
        yield row


def counts(rows: Iterable[BatchRow]) -> dict[str, int]:
    rows = list(rows)
    return {"patients": len(rows), "ok": sum(r.ok for r in rows), "errors": sum(not r.ok for r in rows)}


# ---------------------------------------------------------------- one line per patient


def assess_summary(a: Any) -> dict[str, Any]:
    """The work-up of one patient in one line: ENMC 224 subtype, EULAR/ACR category, urgent flags and
    the first next test."""
    d = a.as_dict()
    enmc, ea = d["enmc"], d["eular_acr"]
    nxt = d.get("next_tests") or []
    lo, hi = ea.get("category_min"), ea.get("category_max")
    return {
        "enmc_224": enmc["classification"],
        "eular_acr_category": ea["category"],
        "eular_acr_category_range": f"{lo}–{hi}" if lo is not None and lo != hi else None,
        "eular_acr_probability_percent": ea.get("probability"),
        "classified_as_iim": ea.get("classified_as_iim"),
        "subgroup": ea.get("subgroup"),
        "flags": len(d.get("flags") or []),
        "next_test": nxt[0]["test"] if nxt else None,
        "next_test_tier": nxt[0]["tier"] if nxt else None,
    }


def trials_summary(m: Any) -> dict[str, Any]:
    """One patient's trial matches in one line: counts, the eligible trials, and the best-ranked open
    trial still possible with the tests it needs."""
    eligible = [v.result.key for v in m.verdicts if v.result.verdict == "eligible"]
    best = next(
        (v.result for v in m.verdicts if v.result.group == "open" and v.result.verdict != "ineligible"),
        None,
    )
    return {
        **m.counts(),
        "eligible_trials": eligible,
        "best_open_trial": best.key if best else None,
        "best_open_verdict": best.verdict if best else None,
        "best_open_tests": sorted({x.test for x in best.missing}) if best else [],
    }


__all__ = ["BatchRow", "assess_summary", "counts", "patient_files", "run", "trials_summary"]
