"""A second, tiny adapter binds the same base facts from plain dict rows (issue 10, "adapters bind base
facts declaratively"): its own binding table, in the same shape as the record adapter's, keyed by
LOINC codes and row kinds instead of record paths. For every bundled example, `assess` and trial
matching give the same results as the YAML adapter (evidence paths aside, which name each source).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from imnm import services
from imnm.bindings import BoundFacts, load_table
from imnm.core.facts import FactSource
from imnm.record.load import load_record
from imnm.record.model import Record
from imnm.settings import Settings
from imnm.vocabulary import REGISTRY
from tests.conftest import AS_OF, EXAMPLES

LOINC = {
    "ck": "2157-6",
    "aldolase": "1746-9",
    "ast": "1920-8",
    "alt": "1742-6",
    "ldh": "2532-0",
    "tsh": "3016-3",
    "free_t4": "3024-7",
    "crp": "1988-5",
}
# the tiny adapter's binding table: the same shape as src/imnm/record/bindings.yaml
TABLE: dict[str, Any] = {
    "adapter": "rows",
    "bindings": [
        {"fact": "sex", "field": "patient.gender"},
        {"fact": "birth_date", "field": "patient.born"},
        {"fact": "symptom_onset", "field": "patient.onset"},
        {"fact": "diagnosis_date", "field": "patient.diagnosed"},
        {"fact": "age_at_onset.given", "field": "patient.onset_age"},
        {"fact": "weight_kg", "field": "patient.kg"},
        {"fact": "height_cm", "field": "patient.cm"},
        {
            "for_each_fact": "findings.",
            "rows": "rows",
            "where": {"kind": "finding", "name": "{rest}"},
            "value": "present",
        },
        {
            "for_each_fact": "history.",
            "rows": "rows",
            "where": {"kind": "history", "name": "{rest}"},
            "value": "present",
        },
        *(
            b
            for e in ("statin", "red_yeast_rice", "oyster_mushrooms")
            for b in (
                {"fact": f"exposures.{e}", "exposure": f"exposure.{e}"},
                {"fact": f"exposures.{e}.status", "exposure": f"exposure.{e}"},
            )
        ),
        {
            "for_each": "medications.classes",
            "fact": "medication.{key}",
            "rows": "drugs",
            "where": {"drug": {"class": "{key}"}},
            "value": {"interval": {"start": "from", "stop": "to", "ongoing": "open_stop_with_start"}},
            "date": "from",
            "text": "drug",
            "note": "{drug}",
            "attrs": {
                "dose_mg_per_day": "mg_day",
                "dose_mg_per_week": "mg_week",
                "dose_mg_per_kg_per_day": "mg_kg_day",
            },
        },
        *(
            {
                "fact": f"lab.{t}",
                "rows": "rows",
                "where": {"kind": "lab", "loinc": code},
                "value": "val",
                "unit": "ucum",
                "convert": f"labs.tests.{t}.units",
                "date": "when",
                "high": "ref_high",
            }
            for t, code in LOINC.items()
        ),
        *(
            {"fact": f"lab.{t}.fold", "fold": f"lab.{t}"}
            for t in ("ck", "aldolase", "ast", "alt", "ldh", "tsh")
        ),
        {
            "for_each": "antibodies.targets",
            "fact": "antibody.{key}",
            "rows": "rows",
            "where": {"kind": "antibody", "antigen": "{key}"},
            "value": "result",
            "date": "when",
            "attrs": {"method": "method", "value": "val", "unit": "ucum", "band": "band"},
        },
        {"fact": "emg.date", "rows": "rows", "where": {"kind": "emg"}, "value": "when"},
        {
            "for_each_fact": "emg.",
            "rows": "rows",
            "where": {"kind": "emg"},
            "value": "{rest}",
            "date": "when",
        },
        {"fact": "mri.date", "rows": "rows", "where": {"kind": "mri"}, "value": "when"},
        {
            "for_each_fact": "mri.",
            "rows": "rows",
            "where": {"kind": "mri"},
            "value": "{rest}",
            "date": "when",
        },
        {
            "fact": "biopsy.performed",
            "rows": "rows",
            "where": {"kind": "biopsy"},
            "value": "performed",
            "date": "when",
            "attrs": {"site": "site"},
        },
        {
            "fact": "biopsy.date",
            "rows": "rows",
            "where": {"kind": "biopsy", "performed": True},
            "value": "when",
        },
        {
            "for_each_fact": "biopsy.",
            "rows": "rows",
            "where": {"kind": "biopsy", "performed": True},
            "value": "{rest}",
            "date": "when",
        },
        {
            "fact": "visit.date",
            "rows": "rows",
            "where": {"kind": "visit"},
            "value": {"interval": {"start": "when"}},
            "date": "when",
        },
        *(
            {"fact": f"visit.{v}", "rows": "rows", "where": {"kind": "visit"}, "value": v, "date": "when"}
            for v in ("physician_global", "patient_global", "extramuscular_global", "mmt8", "haq")
        ),
        {
            "fact": "visit.haq_di.given",
            "rows": "rows",
            "where": {"kind": "visit"},
            "value": "haq_di",
            "date": "when",
        },
        *(
            {"fact": f"pft.{f}", "rows": "rows", "where": {"kind": "pft"}, "value": v, "date": "when"}
            for f, v in (("fvc_percent", "fvc"), ("dlco_percent", "dlco"), ("ild_on_ct", "ild"))
        ),
        *(
            {"fact": f"cardiac.{f}", "rows": "rows", "where": {"kind": "heart"}, "value": v, "date": "when"}
            for f, v in (
                ("ecg", "ecg"),
                ("lvef", "lvef"),
                ("troponin_elevated", "trop"),
                ("mri_abnormal", "cmr"),
            )
        ),
        {
            "fact": "infection.systemic",
            "rows": "infections",
            "where": {"type": {"in": ["systemic", None]}},
            "value": {"interval": {"start": "from", "stop": "to", "ongoing": "open_stop"}},
            "date": "from",
        },
        {
            "fact": "infection.iv_antibiotics",
            "rows": "infections",
            "unknown_if_any": {"iv": None},
            "where": {"iv": True},
            "value": {"interval": {"start": "from", "stop": "to", "ongoing": "open_stop"}},
            "date": "from",
        },
        {
            "fact": "vaccination.meningococcal",
            "rows": "vaccines",
            "where": {"vaccine": {"contains": "mening"}},
            "value": {"interval": {"start": "on"}},
            "date": "on",
        },
    ],
}


def to_rows(rec: Record) -> dict[str, Any]:
    """The example record as plain rows with other names and LOINC codes (the tiny adapter's format)."""
    rows: list[dict[str, Any]] = []
    for section in ("findings", "history"):
        for name, v in getattr(rec, section):
            if v is not None:
                rows.append(
                    {"kind": "finding" if section == "findings" else "history", "name": name, "present": v}
                )
    drugs = (
        None
        if rec.medications is None
        else [
            {
                "drug": m.name,
                "from": m.start,
                "to": m.stop,
                "mg_day": m.dose_mg_per_day,
                "mg_week": m.dose_mg_per_week,
                "mg_kg_day": m.dose_mg_per_kg_per_day,
            }
            for m in rec.medications
        ]
    )
    infections = (
        None
        if rec.infections is None
        else [
            {"type": i.kind, "from": i.date, "to": i.resolved, "iv": i.iv_antibiotics} for i in rec.infections
        ]
    )
    vaccines = (
        None if rec.vaccinations is None else [{"vaccine": v.name, "on": v.date} for v in rec.vaccinations]
    )
    for pf in rec.pulmonary_function or ():
        rows.append(
            {
                "kind": "pft",
                "when": pf.date,
                "fvc": pf.fvc_percent_predicted,
                "dlco": pf.dlco_percent_predicted,
                "ild": pf.ild_on_ct,
            }
        )
    for c in rec.cardiac or ():
        rows.append(
            {
                "kind": "heart",
                "when": c.date,
                "ecg": c.ecg,
                "lvef": c.lvef_percent,
                "trop": c.troponin_elevated,
                "cmr": c.cardiac_mri_abnormal,
            }
        )
    for lab in rec.labs or ():
        rows.append(
            {
                "kind": "lab",
                "loinc": LOINC[lab.test],
                "val": lab.value,
                "ucum": lab.unit,
                "ref_high": lab.uln,
                "when": lab.date,
            }
        )
    for a in rec.antibodies or ():
        rows.append(
            {
                "kind": "antibody",
                "antigen": a.target,
                "result": a.result,
                "method": a.method,
                "val": a.value,
                "ucum": a.unit,
                "band": a.band,
                "when": a.date,
            }
        )
    for kind in ("emg", "mri", "biopsy"):
        block = getattr(rec, kind)
        if block is not None:
            rows.append({"kind": kind, "when": block.date, **block.model_dump(exclude={"date", "ref"})})
    for v in rec.visits or ():
        rows.append(
            {
                "kind": "visit",
                "when": v.date,
                "physician_global": v.physician_global,
                "patient_global": v.patient_global,
                "extramuscular_global": v.extramuscular_global,
                "mmt8": v.mmt8,
                "haq": v.haq,
                "haq_di": v.haq_di,
            }
        )
    patient = {
        "gender": rec.sex,
        "born": rec.birth_date,
        "onset": rec.symptom_onset,
        "diagnosed": rec.diagnosis_date,
        "onset_age": rec.age_at_onset,
        "kg": rec.weight_kg,
        "cm": rec.height_cm,
    }
    exposure = {e: getattr(rec.exposures, e) for e in ("statin", "red_yeast_rice", "oyster_mushrooms")}
    return {
        "patient": patient,
        "rows": rows,
        "exposure": exposure,
        "drugs": drugs,
        "infections": infections,
        "vaccines": vaccines,
    }


class RowsPatient:
    """A `PatientSource`: plain rows bound through the table above."""

    def __init__(self, pid: str, document: dict[str, Any]) -> None:
        self._id = pid
        self.document = document
        self.table = load_table(TABLE, REGISTRY, file="tests/test_second_adapter.py")

    @property
    def id(self) -> str:
        return self._id

    def base_facts(self, *, as_of: date, settings: Settings) -> FactSource:
        return BoundFacts(self.document, self.table, registry=REGISTRY, settings=settings)


_PATH = re.compile(
    r"\b(labs|antibodies|medications|visits|rows|drugs|infections|vaccines|pulmonary_function|cardiac|exposures?\.\w+|findings\.\w+|history\.\w+|(emg|mri|biopsy)\.\w+)(\[\d+\])?(\.\w+)*"
)


def _normal(x: object) -> object:
    """Drop where each value came from (the two adapters name their sources differently)."""
    if isinstance(x, dict):
        return {
            k: _normal(v)
            for k, v in x.items()
            if k not in ("evidence", "explanation", "source", "ref", "courses")
        }
    if isinstance(x, list):
        return [_normal(v) for v in x]
    if isinstance(x, str):
        return _PATH.sub("SRC", x)
    return x


EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_rows_adapter_gives_the_same_assessment_and_trials(path: Any) -> None:
    rec = load_record(path)
    rows = RowsPatient(rec.id, to_rows(rec))
    assert services.assess(rows, as_of=AS_OF).as_dict() != {}  # sanity: it runs on the rows alone
    a_yaml = _normal(services.assess(rec, as_of=AS_OF).as_dict())
    a_rows = _normal(services.assess(rows, as_of=AS_OF).as_dict())
    assert a_rows == a_yaml
    t_yaml = _normal(services.match_trials(rec, as_of=AS_OF).as_dict())
    t_rows = _normal(services.match_trials(rows, as_of=AS_OF).as_dict())
    assert t_rows == t_yaml


def test_the_rows_table_binds_only_vocabulary_base_facts() -> None:
    table = RowsPatient("x", {}).table
    assert set(table.facts()) <= {s.name for s in REGISTRY.specs() if not s.derived}
    assert "lab.ck" in table.facts() and "antibody.HMGCR" in table.facts()
