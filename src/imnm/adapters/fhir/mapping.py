"""FHIR R4 resources → a record document (a dict `imnm.record.load.parse_record` accepts) + an import report.

Rules (codes and value sets in `knowledge/data/fhir_codes.yaml`):
- Patient: birthDate, gender (male / female; other values stay unknown).
- Observation by LOINC: labs with a UCUM unit the units table (`labs.yaml`) knows (a unit it does not know
  is not a value; no unit is not a value), `referenceRange.high` as ULN (converted to the value's unit);
  antibodies from `valueCodeableConcept` and/or `interpretation` (disagreement → not used); weight and
  height; `effective[x]` as the date; `status` final/amended/corrected used, preliminary used and flagged,
  entered-in-error / cancelled / registered ignored.
- Condition: active + confirmed → true (history fields also when resolved: "active or previous");
  refuted → false; anything else → nothing. Absence → unknown.
- MedicationStatement / MedicationRequest / MedicationAdministration: every named medicine with its period
  and (mg/day, mg/week, g/kg) dose; statins also give `exposures.statin` (choice statin_exposure_from_orders).
- Immunization → vaccinations; Procedure / DiagnosticReport for EMG: done with its date, free-text
  conclusion kept as a note (findings unknown).
- QuestionnaireResponse of the screener → the answers the mapping file names.
- Project-coded Observations and Lists (our own export) → exactly the record fields they encode.
Anything else is listed in the report with the resource id and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from imnm.adapters.fhir import codes
from imnm.adapters.fhir.encode import decode_components
from imnm.adapters.fhir.read import MAPPED_TYPES, validation_problem
from imnm.record.load import problems_from
from imnm.record.vocabulary import lab_unit_factor

HISTORY_ANY_STATUS = ("active", "recurrence", "relapse", "inactive", "remission", "resolved")
ACTIVE = ("active", "recurrence", "relapse")


@dataclass
class ReportItem:
    resource: str  # "Observation/abc"
    outcome: str  # mapped | flagged | not_mapped | ignored | note
    reason: str
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "outcome": self.outcome,
            "field": self.field,
            "reason": self.reason,
        }


@dataclass
class ImportReport:
    source: str
    items: list[ReportItem] = field(default_factory=list)
    resource_counts: dict[str, int] = field(default_factory=dict)

    def add(self, resource: str, outcome: str, reason: str, fld: str | None = None) -> None:
        self.items.append(ReportItem(resource, outcome, reason, fld))

    def count(self, outcome: str) -> int:
        return sum(1 for i in self.items if i.outcome == outcome)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "resources": self.resource_counts,
            "summary": {o: self.count(o) for o in ("mapped", "flagged", "not_mapped", "ignored", "note")},
            "items": [i.as_dict() for i in self.items],
            "loinc_notice": codes.loinc_notice(),
        }


@dataclass
class ImportResult:
    document: dict[str, Any]
    report: ImportReport


def _ref(res: dict[str, Any]) -> str:
    return f"{res.get('resourceType')}/{res.get('id', '?')}"


def _codings(cc: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [c for c in (cc or {}).get("coding") or [] if isinstance(c, dict)]


def _code_in(cc: dict[str, Any] | None, system: str) -> list[str]:
    return [str(c["code"]) for c in _codings(cc) if c.get("system") == system and c.get("code")]


def _date(value: Any) -> str | None:
    """YYYY-MM-DD of a FHIR date/dateTime/instant; None for partial dates."""
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        return value[:10]
    return None


def _effective(res: dict[str, Any], *keys: str) -> str | None:
    for k in keys:
        if k in res:
            v = res[k]
            if isinstance(v, dict):
                return _date(v.get("start")) or _date(v.get("end"))
            return _date(v)
    return None


def _cc_text(cc: dict[str, Any] | None) -> str | None:
    if not cc:
        return None
    if cc.get("text"):
        return str(cc["text"])
    for c in _codings(cc):
        if c.get("display"):
            return str(c["display"])
    return None


class _Mapper:
    def __init__(self, resources: list[dict[str, Any]], source: str) -> None:
        self.resources = resources
        self.report = ImportReport(source)
        self.doc: dict[str, Any] = {}
        self.sections: dict[str, list[dict[str, Any]]] = {}
        self.present: set[str] = set()  # list sections our own Lists declare present
        self.explicit_exposures: set[str] = set()
        self.derived_statin: list[tuple[str, str | None, str | None, str]] = []  # (status, start, stop, ref)
        self.conditions: dict[str, list[tuple[bool, str]]] = {}
        self.vitals: dict[str, tuple[str, float, str]] = {}
        self.seen: set[str] = set()
        self.lab_keys: set[tuple[Any, ...]] = set()
        self.cs = codes.project_cs()

    # -------------------------------------------------------------- driver

    def run(self) -> ImportResult:
        patients = [r for r in self.resources if r.get("resourceType") == "Patient"]
        ids = {p.get("id") for p in patients}
        if len(ids) > 1:
            from imnm.errors import InputError, Problem

            raise InputError(
                [
                    Problem(
                        "Patient",
                        f"the input holds {len(ids)} patients ({', '.join(sorted(str(i) for i in ids))})",
                        "import one patient's bundle at a time (or split the bulk export by patient)",
                    )
                ],
                what=self.report.source,
            )
        for res in self.resources:
            rtype = str(res.get("resourceType"))
            self.report.resource_counts[rtype] = self.report.resource_counts.get(rtype, 0) + 1
            ref = _ref(res)
            if ref in self.seen and "id" in res:
                self.report.add(ref, "ignored", "duplicate: the same resource id appears twice")
                continue
            self.seen.add(ref)
            if rtype not in MAPPED_TYPES:
                self.report.add(ref, "not_mapped", f"{rtype} is not a resource type the importer maps")
                continue
            problem = validation_problem(res, ref)
            if problem:
                self.report.add(ref, "not_mapped", problem)
                continue
            getattr(self, f"_{rtype}")(res, ref)
        self._finish()
        return ImportResult(self.doc, self.report)

    def _add_item(self, section: str, item: dict[str, Any], ref: str, model: Any, fld: str) -> bool:
        """Validate one item with its record model; keep it only when valid."""
        try:
            model.model_validate(item)
        except ValidationError as exc:
            msgs = "; ".join(f"{p.path or fld}: {p.message}" for p in problems_from(exc, model))
            self.report.add(ref, "not_mapped", f"does not fit the record's {fld}: {msgs}", fld)
            return False
        self.sections.setdefault(section, []).append(item)
        return True

    # -------------------------------------------------------------- resources

    def _Patient(self, res: dict[str, Any], ref: str) -> None:
        rid = next(
            (
                str(i["value"])
                for i in res.get("identifier") or []
                if i.get("system") == codes.project()["record_id_system"] and i.get("value")
            ),
            None,
        )
        self.doc["id"] = rid or str(res.get("id") or "fhir-patient")
        gender = res.get("gender")
        if gender in ("male", "female"):
            self.doc["sex"] = gender
            self.report.add(ref, "mapped", f"gender {gender}", "sex")
        elif gender is not None:
            self.report.add(ref, "note", f"gender {gender!r} is not male or female: sex left unknown", "sex")
        bd = _date(res.get("birthDate"))
        if bd:
            self.doc["birth_date"] = bd
            self.report.add(ref, "mapped", f"birthDate {bd}", "birth_date")
        elif res.get("birthDate"):
            self.report.add(
                ref, "note", f"partial birthDate {res['birthDate']!r}: left unknown", "birth_date"
            )

    def _status_ok(self, res: dict[str, Any], ref: str, group: str = "observation_status") -> str | None:
        status = str(res.get("status"))
        action = codes.statuses(group).get(status)
        if action is None:
            self.report.add(ref, "ignored", f"status {status!r} is not a known status")
            return None
        if action == "ignore":
            self.report.add(ref, "ignored", f"status {status}")
            return None
        return action

    def _Observation(self, res: dict[str, Any], ref: str) -> None:
        code = res.get("code")
        project = _code_in(code, self.cs)
        if project:
            self._project_observation(res, ref, project[0])
            return
        loinc = _code_in(code, codes.system("loinc"))
        for c in loinc:
            if c in codes.lab_codes():
                self._lab(res, ref, codes.lab_codes()[c])
                return
            if c in codes.antibody_codes():
                self._antibody(res, ref, codes.antibody_codes()[c].target, codes.antibody_codes()[c].method)
                return
            if c in codes.vitals():
                self._vital(res, ref, codes.vitals()[c])
                return
            if c in codes.not_lab_codes():
                self.report.add(
                    ref, "not_mapped", f"LOINC {c} is {codes.not_lab_codes()[c]}, not a test the record uses"
                )
                return
        shown = ", ".join(f"{cd.get('system', '?')}|{cd.get('code')}" for cd in _codings(code)) or "no coding"
        self.report.add(
            ref, "not_mapped", f"unknown code ({shown}: {_cc_text(code) or ''})".rstrip(": )") + ")"
        )

    def _lab(self, res: dict[str, Any], ref: str, info: codes.CodeInfo) -> None:
        test = info.target
        fld = f"labs[{test}]"
        action = self._status_ok(res, ref)
        if action is None:
            return
        q = res.get("valueQuantity")
        if not isinstance(q, dict) or q.get("value") is None:
            why = "no valueQuantity" if "valueQuantity" not in res else "valueQuantity has no value"
            self.report.add(ref, "not_mapped", f"{test}: {why}", fld)
            return
        if q.get("comparator"):
            self.report.add(
                ref, "not_mapped", f"{test}: value {q['comparator']}{q['value']} is not an exact value", fld
            )
            return
        unit = self._unit(q)
        if unit is None:
            self.report.add(
                ref, "not_mapped", f"{test}: no unit (a value without a unit is not a value)", fld
            )
            return
        if lab_unit_factor(test, unit) is None:
            self.report.add(
                ref, "not_mapped", f"{test}: unit {unit!r} is not in the units table (labs.yaml)", fld
            )
            return
        item: dict[str, Any] = {"test": test, "value": float(q["value"]), "unit": unit, "ref": ref}
        d = _effective(res, "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")
        if d:
            item["date"] = d
        uln, lln, why_range = self._range(res, test, unit)
        if uln is not None:
            item["uln"] = uln
        if lln is not None:
            item["lln"] = lln
        key = (test, item.get("date"), item["value"], unit)
        if key in self.lab_keys:
            self.report.add(
                ref, "ignored", f"duplicate: {test} {item['value']:g} {unit} on {item.get('date')}", fld
            )
            return
        if self._add_item("labs", item, ref, _models()["labs"], fld):
            self.lab_keys.add(key)
            text = f"{test} {item['value']:g} {unit}" + (f" (ULN {uln:g})" if uln is not None else "")
            if d is None:
                text += "; no date"
            if why_range:
                self.report.add(ref, "flagged", f"{text}; {why_range}", fld)
            elif action == "flag":
                self.report.add(ref, "flagged", f"{text}; status preliminary", fld)
            else:
                self.report.add(ref, "mapped", text, fld)

    def _unit(self, q: dict[str, Any]) -> str | None:
        if q.get("system") == codes.system("ucum") and q.get("code"):
            code = str(q["code"])
            return codes.ucum_aliases().get(code, code)
        if q.get("unit"):
            return str(q["unit"])
        if q.get("code"):
            return str(q["code"])
        return None

    def _range(
        self, res: dict[str, Any], test: str, unit: str
    ) -> tuple[float | None, float | None, str | None]:
        ranges = [r for r in res.get("referenceRange") or [] if isinstance(r, dict)]
        if not ranges:
            return None, None, "no reference range (fold over ULN unknown)"
        normal = [
            r
            for r in ranges
            if not r.get("type")
            or "normal"
            in _code_in(r.get("type"), "http://terminology.hl7.org/CodeSystem/referencerange-meaning")
        ]
        rr = (normal or ranges)[0]
        factor = lab_unit_factor(test, unit)
        assert factor is not None

        def conv(q: dict[str, Any] | None) -> tuple[float | None, str | None]:
            if not q or q.get("value") is None:
                return None, None
            u = self._unit(q) or unit
            f = lab_unit_factor(test, u)
            if f is None:
                return None, f"reference limit unit {u!r} is not in the units table"
            return float(q["value"]) * f / factor, None

        high, why_h = conv(rr.get("high"))
        low, _why_l = conv(rr.get("low"))
        if high is None and why_h is None:
            why_h = "reference range has no upper limit (fold over ULN unknown)"
        if high is not None and high <= 0:
            return None, low, "upper reference limit is not positive"
        return high, low, why_h

    def _antibody(self, res: dict[str, Any], ref: str, target: str, method: str | None) -> None:
        fld = f"antibodies[{target}]"
        action = self._status_ok(res, ref)
        if action is None:
            return
        from_value = None
        vcc = res.get("valueCodeableConcept")
        if vcc:
            for c in _codings(vcc):
                r = codes.antibody_result_codes().get((str(c.get("system")), str(c.get("code"))))
                if r:
                    from_value = r
                    break
        if from_value is None and isinstance(res.get("valueString"), str):
            from_value = {
                "positive": "positive",
                "negative": "negative",
                "detected": "positive",
                "not detected": "negative",
            }.get(res["valueString"].strip().lower())
        interp = None
        for cc in res.get("interpretation") or []:
            for c in _codings(cc):
                if c.get("system") == codes.system("interpretation"):
                    interp = codes.interpretation_codes().get(str(c.get("code"))) or interp
        if from_value and interp and from_value != interp:
            self.report.add(
                ref,
                "not_mapped",
                f"anti-{target}: value says {from_value}, interpretation says {interp}",
                fld,
            )
            return
        result = from_value or interp
        if result is None:
            self.report.add(
                ref,
                "not_mapped",
                f"anti-{target}: no positive/negative result (coded value or interpretation POS/NEG/IND); "
                "a number alone is not read against a cut-off",
                fld,
            )
            return
        item: dict[str, Any] = {"target": target, "result": result, "ref": ref}
        q = res.get("valueQuantity")
        if isinstance(q, dict) and q.get("value") is not None and not q.get("comparator"):
            item["value"] = float(q["value"])
            u = q.get("unit") or q.get("code")
            if u:
                item["unit"] = str(u)
        m = res.get("method")
        pm = [c[len("method.") :] for c in _code_in(m, self.cs) if c.startswith("method.")]
        if pm:
            item["method"] = pm[0]
        elif method:
            item["method"] = method
        comps, _bad = decode_components(res.get("component") or [])
        if "band" in comps:
            item["band"] = comps["band"]
        d = _effective(res, "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")
        if d:
            item["date"] = d
        if self._add_item("antibodies", item, ref, _models()["antibodies"], fld):
            self.report.add(ref, "flagged" if action == "flag" else "mapped", f"anti-{target} {result}", fld)

    def _vital(self, res: dict[str, Any], ref: str, info: dict[str, Any]) -> None:
        fld = str(info["field"])
        if self._status_ok(res, ref) is None:
            return
        q = res.get("valueQuantity") or {}
        unit = self._unit(q) if q else None
        if q.get("value") is None or unit is None or unit not in info["units"]:
            self.report.add(ref, "not_mapped", f"{fld}: no value with a known unit ({unit!r})", fld)
            return
        value = float(q["value"]) * float(info["units"][unit])
        d = _effective(res, "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued") or ""
        prev = self.vitals.get(fld)
        if prev is None or d >= prev[0]:
            if prev is not None:
                self.report.add(prev[2], "note", f"{fld}: an older value (a later one is used)", fld)
            self.vitals[fld] = (d, value, ref)
        else:
            self.report.add(ref, "note", f"{fld}: an older value (a later one is used)", fld)

    def _project_observation(self, res: dict[str, Any], ref: str, code: str) -> None:
        if self._status_ok(res, ref) is None:
            return
        if code.startswith(("findings.", "history.")):
            section, name = code.split(".", 1)
            if "valueBoolean" in res:
                self.doc.setdefault(section, {})[name] = bool(res["valueBoolean"])
                self.report.add(ref, "mapped", f"{code} {res['valueBoolean']}", code)
            else:
                self.report.add(ref, "not_mapped", f"{code}: no valueBoolean", code)
            return
        if code.startswith("antibody."):
            self._antibody(res, ref, code[len("antibody.") :], None)
            return
        comps, bad = decode_components(res.get("component") or [])
        if bad:
            self.report.add(ref, "note", f"{code}: components not read: {', '.join(bad)}", code)
        if code.startswith("exposure."):
            name = code[len("exposure.") :]
            self.explicit_exposures.add(name)
            if res.get("dataAbsentReason"):
                self.report.add(ref, "mapped", f"{name} exposure explicitly unknown", f"exposures.{name}")
                return
            if self._check(comps, _models()["exposure"], ref, f"exposures.{name}"):
                self.doc.setdefault("exposures", {})[name] = comps
                self.report.add(ref, "mapped", f"{name} exposure {comps.get('status')}", f"exposures.{name}")
            return
        if code == "record":
            self.doc.update(comps)
            self.report.add(ref, "mapped", "record fields " + ", ".join(sorted(comps)), "record")
            return
        single = {"emg": "emg", "mri": "mri", "biopsy": "biopsy"}
        if code in single:
            comps["ref"] = ref
            if self._check(comps, _models()[code], ref, code):
                self.doc[code] = comps
                self.report.add(ref, "mapped", code, code)
            return
        lists = {
            "visit": "visits",
            "pulmonary_function": "pulmonary_function",
            "cardiac": "cardiac",
            "infection": "infections",
            "vaccination": "vaccinations",
        }
        if code in lists:
            comps["ref"] = ref
            if self._add_item(lists[code], comps, ref, _models()[lists[code]], lists[code]):
                self.report.add(ref, "mapped", code, lists[code])
            return
        self.report.add(ref, "not_mapped", f"unknown project code {code!r}")

    def _check(self, item: dict[str, Any], model: Any, ref: str, fld: str) -> bool:
        try:
            model.model_validate(item)
        except ValidationError as exc:
            msgs = "; ".join(f"{p.path or fld}: {p.message}" for p in problems_from(exc, model))
            self.report.add(ref, "not_mapped", f"does not fit the record's {fld}: {msgs}", fld)
            return False
        return True

    def _List(self, res: dict[str, Any], ref: str) -> None:
        pc = [c for c in _code_in(res.get("code"), self.cs) if c.startswith("list.")]
        if not pc:
            self.report.add(
                ref, "not_mapped", "a List not written by IMNM Navigator (no list.* project code)"
            )
            return
        section = pc[0][len("list.") :]
        if res.get("status") == "entered-in-error":
            self.report.add(ref, "ignored", "status entered-in-error")
            return
        self.present.add(section)
        self.report.add(
            ref,
            "mapped",
            f"section {section} recorded" + (" (none)" if not res.get("entry") else ""),
            section,
        )

    def _Condition(self, res: dict[str, Any], ref: str) -> None:
        code = res.get("code")
        keys = [f"sct|{c}" for c in _code_in(code, codes.system("snomed"))] + [
            f"icd|{c}" for c in _code_in(code, codes.system("icd10cm"))
        ]
        clinical: str | None = next(
            iter(_code_in(res.get("clinicalStatus"), codes.system("condition_clinical"))), None
        )
        verification: str | None = next(
            iter(_code_in(res.get("verificationStatus"), codes.system("condition_verification"))), None
        )
        if verification == "entered-in-error":
            self.report.add(ref, "ignored", "verificationStatus entered-in-error")
            return
        exact, prefixes = codes.condition_rules()
        rule = next((exact[k] for k in keys if k in exact), None)
        if rule is None:
            icd = [k[4:] for k in keys if k.startswith("icd|")]
            rule = next((p for p in prefixes for c in icd if c.startswith(p.code)), None)
        dexact, dprefixes = codes.diagnosis_rules()
        diag = next((dexact[k] for k in keys if k in dexact), None)
        if diag is None:
            icd = [k[4:] for k in keys if k.startswith("icd|")]
            diag = next((d for p, d in dprefixes for c in icd if c.startswith(p)), None)
        if rule is None and diag is None:
            self.report.add(ref, "not_mapped", f"unknown code ({_cc_text(code) or 'no text'})")
            return
        if diag is not None:
            self._diagnosis(res, ref, diag, clinical, verification)
            if rule is None:
                return
        assert rule is not None
        fld = rule.field
        allowed = HISTORY_ANY_STATUS if fld.startswith("history.") else ACTIVE
        if verification == "refuted":
            self.conditions.setdefault(fld, []).append((False, ref))
        elif verification == "confirmed" and clinical in allowed:
            self.conditions.setdefault(fld, []).append((True, ref))
        else:
            self.report.add(
                ref,
                "not_mapped",
                f"{fld}: clinicalStatus {clinical}, verificationStatus {verification}: only confirmed "
                f"({'/'.join(allowed)}) gives true and refuted gives false",
                fld,
            )

    def _diagnosis(
        self,
        res: dict[str, Any],
        ref: str,
        diag: codes.Diagnosis,
        clinical: str | None,
        verification: str | None,
    ) -> None:
        ok = verification == "confirmed" and clinical in HISTORY_ANY_STATUS
        text = f"diagnosis {diag.label} (clinicalStatus {clinical}, verificationStatus {verification})"
        if ok and diag.diagnosis_date:
            d = _effective(res, "onsetDateTime", "onsetPeriod") or _date(res.get("recordedDate"))
            if d:
                prev = self.doc.get("diagnosis_date")
                if prev is None or d < prev:
                    self.doc["diagnosis_date"] = d
                self.report.add(ref, "mapped", f"{text}: diagnosis_date {d}", "diagnosis_date")
                return
        self.report.add(ref, "note", f"{text}: the record has no diagnosis-code field")

    def _medication(self, res: dict[str, Any], ref: str, kind: str) -> None:
        group = "medication_status"
        status = str(res.get("status"))
        action = codes.statuses(group).get(status)
        if kind == "MedicationAdministration":
            action = {
                "in-progress": "current",
                "completed": "past",
                "stopped": "past",
                "on-hold": "current",
            }.get(status, "ignore" if status in ("not-done", "entered-in-error") else "unknown")
        if action is None or action == "ignore":
            self.report.add(ref, "ignored", f"status {status}")
            return
        cc = res.get("medicationCodeableConcept")
        if cc is None and isinstance(res.get("medicationReference"), dict):
            med = self.medications.get(str(res["medicationReference"].get("reference", "")))
            cc = med.get("code") if med else None
            if cc is None and res["medicationReference"].get("display"):
                cc = {"text": res["medicationReference"]["display"]}
        name = _cc_text(cc)
        rx = [codes.rxnorm_names().get(c) for c in _code_in(cc, codes.system("rxnorm"))]
        known = next((n for n in rx if n), None)
        from imnm.knowledge.lookups import medication_classes as _med_classes
        from imnm.knowledge.lookups import medication_matches

        classes = [c for c in _med_classes() if name and medication_matches(name, c)]
        if known and not classes:
            name = known if not name else f"{known} ({name})"
            classes = [c for c in _med_classes() if medication_matches(name, c)]
        if not name:
            self.report.add(ref, "not_mapped", "medication without a name or known code")
            return
        item: dict[str, Any] = {"name": name, "ref": ref}
        if kind == "MedicationRequest":
            start = _date(res.get("authoredOn"))
            period = (res.get("dispenseRequest") or {}).get("validityPeriod") or {}
            end = _date(period.get("end")) if action == "past" else None
            start = start or _date(period.get("start"))
            dosages = res.get("dosageInstruction") or []
        elif kind == "MedicationStatement":
            start = _effective(res, "effectiveDateTime", "effectivePeriod")
            p = res.get("effectivePeriod") or {}
            start = _date(p.get("start")) if p else start
            end = _date(p.get("end")) if p else None
            dosages = res.get("dosage") or []
        else:
            start = _effective(res, "effectiveDateTime", "effectivePeriod")
            p = res.get("effectivePeriod") or {}
            end = _date(p.get("end")) if p else start
            d = res.get("dosage")
            dosages = [{"doseAndRate": [{"doseQuantity": d["dose"]}]} if d and d.get("dose") else {}]
        note = ""
        if action == "current":
            if start:
                item["start"] = start
        elif action == "past":
            if end:
                item["stop"] = end
                if start:
                    item["start"] = start
            elif start:
                note = f"; {status} with no end date: dates left unknown"
        else:
            note = f"; status {status}: dates left unknown"
        self._dose(item, dosages)
        for ext in res.get("extension") or []:
            url = str(ext.get("url", ""))
            if url.startswith(self.cs + "#") and "valueDecimal" in ext:
                item[url.split("#", 1)[1]] = float(ext["valueDecimal"])
        if self._add_item("medications", item, ref, _models()["medications"], "medications"):
            label = ", ".join(classes) if classes else "no medication class of medications.yaml"
            self.report.add(ref, "mapped", f"{name} [{label}]{note}", "medications")
            if "statin" in classes:
                self.derived_statin.append(("current" if action == "current" else "past", start, end, ref))

    def _dose(self, item: dict[str, Any], dosages: list[dict[str, Any]]) -> None:
        if not dosages:
            return
        d = dosages[0]
        if d.get("text"):
            item["dose"] = str(d["text"])
        if d.get("route"):
            r = _cc_text(d["route"])
            if r:
                item["route"] = r
        dq = next((x.get("doseQuantity") for x in d.get("doseAndRate") or [] if x.get("doseQuantity")), None)
        if not dq or dq.get("value") is None:
            return
        unit = dq.get("code") or dq.get("unit")
        rep = (d.get("timing") or {}).get("repeat") or {}
        value = float(dq["value"])
        if unit == "g/kg":
            item["dose_g_per_kg"] = value
        elif unit == "mg" and rep.get("periodUnit") in ("d", "wk") and rep.get("period"):
            per = value * float(rep.get("frequency", 1)) / float(rep["period"])
            item["dose_mg_per_day" if rep["periodUnit"] == "d" else "dose_mg_per_week"] = per
        elif "dose" not in item:
            item["dose"] = f"{value:g} {unit or ''}".strip()

    def _MedicationStatement(self, res: dict[str, Any], ref: str) -> None:
        self._medication(res, ref, "MedicationStatement")

    def _MedicationRequest(self, res: dict[str, Any], ref: str) -> None:
        self._medication(res, ref, "MedicationRequest")

    def _MedicationAdministration(self, res: dict[str, Any], ref: str) -> None:
        self._medication(res, ref, "MedicationAdministration")

    @property
    def medications(self) -> dict[str, dict[str, Any]]:
        if not hasattr(self, "_meds"):
            self._meds = {
                f"Medication/{r.get('id')}": r
                for r in self.resources
                if r.get("resourceType") == "Medication"
            }
        return self._meds

    def _Medication(self, res: dict[str, Any], ref: str) -> None:
        self.report.add(ref, "note", "Medication: read through the orders that reference it")

    def _Immunization(self, res: dict[str, Any], ref: str) -> None:
        action = codes.statuses("immunization_status").get(str(res.get("status")))
        if action != "use":
            self.report.add(ref, "ignored", f"status {res.get('status')}")
            return
        name = _cc_text(res.get("vaccineCode"))
        if not name:
            self.report.add(ref, "not_mapped", "vaccine without a name")
            return
        item: dict[str, Any] = {"name": name, "ref": ref}
        d = _date(res.get("occurrenceDateTime"))
        if d:
            item["date"] = d
        if self._add_item("vaccinations", item, ref, _models()["vaccinations"], "vaccinations"):
            self.report.add(ref, "mapped", f"vaccination {name}", "vaccinations")

    def _procedure_like(self, res: dict[str, Any], ref: str, done: tuple[str, ...]) -> None:
        sct = _code_in(res.get("code"), codes.system("snomed"))
        section = next((codes.procedure_codes()[c] for c in sct if c in codes.procedure_codes()), None)
        if section is None:
            self.report.add(ref, "not_mapped", f"unknown code ({_cc_text(res.get('code')) or 'no text'})")
            return
        if res.get("status") not in done:
            self.report.add(ref, "ignored", f"{section}: status {res.get('status')}", section)
            return
        d = _effective(res, "performedDateTime", "performedPeriod", "effectiveDateTime", "effectivePeriod")
        item: dict[str, Any] = {"ref": ref}
        if d:
            item["date"] = d
        if section not in self.doc:
            self.doc[section] = item
        texts = [str(res["conclusion"])] if res.get("conclusion") else []
        texts += [str(n.get("text")) for n in res.get("note") or [] if n.get("text")]
        texts += [t for t in (_cc_text(cc) for cc in res.get("conclusionCode") or []) if t]
        self.report.add(ref, "mapped", f"{section} done" + (f" on {d}" if d else ""), section)
        if texts:
            self.report.add(
                ref,
                "note",
                f"{section} conclusion (free text, findings left unknown): {' | '.join(texts)}",
                section,
            )

    def _Procedure(self, res: dict[str, Any], ref: str) -> None:
        self._procedure_like(res, ref, ("completed",))

    def _DiagnosticReport(self, res: dict[str, Any], ref: str) -> None:
        self._procedure_like(res, ref, ("final", "amended", "corrected", "appended"))

    def _QuestionnaireResponse(self, res: dict[str, Any], ref: str) -> None:
        if res.get("questionnaire") != codes.project()["questionnaire"]:
            self.report.add(ref, "not_mapped", "a QuestionnaireResponse of another Questionnaire")
            return
        if res.get("status") not in ("completed", "amended"):
            self.report.add(ref, "ignored", f"status {res.get('status')}")
            return
        mapping = codes.screener_map()
        for it in res.get("item") or []:
            qid = it.get("linkId")
            ans = (it.get("answer") or [{}])[0]
            code = (ans.get("valueCoding") or {}).get("code")
            m = mapping.get(str(qid))
            if m is None:
                self.report.add(ref, "note", f"answer {qid}: no record field (screener only)")
                continue
            section, name = m["field"].split(".", 1)
            if code in (None, "dont_know"):
                continue
            if m["kind"] == "bool" and code in ("yes", "no"):
                self.doc.setdefault(section, {})[name] = code == "yes"
            elif m["kind"] == "exposure" and code in ("current", "past", "never"):
                self.doc.setdefault(section, {})[name] = {"status": code}
                self.explicit_exposures.add(name)
            else:
                self.report.add(ref, "not_mapped", f"answer {qid}: {code!r} not understood", m["field"])
                continue
            self.report.add(ref, "mapped", f"answer {qid} = {code}", m["field"])

    # -------------------------------------------------------------- finish

    def _finish(self) -> None:
        if "id" not in self.doc:
            self.doc["id"] = "fhir-import"
            self.report.add("Patient", "note", "no Patient resource: record id set to 'fhir-import'")
        for fld, values in self.conditions.items():
            section, name = fld.split(".", 1)
            truths = {v for v, _ in values}
            refs = ", ".join(r for _, r in values)
            if len(truths) > 1:
                for _, r in values:
                    self.report.add(
                        r, "not_mapped", f"{fld}: confirmed and refuted Conditions disagree ({refs})", fld
                    )
                continue
            value = truths.pop()
            self.doc.setdefault(section, {})[name] = value
            for _, r in values:
                self.report.add(r, "mapped", f"{fld} {value}", fld)
        for fld, (_d, vital, _ref) in self.vitals.items():
            self.doc[fld] = vital
            self.report.add(_ref, "mapped", f"{fld} {vital:g}", fld)
        if self.derived_statin and "statin" not in self.explicit_exposures:
            current = any(s == "current" for s, *_ in self.derived_statin)
            starts = sorted(s for _, s, _, _ in self.derived_statin if s)
            exp: dict[str, Any] = {"status": "current" if current else "past"}
            if starts:
                exp["start"] = starts[0]
            stops = [e for s, _, e, _ in self.derived_statin if s == "past"]
            if not current and stops and all(stops):
                exp["stop"] = max(e for e in stops if e)
            if self._check(exp, _models()["exposure"], self.derived_statin[0][3], "exposures.statin"):
                self.doc.setdefault("exposures", {})["statin"] = exp
                self.report.add(
                    ", ".join(r for *_, r in self.derived_statin),
                    "mapped",
                    f"statin exposure {exp['status']} from medication orders (an order is not proof of intake)",
                    "exposures.statin",
                )
        for section, items in self.sections.items():
            self.doc[section] = items
        for section in self.present:
            self.doc.setdefault(section, [])


def _models() -> dict[str, Any]:
    from imnm.record import model as m

    return {
        "labs": m.Lab,
        "antibodies": m.Antibody,
        "medications": m.Medication,
        "visits": m.Visit,
        "pulmonary_function": m.PulmonaryFunction,
        "cardiac": m.Cardiac,
        "infections": m.Infection,
        "vaccinations": m.Vaccination,
        "emg": m.Emg,
        "mri": m.Mri,
        "biopsy": m.Biopsy,
        "exposure": m.Exposure,
    }


def map_resources(resources: list[dict[str, Any]], *, source: str = "FHIR input") -> ImportResult:
    """Map FHIR resources of one patient to a record document and an import report."""
    return _Mapper(resources, source).run()
