"""Concept sets and bindings as data (`knowledge/data/omop_concepts.yaml`), resolved against the
database's own vocabulary.

`resolve(source)` turns every concept set into concept ids of *this* database and loads them into
small helper tables (bound parameters, no SQL text built from values):

- `imnm_codeset(set_id, concept_id, how)`: `how` is `code` (CONCEPT row found by vocabulary and code),
  `descendant` (through CONCEPT_ANCESTOR), `name` (a drug concept whose name contains the ingredient
  name as a word: used when the hierarchy is missing), or `listed` (the concept id written in the
  knowledge file, used when the database's CONCEPT table lacks the code);
- `imnm_srccode(set_id, code)`: codes matched against `*_source_value` of rows whose concept id is
  0 or empty (unmapped rows), with dots removed and upper case (ICD-10-CM `M33.20` = `M3320`);
- `imnm_unit(concept_id, unit)`, `imnm_unit_src(spelling, unit)`, `imnm_lab_unit(test, unit, factor)`,
  `imnm_answer(concept_id, result)`, `imnm_medclass(name, cls)`.

Every fallback that was used is in the report, so nobody mistakes a name match for a coded match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from imnm import knowledge
from imnm.adapters.omop.source import Source

LAB_SETS = ("ck", "aldolase", "ast", "alt", "ldh", "tsh", "crp")
BODY_SETS = ("body_weight", "body_height")
ANTIBODY_SETS = {
    "ab_hmgcr": "HMGCR",
    "ab_srp": "SRP",
    "ab_jo1": "Jo-1",
    "ab_ej": "EJ",
    "ab_oj": "OJ",
    "ab_pl7": "PL-7",
    "ab_pl12": "PL-12",
    "ab_tif1g": "TIF1-gamma",
    "ab_mi2": "Mi-2",
    "ab_mda5": "MDA5",
    "ab_nxp2": "NXP2",
    "ab_sae": "SAE",
}
CONDITION_SETS = (
    "iim_diagnosis",
    "muscle_symptom",
    "dysphagia",
    "ild",
    "cancer",
    "hypothyroidism",
    "muscular_dystrophy",
)
PROCEDURE_SETS = ("muscle_biopsy", "emg", "muscle_mri", "plasmapheresis")
SOURCE_VOCABULARIES = ("ICD10CM", "ICD10", "ICD9CM")  # not standard: matched through *_source_value only


@cache
def table() -> dict[str, Any]:
    return knowledge.load("omop_concepts")


def ingredient_set(name: str) -> str:
    return "ing:" + name


@cache
def med_classes() -> dict[str, tuple[str, ...]]:
    """Ingredient name (as written into the record) → the medications.yaml classes it belongs to."""
    from imnm.knowledge.lookups import medication_classes, medication_matches

    names = [i["name"] for i in table()["ingredients"]]
    names += [s["medication_name"] for s in table()["concept_sets"].values() if s.get("medication_name")]
    return {n: tuple(c for c in medication_classes() if medication_matches(n, c)) for n in names}


def norm_code(code: str) -> str:
    return code.replace(".", "").strip().upper()


@dataclass
class Resolution:
    """What each concept set became in this database, and how."""

    sets: dict[str, dict[str, int]] = field(default_factory=dict)  # set -> how -> count
    unresolved: dict[str, list[str]] = field(default_factory=dict)  # set -> codes not found
    vocabulary: str = ""

    def as_dict(self) -> dict[str, object]:
        fallbacks = {
            s: {k: v for k, v in hows.items() if k in ("name", "listed")} for s, hows in self.sets.items()
        }
        return {
            "vocabulary": self.vocabulary,
            "concept_sets": self.sets,
            "fallbacks": {s: f for s, f in fallbacks.items() if f},
            "unresolved_codes": self.unresolved,
        }


def _all_sets() -> dict[str, dict[str, Any]]:
    t = table()
    out: dict[str, dict[str, Any]] = dict(t["concept_sets"])
    for ing in t["ingredients"]:
        code = ing.get("code")
        codes = (
            [{"vocabulary": "RxNorm", "code": code, "concept_id": ing.get("concept_id"), "descendants": True}]
            if code
            else []
        )
        out[ingredient_set(ing["name"])] = {"label": ing["name"], "codes": codes, "drug_name": ing["name"]}
    return out


def resolve(src: Source) -> Resolution:
    """Resolve every concept set against the database and load the helper tables."""
    t = table()
    sets = _all_sets()
    res = Resolution()
    has_concept = src.has("concept")
    has_ancestor = src.has("concept_ancestor") and bool(
        src.execute(f"SELECT COUNT(*) FROM {src.tables['concept_ancestor']}")[0][0]
    )
    res.vocabulary = (
        "CONCEPT and CONCEPT_ANCESTOR"
        if has_ancestor
        else ("CONCEPT only (no hierarchy)" if has_concept else "none (listed ids)")
    )
    wanted: list[tuple[str, str, str, bool, int | None]] = []
    for set_id, s in sets.items():
        for c in s.get("codes") or []:
            if c["vocabulary"] in SOURCE_VOCABULARIES:
                continue
            wanted.append(
                (set_id, c["vocabulary"], str(c["code"]), bool(c.get("descendants")), c.get("concept_id"))
            )
    for kind, items in t["answers"].items():
        for c in items:
            wanted.append((f"answer:{kind}", c["vocabulary"], str(c["code"]), False, c.get("concept_id")))
    src.register(
        "imnm_wanted",
        [
            ("set_id", "VARCHAR"),
            ("vocabulary_id", "VARCHAR"),
            ("concept_code", "VARCHAR"),
            ("descendants", "BOOLEAN"),
            ("listed_id", "BIGINT"),
        ],
        wanted,
    )
    rows: list[tuple[str, int, str]] = []
    found: set[tuple[str, str]] = set()
    if has_concept:
        c = src.tables["concept"]
        for set_id, _vocab, code, cid in src.execute(
            f"SELECT w.set_id, w.vocabulary_id, w.concept_code, c.concept_id FROM imnm_wanted w "
            f"JOIN {c} c ON c.vocabulary_id = w.vocabulary_id AND c.concept_code = w.concept_code "
            "WHERE c.concept_id IS NOT NULL"  # an id that is not a number reads as NULL (TRY_CAST)
        ):
            rows.append((set_id, int(cid), "code"))
            found.add((set_id, code))
        if has_ancestor:
            a = src.tables["concept_ancestor"]
            for set_id, cid in src.execute(
                f"SELECT DISTINCT w.set_id, ca.descendant_concept_id FROM imnm_wanted w "
                f"JOIN {c} c ON c.vocabulary_id = w.vocabulary_id AND c.concept_code = w.concept_code "
                f"JOIN {a} ca ON ca.ancestor_concept_id = c.concept_id "
                "WHERE w.descendants AND ca.descendant_concept_id IS NOT NULL"
            ):
                rows.append((set_id, int(cid), "descendant"))
    for set_id, _vocab, code, _desc, listed in wanted:
        if (set_id, code) not in found:
            if listed is not None:
                rows.append((set_id, int(listed), "listed"))
            res.unresolved.setdefault(set_id, []).append(code)
    # drug ingredients without a usable hierarchy: match drug concept names by word
    if has_concept:
        with_desc = {r[0] for r in rows if r[2] == "descendant"}
        need_names = {
            s["drug_name"]: set_id
            for set_id, s in sets.items()
            if s.get("drug_name") and set_id not in with_desc
        }
        if need_names:
            src.register(
                "imnm_names",
                [("name", "VARCHAR"), ("pattern", "VARCHAR")],
                [(n, f"%{n}%") for n in need_names],
            )
            cands = src.execute(
                f"SELECT n.name, c.concept_id, LOWER(c.concept_name) FROM {src.tables['concept']} c "
                f"JOIN imnm_names n ON LOWER(c.concept_name) LIKE n.pattern WHERE c.domain_id = 'Drug'"
            )
            for name, cid, cname in cands:
                if re.search(rf"(?<![a-z]){re.escape(name)}(?![a-z])", cname or ""):
                    rows.append((need_names[name], int(cid), "name"))
    first: dict[tuple[str, int], str] = {}
    for set_id, cid, how in rows:
        first.setdefault((set_id, cid), how)
    rows = [(s, c, h) for (s, c), h in first.items()]
    src.register("imnm_codeset", [("set_id", "VARCHAR"), ("concept_id", "BIGINT"), ("how", "VARCHAR")], rows)
    seen: dict[str, dict[str, int]] = {}
    for set_id, _cid, how in rows:
        if not set_id.startswith("answer:"):
            seen.setdefault(set_id, {}).setdefault(how, 0)
            seen[set_id][how] += 1
    res.sets = {s: seen.get(s, {}) for s in sets}
    src.register(
        "imnm_srccode",
        [("set_id", "VARCHAR"), ("code", "VARCHAR")],
        list(
            dict.fromkeys(
                (set_id, norm_code(str(c["code"])))
                for set_id, s in sets.items()
                if not s.get("drug_name")
                for c in s.get("codes") or []
            )
        ),
    )
    _helper_tables(src)
    return res


def _helper_tables(src: Source) -> None:
    from imnm.record.vocabulary import lab_unit_factor

    t = table()
    src.register(
        "imnm_unit",
        [("concept_id", "BIGINT"), ("unit", "VARCHAR")],
        [(u["concept_id"], u["unit"]) for u in t["units"]],
    )
    spell = t["unit_source_value_fallback"]["spellings"]
    src.register("imnm_unit_src", [("spelling", "VARCHAR"), ("unit", "VARCHAR")], list(spell.items()))
    units = {u["unit"] for u in t["units"]} | set(spell.values())
    lab_units = []
    tests = knowledge.load("labs")["tests"]
    for test in LAB_SETS:
        pl = tests.get(test, {}).get("plausible") or {}  # what the record format accepts (imnm.record.checks)
        for u in sorted(units):
            f = lab_unit_factor(test, u)
            if f is not None:
                lab_units.append(
                    (
                        test,
                        u,
                        float(f),
                        float(pl.get("value_max", 1e300)),
                        float(pl.get("uln_min", 0.0)),
                        float(pl.get("uln_max", 1e300)),
                    )
                )
    src.register(
        "imnm_lab_unit",
        [
            ("test", "VARCHAR"),
            ("unit", "VARCHAR"),
            ("factor", "DOUBLE"),
            ("value_max", "DOUBLE"),
            ("uln_min", "DOUBLE"),
            ("uln_max", "DOUBLE"),
        ],
        lab_units,
    )
    answers = src.execute(
        "SELECT SUBSTRING(set_id, 8), concept_id FROM imnm_codeset WHERE set_id LIKE 'answer:%'"
    )
    src.register(
        "imnm_answer",
        [("concept_id", "BIGINT"), ("result", "VARCHAR")],
        [(int(c), str(r)) for r, c in answers],
    )
    src.register(
        "imnm_medclass",
        [("name", "VARCHAR"), ("cls", "VARCHAR")],
        [(n, c) for n, classes in med_classes().items() for c in classes],
    )
    src.register(
        "imnm_abcut",
        [("set_id", "VARCHAR"), ("cutoff", "DOUBLE")],
        [(s, float(v["cutoff"]["value"])) for s, v in t["concept_sets"].items() if v.get("cutoff")],
    )
