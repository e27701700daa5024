"""`make bench`: per-stage timing over N seeded synthetic records, plus the CLI's cold start.

Each stage reports the per-record median and p95 and records per second. Goals (from the
issues) are checked and printed; a missed goal is reported, not hidden. Later features add
a stage to `STAGES` (a name, a setup that prepares inputs, and a per-record function).

Usage: python bench/run.py [--n 2000] [--seed 42] [--cold-runs 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
AS_OF = date(2026, 11, 25)


@dataclass
class Stage:
    name: str
    setup: Callable[[list[dict[str, Any]]], list[Any]]  # records -> per-record inputs
    run: Callable[[Any], object]
    goal_ms: float | None = None  # median per record, in process


def _yaml_texts(records: list[dict[str, Any]]) -> list[str]:
    import yaml

    return [yaml.safe_dump(r, sort_keys=False) for r in records]


def _parse(text: str) -> object:
    from imnm.io.yaml import load_yaml_text

    return load_yaml_text(text)


def _validated(records: list[dict[str, Any]]) -> list[Any]:
    from imnm.record.load import parse_record

    return [parse_record(r) for r in records]


def _all_facts(rec: Any) -> None:
    from imnm.facts import REGISTRY, RecordFacts

    facts = RecordFacts(rec, as_of=AS_OF)
    for name in REGISTRY.names():
        facts.get(name)


def _rule_set() -> list[Any]:
    from imnm.core.evaluate import require_valid
    from imnm.core.rules import parse_rule
    from imnm.vocabulary import REGISTRY

    trees = [
        {"compare": {"fact": "lab.ck.fold", "op": ">", "value": 10, "unit": "xULN", "select": "max"}},
        {
            "all": [
                {"is_true": "findings.proximal_weakness_upper"},
                {"is_true": "findings.proximal_weakness_lower"},
                {
                    "any": [
                        {"compare": {"fact": "antibody.HMGCR", "op": "==", "value": "positive"}},
                        {"compare": {"fact": "antibody.SRP", "op": "==", "value": "positive"}},
                    ]
                },
            ]
        },
        {"not": {"event": {"fact": "medication.rituximab", "window": {"before": "6mo"}}}},
        {"compare": {"fact": "lab.ck", "op": ">", "value": 1000, "unit": "U/L", "window": {"before": "1y"}}},
        {
            "at_least": {
                "n": 2,
                "of": [
                    {"is_true": "findings.dysphagia"},
                    {"is_true": "findings.myalgia"},
                    {"is_true": "emg.spontaneous_activity"},
                ],
            }
        },
    ]
    nodes = [parse_rule(t) for t in trees]
    for n in nodes:
        require_valid(n, REGISTRY)
    return nodes


def _evaluate_rules(rec: Any, _nodes: list[Any] = []) -> None:  # noqa: B006 - memo of the rule set
    from imnm.core.evaluate import evaluate
    from imnm.facts import REGISTRY, RecordFacts

    if not _nodes:
        _nodes.extend(_rule_set())
    facts = RecordFacts(rec, as_of=AS_OF)
    for n in _nodes:
        evaluate(n, facts, as_of=AS_OF, registry=REGISTRY)


def _trial_catalog(records: list[dict[str, Any]]) -> list[Any]:
    from imnm.trials.load import catalog

    catalog()  # parse and validate the catalog once, before timing
    return _validated(records)


_PLAN: list[Any] = []


def _evaluate_catalog(rec: Any) -> None:
    from imnm.core.evaluate import Plan
    from imnm.facts import REGISTRY, RecordFacts
    from imnm.trials.evaluate import evaluate_catalog
    from imnm.trials.load import catalog

    if not _PLAN:
        _PLAN.append(Plan(REGISTRY))  # the catalog's rules, compiled once (as a server keeps them)
    plan = _PLAN[0]
    facts = RecordFacts(rec, as_of=AS_OF, plan=plan)
    evaluate_catalog(catalog(), facts, as_of=AS_OF, registry=REGISTRY, plan=plan)


def _assess(rec: Any) -> object:
    from imnm.services import assess

    return assess(rec, as_of=AS_OF)


def _with_two_visits(records: list[dict[str, Any]]) -> list[Any]:
    return [r for r in _validated(records) if r.visits and len(r.visits) >= 2]


def _tis_response(rec: Any) -> object:
    from imnm.services import response

    return response(rec)


STAGES: list[Stage] = [
    Stage("parse YAML (C loader)", _yaml_texts, _parse),
    Stage(
        "validate parsed record",
        lambda recs: recs,
        lambda d: __import__("imnm.record.load", fromlist=["x"]).parse_record(d),
        goal_ms=0.2,
    ),
    Stage("resolve every fact", _validated, _all_facts),
    Stage("evaluate 5 rules", _validated, _evaluate_rules),
    Stage("trials: whole catalog", _trial_catalog, _evaluate_catalog, goal_ms=1.0),
    Stage("assess (work-up, issue 4)", _validated, lambda rec: _assess(rec), goal_ms=0.6),
    Stage("TIS response", _with_two_visits, _tis_response, goal_ms=0.5),
]


def _screener_answers(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One seeded random answers set per record (yes / no / don't know, values), as parsed YAML."""
    import random

    from imnm.screen.answers import EXPOSURE_VALUES, ONSET_VALUES, QUESTION_IDS

    rng = random.Random(3)
    out = []
    for _ in records:
        data: dict[str, Any] = {}
        for q in QUESTION_IDS:
            if rng.random() < 0.2:
                continue  # unanswered
            if q == "age":
                data[q] = rng.randint(2, 90)
            elif q == "ck_value":  # a value over 1000 U/L only with a known high CK (else refused)
                data[q] = rng.choice([4000, 12000] if data.get("known_high_ck") is True else [150, 900])
            elif q == "onset":
                data[q] = rng.choice([*ONSET_VALUES, "dont_know"])
            elif q in ("statin", "red_yeast_rice", "oyster_mushrooms"):
                data[q] = rng.choice([*EXPOSURE_VALUES, "dont_know"])
            elif q == "answering_for":
                data[q] = rng.choice(["self", "someone_else", "dont_know"])
            else:
                data[q] = rng.choice([True, False, False, "dont_know"])
        out.append(data)
    return out


def _screen_answers(data: dict[str, Any]) -> object:
    from imnm.screen.answers import parse_answers
    from imnm.screen.screener import screen

    return screen(parse_answers(data))


STAGES.append(Stage("screen answers", _screener_answers, _screen_answers, goal_ms=1.0))  # issue 3


def time_stage(stage: Stage, records: list[dict[str, Any]]) -> dict[str, float]:
    inputs = stage.setup(records)
    for x in inputs[: min(50, len(inputs))]:  # warm caches and imports
        stage.run(x)
    times = []
    for x in inputs:
        t0 = time.perf_counter_ns()
        stage.run(x)
        times.append((time.perf_counter_ns() - t0) / 1e6)
    times.sort()
    total_s = sum(times) / 1000
    return {
        "median_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * (len(times) - 1))],
        "records_per_s": len(times) / total_s if total_s else float("inf"),
    }


def cold_start(args: list[str], runs: int) -> dict[str, float]:
    exe = str(ROOT / ".venv" / "bin" / "imnm")
    if not Path(exe).exists():
        exe = "imnm"
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([exe, *args], capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"median_s": statistics.median(times), "p95_s": times[int(0.95 * (len(times) - 1))]}


def registry_update() -> dict[str, float]:
    """`imnm trials update` in process against a registry on loopback: every shipped NCT trial copied to a
    catalog folder, each answered with the zilucoplan v2 record under its own id (so every entry is
    compared criterion by criterion and rewritten: the slow path)."""
    import copy
    import shutil

    sys.path.insert(0, str(ROOT))
    from tests.trials.registry_server import Registry

    from imnm.services.trials import CatalogChoice, update_catalog
    from imnm.trials.load import shipped_files
    from imnm.trials.registry import RegistryOptions

    record = json.loads((ROOT / "tests" / "data" / "trials" / "NCT04025632.transcribed-v2.json").read_text())
    server = Registry().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            shipped = ROOT / "src" / "imnm" / "knowledge" / "data" / "trials"
            ids = [n.removesuffix(".yaml") for n in shipped_files() if n.startswith("NCT")]
            for nct in ids:
                shutil.copy(shipped / f"{nct}.yaml", folder / f"{nct}.yaml")
                study = copy.deepcopy(record)
                study["protocolSection"]["identificationModule"]["nctId"] = nct
                server.serve(nct, ("json", study))
            options = RegistryOptions(url=server.url, min_interval=0, retries=0)
            start = time.perf_counter()
            out = update_catalog(CatalogChoice((folder,), only=True), today=AS_OF, options=options)
            total = time.perf_counter() - start
            assert not out.failed, [c.message for c in out.failed]
    finally:
        server.stop()
    return {"trials": len(ids), "total_s": total, "per_trial_ms": 1000 * total / len(ids)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--cold-runs", type=int, default=15)
    ap.add_argument("--json", type=Path, default=None)
    ns = ap.parse_args()

    from imnm.synthetic import synthetic_records

    records = synthetic_records(ns.n, seed=ns.seed)
    results: dict[str, Any] = {"n": ns.n, "seed": ns.seed, "stages": {}, "cold_start": {}, "goals": []}
    print(
        f"IMNM Navigator benchmark: {ns.n} synthetic records (seed {ns.seed}), Python {sys.version.split()[0]}"
    )
    print(f"{'stage':32} {'median ms':>10} {'p95 ms':>10} {'records/s':>11}  goal")
    for stage in STAGES:
        res = time_stage(stage, records)
        results["stages"][stage.name] = res
        goal = ""
        if stage.goal_ms is not None:
            ok = res["median_ms"] < stage.goal_ms
            goal = f"< {stage.goal_ms} ms median: {'met' if ok else 'MISSED'}"
            results["goals"].append({"what": stage.name, "goal": goal, "met": ok})
        print(
            f"{stage.name:32} {res['median_ms']:10.4f} {res['p95_ms']:10.4f} {res['records_per_s']:11.0f}  {goal}"
        )

    with tempfile.TemporaryDirectory() as tmp:
        import yaml

        one = Path(tmp) / "one.yaml"
        one.write_text(yaml.safe_dump(records[0], sort_keys=False))
        for label, args in (("imnm --help", ["--help"]), ("imnm validate FILE", ["validate", str(one)])):
            res = cold_start(args, ns.cold_runs)
            ok = res["median_s"] < 0.4
            results["cold_start"][label] = res
            results["goals"].append({"what": label, "goal": "< 0.4 s wall clock", "met": ok})
            print(
                f"cold start {label:21} median {res['median_s']:.3f} s, p95 {res['p95_s']:.3f} s"
                f"  goal < 0.4 s: {'met' if ok else 'MISSED'}"
            )
    res = registry_update()
    results["registry_update"] = res
    print(
        f"imnm trials update over loopback: {res['trials']} trials in {res['total_s']:.2f} s "
        f"({res['per_trial_ms']:.1f} ms per trial: fetch, compare per criterion, write back; no rate-limit pause)"
    )
    from imnm.trials.coverage import measure

    cov = measure()  # issue 9 item 18: importer vs the hand-written catalog (a floor is kept by a test)
    results["importer_coverage"] = {k: v for k, v in cov.as_dict().items() if k != "rows"}
    print(
        f"importer reproduces {cov.count('same')} of {cov.encoded_by_hand} hand-written catalog rules "
        f"({cov.share:.1%}); python -m imnm.trials.coverage lists the others"
    )
    if ns.json:
        ns.json.write_text(json.dumps(results, indent=2))
    missed = [g for g in results["goals"] if not g["met"]]
    print("all goals met" if not missed else f"{len(missed)} goal(s) missed: {[g['what'] for g in missed]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
