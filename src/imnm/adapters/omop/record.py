"""OMOP person → record document (a dict `imnm.record.load.parse_record` accepts).

Built from the staged rows (`imnm.adapters.omop.staging`), so the record holds exactly the values the
SQL screening sees. Every item keeps its source row in `ref` (`measurement/123`,
`drug_exposure/9`), and the record's `coverage.medications` lists the person's observation periods
(merged where they touch): a medicine that is not listed is "not taken" only inside them.
Single-valued findings from condition codes (dysphagia, cancer, interstitial lung disease,
hypothyroidism) are `true` when a code is on file by the evaluation date and omitted (unknown) otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from imnm.adapters.omop.source import Source
from imnm.adapters.omop.staging import with_clause

_SEL = "imnm_sel"


def _iso(d: Any) -> str | None:
    if d is None:
        return None
    return d.isoformat()[:10] if hasattr(d, "isoformat") else str(d)[:10]


def build_records(src: Source, person_ids: Iterable[int], as_of: date) -> dict[int, dict[str, Any]]:
    """Record documents for the given persons (one batch of queries for all of them)."""
    ids = sorted({int(p) for p in person_ids})
    src.register(_SEL, [("person_id", "BIGINT")], [(i,) for i in ids])
    params = {"as_of": as_of}

    def q(body: str) -> list[tuple[Any, ...]]:
        return src.execute(with_clause(src, body, persons=_SEL), params)

    docs: dict[int, dict[str, Any]] = {}
    for row in q(
        "SELECT person_id, sex, birth_date, symptom_onset, diagnosis_date, dysphagia, cancer, ild, hypothyroidism, "
        "biopsy_date, emg_date, mri_date, st_start, st_stop, st_status, weight_kg, height_cm FROM s_scalar"
    ):
        (
            pid,
            sex,
            birth,
            onset,
            dx,
            dys,
            cancer,
            ild,
            hypo,
            biopsy,
            emg,
            mri,
            _st_start,
            _st_stop,
            _st_status,
            w,
            h,
        ) = row
        doc: dict[str, Any] = {"id": str(pid)}
        if sex:
            doc["sex"] = sex
        if birth is not None:
            doc["birth_date"] = _iso(birth)
        if onset is not None:
            doc["symptom_onset"] = _iso(onset)
        if dx is not None:
            doc["diagnosis_date"] = _iso(dx)
        if dys:
            doc["findings"] = {"dysphagia": True}
        history = {
            k: True
            for k, v in (("cancer", cancer), ("interstitial_lung_disease", ild), ("hypothyroidism", hypo))
            if v
        }
        if history:
            doc["history"] = history
        # no `exposures` block: statin exposure is derived from the medication list (imnm.derive.common)
        for key, d in (("biopsy", biopsy), ("emg", emg), ("mri", mri)):
            if d is not None:
                doc[key] = {"performed": True, "date": _iso(d)} if key == "biopsy" else {"date": _iso(d)}
        if w is not None:
            doc["weight_kg"] = float(w)
        if h is not None:
            doc["height_cm"] = float(h)
        doc["medications"] = []
        doc["coverage"] = {"medications": []}
        docs[int(pid)] = doc
    for pid, test, value, unit, uln, d, rid in q(
        "SELECT person_id, test, value, unit, uln, d, rid FROM s_lab ORDER BY person_id, d, rid"
    ):
        if (pid := _person(pid)) not in docs:
            continue  # a row of a person PERSON does not hold (or whose person_id is not a number)
        lab: dict[str, Any] = {"test": test, "value": float(value), "unit": unit}
        if uln is not None:
            lab["uln"] = float(uln)
        lab["date"] = _iso(d)
        lab["ref"] = f"measurement/{rid}"
        docs[pid].setdefault("labs", []).append(lab)
    for pid, target, result, value, d, rid in q(
        "SELECT person_id, target, result, value, d, rid FROM s_ab ORDER BY person_id, d, rid"
    ):
        if (pid := _person(pid)) not in docs:
            continue  # a row of a person PERSON does not hold (or whose person_id is not a number)
        ab: dict[str, Any] = {"target": target, "result": result}
        if value is not None:
            ab["value"] = float(value)
        ab["date"] = _iso(d)
        ab["ref"] = f"measurement/{rid}"
        docs[pid].setdefault("antibodies", []).append(ab)
    for pid, set_id, d, rid in q(
        "SELECT person_id, set_id, d, rid FROM s_proc WHERE set_id IN ('muscle_biopsy', 'emg', 'muscle_mri') "
        "AND d <= $as_of ORDER BY person_id, d DESC, rid"
    ):
        if (pid := _person(pid)) not in docs:
            continue  # a row of a person PERSON does not hold (or whose person_id is not a number)
        key = {"muscle_biopsy": "biopsy", "emg": "emg", "muscle_mri": "mri"}[set_id]
        block = docs[pid].get(key)
        if block is not None and "ref" not in block and block.get("date") == _iso(d):
            block["ref"] = f"procedure_occurrence/{rid}"
    for pid, name, start, stop, rid, tbl in q(
        "SELECT person_id, name, start_d, stop_d, rid, tbl FROM s_med ORDER BY person_id, start_d, rid, name"
    ):
        if (pid := _person(pid)) not in docs:
            continue  # a row of a person PERSON does not hold (or whose person_id is not a number)
        med: dict[str, Any] = {"name": name, "start": _iso(start)}
        if stop is not None:
            med["stop"] = _iso(stop)
        med["ref"] = f"{tbl}/{rid}"
        docs[pid]["medications"].append(med)
    for pid, s, e in q("SELECT person_id, cov_start, cov_end FROM s_cov ORDER BY person_id, cov_start"):
        if (pid := _person(pid)) not in docs:
            continue  # a row of a person PERSON does not hold (or whose person_id is not a number)
        docs[pid]["coverage"]["medications"].append({"start": _iso(s), "end": _iso(e)})
    return docs


def _person(pid: Any) -> int | None:
    return None if pid is None else int(pid)


def build_record(src: Source, person_id: int, as_of: date) -> dict[str, Any] | None:
    return build_records(src, [person_id], as_of).get(int(person_id))
