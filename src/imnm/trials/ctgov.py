"""Import a ClinicalTrials.gov API v2 study record as a draft catalog file (pure functions).

`split_criteria(text)` splits the `eligibilityCriteria` Markdown into sections (cohort,
inclusion/exclusion) and items, handling the layouts in the research notes (trials.md §2.3):
`* ` / `-` / `•` bullets, numbered lists (`1.`, `(1)`, `①`), nested sub-items (kept with their
parent), "Key Inclusion Criteria:", lowercase headings, cohort headings above the
inclusion/exclusion blocks ("Adult Cohorts") or after a dash ("Inclusion criteria – IIM"),
free paragraphs, one criterion split across two bullets (rejoined) and two criteria merged in
one bullet (split where a new sentence starts without punctuation). Each item's text stays
verbatim; a `note` says when it was rejoined or split.

`draft_from_study(study, ...)` adds the structured fields (ages, sex, conditions, status,
phases), runs the recognizers (`imnm.trials.recognize`) and marks everything else
`manual_review`. `summary(trial)` counts encoded and manual-review criteria.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from imnm.errors import InputError, Problem
from imnm.trials.model import Status
from imnm.trials.recognize import recognize

Kind = Literal["inclusion", "exclusion"]

_HEADING = re.compile(
    r"^[#*\s]*(?:key\s+)?(inclusion|exclusion)\s+criteria\b\s*([-–—:]?)\s*(.*?)[*\s]*$", re.I
)
_BULLET = re.compile(r"^(\s*)(?:[*\-•⁃·]|\d{1,2}[.)]|\(\d{1,2}\)|[①-⑳]|[a-z][.)])\s+(.*)$")
_STARTERS = (
    "Development",
    "History",
    "Presence",
    "Known",
    "Current",
    "Prior",
    "Previous",
    "Participants",
    "Patients",
    "Subjects",
    "Diagnosis",
    "Evidence",
    "Use",
)
_MERGED = re.compile(r"(?<=[a-z0-9)]) (?=(?:" + "|".join(_STARTERS) + r") [a-z])")


@dataclass
class Item:
    text: str
    indent: int = 0
    children: list[Item] = field(default_factory=list)
    note: str | None = None

    def full_text(self) -> str:
        if not self.children:
            return self.text
        return self.text + "".join(f"\n  * {c.full_text()}" for c in self.children)


@dataclass
class Section:
    kind: Kind | None
    cohort: str | None
    items: list[Item] = field(default_factory=list)
    lead: str | None = None  # free text before the first heading


def _unbalanced(text: str) -> bool:
    """An open parenthesis or quotation left open: the criterion continues in the next bullet."""
    opened = len(re.findall(r"(?:^|[\s(])['‘“\"]\w", text))
    closed = len(re.findall(r"\w[.!?]?['’”\"](?=$|[\s.,;:)])", text))
    return text.count("(") > text.count(")") or opened > closed


def _is_cohort_heading(line: str, following: list[str]) -> bool:
    """A short line without a bullet that is directly followed by an inclusion/exclusion heading."""
    nxt = next((f for f in following if f.strip()), "")
    return bool(_HEADING.match(nxt)) and not _BULLET.match(line) and len(line) < 200


def split_criteria(text: str) -> list[Section]:
    """Split eligibility text into sections and (nested) items; see the module docstring."""
    lines = text.replace("\r\n", "\n").replace("\\>", ">").replace("\\<", "<").split("\n")
    sections: list[Section] = []
    cur: Section | None = None
    cohort: str | None = None
    last_top: Item | None = None
    group: Item | None = None
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        line = raw.rstrip()
        h = _HEADING.match(line)
        if h:
            kind: Kind = "inclusion" if h.group(1).lower() == "inclusion" else "exclusion"
            sep, rest = h.group(2), h.group(3).strip()
            sub = cohort
            if rest and sep in "-–—" and sep:
                sub, rest = rest.rstrip(":"), ""
            cur = Section(kind, sub)
            sections.append(cur)
            last_top, group = None, None
            if rest:
                cur.items.append(Item(rest))
                last_top = cur.items[-1]
            continue
        if _is_cohort_heading(line.strip(), lines[i + 1 :]):
            cohort = line.strip().strip("*#: ")
            continue
        if cur is None:
            cur = Section(None, cohort)
            sections.append(cur)
        b = _BULLET.match(line)
        if b:
            indent, body = len(b.group(1).expandtabs(4)), b.group(2).strip()
            item = Item(body, indent)
            if last_top is not None and indent > last_top.indent:
                last_top.children.append(item)
                continue
            if group is not None and indent >= group.indent:
                group.children.append(item)
                if indent == group.indent:
                    group.note = (
                        "sub-items grouped under the line ending in ':'; they are not indented, "
                        "so where the group ends is a guess"
                    )
                continue
            if last_top is not None and _unbalanced(last_top.text):
                last_top.text = f"{last_top.text} {body}"
                last_top.note = "rejoined: the registry split this criterion across two bullets"
                continue
            cur.items.append(item)
            last_top = item
            continue
        body = line.strip()
        if body.endswith(":"):
            group = Item(body, len(line) - len(line.lstrip()))
            cur.items.append(group)
            last_top = None
            continue
        if last_top is not None and _unbalanced(last_top.text):
            last_top.text = f"{last_top.text} {body}"
            continue
        item = Item(body, len(line) - len(line.lstrip()))
        cur.items.append(item)
        last_top, group = item, None
    for s in sections:
        s.items = [piece for it in s.items for piece in _split_merged(it)]
    return sections


def _split_merged(item: Item) -> list[Item]:
    if item.children:
        return [item]
    parts = _MERGED.split(item.text)
    if len(parts) == 1:
        return [item]
    note = "split: the registry merged two criteria in one bullet"
    return [Item(p.strip(), item.indent, note=note) for p in parts]


# ------------------------------------------------------------------ study record


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


MAX_AGE_YEARS = 150
"""A structured age limit above this is not an age (documented limit): it goes to manual review."""

# The fields of a v2 study record the importer reads, with their JSON types (API v2 layout).
_LAYOUT: tuple[tuple[str, type], ...] = (
    ("protocolSection", dict),
    ("protocolSection.identificationModule", dict),
    ("protocolSection.identificationModule.nctId", str),
    ("protocolSection.identificationModule.acronym", str),
    ("protocolSection.identificationModule.briefTitle", str),
    ("protocolSection.identificationModule.officialTitle", str),
    ("protocolSection.statusModule", dict),
    ("protocolSection.statusModule.overallStatus", str),
    ("protocolSection.statusModule.lastUpdatePostDateStruct", dict),
    ("protocolSection.statusModule.lastUpdatePostDateStruct.date", str),
    ("protocolSection.statusModule.whyStopped", str),
    ("protocolSection.statusModule.startDateStruct", dict),
    ("protocolSection.statusModule.startDateStruct.date", str),
    ("protocolSection.statusModule.primaryCompletionDateStruct", dict),
    ("protocolSection.statusModule.primaryCompletionDateStruct.date", str),
    ("protocolSection.statusModule.completionDateStruct", dict),
    ("protocolSection.statusModule.completionDateStruct.date", str),
    ("protocolSection.statusModule.studyFirstPostDateStruct", dict),
    ("protocolSection.statusModule.studyFirstPostDateStruct.date", str),
    ("protocolSection.eligibilityModule", dict),
    ("protocolSection.eligibilityModule.eligibilityCriteria", str),
    ("protocolSection.eligibilityModule.minimumAge", str),
    ("protocolSection.eligibilityModule.maximumAge", str),
    ("protocolSection.eligibilityModule.sex", str),
    ("protocolSection.conditionsModule", dict),
    ("protocolSection.conditionsModule.conditions", list),
    ("protocolSection.designModule", dict),
    ("protocolSection.designModule.phases", list),
    ("protocolSection.designModule.studyType", str),
    ("protocolSection.contactsLocationsModule", dict),
    ("protocolSection.contactsLocationsModule.locations", list),
    ("protocolSection.contactsLocationsModule.centralContacts", list),
    ("protocolSection.contactsLocationsModule.overallOfficials", list),
    ("protocolSection.sponsorCollaboratorsModule", dict),
    ("protocolSection.sponsorCollaboratorsModule.leadSponsor", dict),
    ("protocolSection.sponsorCollaboratorsModule.leadSponsor.name", str),
    ("derivedSection", dict),
    ("derivedSection.miscInfoModule", dict),
    ("derivedSection.miscInfoModule.versionHolder", str),
)
_LIST_OF_TEXT = ("protocolSection.conditionsModule.conditions", "protocolSection.designModule.phases")
_LIST_OF_OBJECTS = (
    "protocolSection.contactsLocationsModule.locations",
    "protocolSection.contactsLocationsModule.centralContacts",
    "protocolSection.contactsLocationsModule.overallOfficials",
)
_KIND: dict[type, str] = {dict: "an object ({...})", list: "a list ([...])", str: "text"}


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    for tp, name in _KIND.items():
        if isinstance(value, tp):
            return name
    return type(value).__name__


def check_study(study: object, *, file: str | None = None) -> list[Problem]:
    """Problems with the shape of a v2 study record: every field the importer reads has its v2 type.

    A missing field or `null` is "not given" (the draft says so); a field of the wrong type is an
    error naming it, so a malformed record never produces a half-read draft."""
    fix = "save the record again from https://clinicaltrials.gov/api/v2/studies/{nctId} (API v2 JSON)"
    if not isinstance(study, dict):
        return [Problem("", f"a study record is an object, got {_json_kind(study)}", fix, file=file)]
    problems: list[Problem] = []
    broken: set[str] = set()
    for path, tp in _LAYOUT:
        parent = path.rpartition(".")[0]
        if parent in broken or any(parent.startswith(b + ".") for b in broken):
            continue
        value = _get(study, *path.split("."))
        if value is None:
            continue
        if not isinstance(value, tp):
            broken.add(path)
            problems.append(
                Problem(
                    path,
                    f"expected {_KIND[tp]}, got {_json_kind(value)}",
                    fix,
                    value=_short(value),
                    file=file,
                )
            )
            continue
        if path in _LIST_OF_TEXT and isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    problems.append(
                        Problem(
                            f"{path}[{i}]", f"expected text, got {_json_kind(item)}", fix, _short(item), file
                        )
                    )
        if path in _LIST_OF_OBJECTS and isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    problems.append(
                        Problem(
                            f"{path}[{i}]",
                            f"expected an object ({{...}}), got {_json_kind(item)}",
                            fix,
                            _short(item),
                            file,
                        )
                    )
                    continue
                for key, sub in item.items():
                    if sub is not None and not isinstance(sub, str | dict | list | int | float):
                        problems.append(
                            Problem(f"{path}[{i}].{key}", "unexpected value", fix, _short(sub), file)
                        )
    return problems


def _short(value: object) -> object:
    text = repr(value)
    return value if isinstance(value, str | int | float | bool) and len(text) < 80 else text[:77] + "..."


def _age_value(text: str | None) -> tuple[float, str] | None:
    if not text:
        return None
    m = re.match(r"^\s*(\d{1,6}(?:\.\d+)?)\s*(Years?|Months?|Weeks?|Days?)\s*$", text, re.I)
    if not m:
        return None
    n, unit = float(m.group(1)), m.group(2).lower()
    if unit.startswith("year"):
        return n, "years"
    if unit.startswith("month"):
        return n / 12, "years"
    if unit.startswith("week"):
        return n / 52.1775, "years"  # 365.2425 / 7
    return n / 365.2425, "years"


def structured_criteria(elig: dict[str, Any]) -> list[dict[str, Any]]:
    """Criteria from the structured fields: minimumAge, maximumAge, sex."""
    out: list[dict[str, Any]] = []
    lo, hi = _age_value(elig.get("minimumAge")), _age_value(elig.get("maximumAge"))
    odd = [
        f"{label} {elig[key]}"
        for key, label, v in (("minimumAge", "Minimum age", lo), ("maximumAge", "Maximum age", hi))
        if elig.get(key) and (v is None or v[0] > MAX_AGE_YEARS)
    ]
    if odd:
        out.append(
            {
                "id": "age-unread",
                "structured": True,
                "text": "; ".join(odd) + " (registry structured fields)",
                "manual_review": True,
                "reason": f"not an age (a number of years, months, weeks or days up to {MAX_AGE_YEARS} years); "
                "check the registry record",
            }
        )
    lo = lo if lo and lo[0] <= MAX_AGE_YEARS else None
    hi = hi if hi and hi[0] <= MAX_AGE_YEARS else None
    parts = []
    texts = []
    if lo:
        parts.append({"compare": {"fact": "age", "op": ">=", "value": _n(lo[0]), "unit": "years"}})
        texts.append(f"Minimum age {elig['minimumAge']}")
    if hi:
        parts.append({"compare": {"fact": "age", "op": "<=", "value": _n(hi[0]), "unit": "years"}})
        texts.append(f"maximum age {elig['maximumAge']}")
    if parts:
        out.append(
            {
                "id": "age",
                "structured": True,
                "text": "; ".join(texts) + " (registry structured fields)",
                "rule": parts[0] if len(parts) == 1 else {"all": parts},
            }
        )
    sex = elig.get("sex")
    if sex in ("FEMALE", "MALE"):
        out.append(
            {
                "id": "sex",
                "structured": True,
                "text": f"Sex: {sex} (registry structured field)",
                "rule": {"compare": {"fact": "sex", "op": "==", "value": sex.lower()}},
            }
        )
    return out


def _n(v: float) -> float | int:
    return int(v) if v == int(v) else round(v, 3)


def _criterion(cid: str, text: str, kind: Kind, note: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": cid, "text": text}
    found = recognize(text, kind)
    if found is not None:
        out["rule"] = found.rule
        if found.assumptions:
            out["assumptions"] = found.assumptions
        out["recognized_by"] = found.pattern
    else:
        out["manual_review"] = True
        out["reason"] = "no recognizer matched this wording; a person must encode or judge it"
    if note:
        out["note"] = note
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:24] or "cohort"


def draft_from_study(study: dict[str, Any], *, file: str, imported_on: str) -> dict[str, Any]:
    """A draft catalog file (plain data, validated by `imnm.trials.load.parse_trial`).

    Raises `InputError` when the record does not have the v2 layout (`check_study`)."""
    problems = check_study(study, file=file)
    if problems:
        raise InputError(problems, what=file)
    proto = _get(study, "protocolSection") or {}
    ident = proto.get("identificationModule") or {}
    status = proto.get("statusModule") or {}
    elig = proto.get("eligibilityModule") or {}
    nct = ident.get("nctId") or "UNKNOWN"
    version = _get(study, "derivedSection", "miscInfoModule", "versionHolder")
    updated = _get(status, "lastUpdatePostDateStruct", "date")
    version_text = (
        f"API v2 versionHolder {version}"
        if version
        else (
            f"lastUpdatePostDate {updated}" if updated else f"no version in the file; imported {imported_on}"
        )
    )
    conditions = list(_get(proto, "conditionsModule", "conditions") or [])
    imnm_named = any(re.search(r"necroti[sz]ing", c, re.I) for c in conditions)
    shared: dict[Kind, list[dict[str, Any]]] = {"inclusion": structured_criteria(elig), "exclusion": []}
    cohorts: dict[str, dict[str, Any]] = {}
    counters: dict[str, int] = {}
    for sec in split_criteria(elig.get("eligibilityCriteria") or ""):
        kind: Kind = sec.kind or "inclusion"
        if sec.cohort:
            cid = _slug(sec.cohort)
            target = cohorts.setdefault(
                cid, {"id": cid, "label": sec.cohort, "inclusion": [], "exclusion": []}
            )
            bucket = target[kind]
            prefix = f"{cid}-{'inc' if kind == 'inclusion' else 'exc'}"
        else:
            bucket = shared[kind]
            prefix = "inc" if kind == "inclusion" else "exc"
        for it in sec.items:
            counters[prefix] = counters.get(prefix, 0) + 1
            crit = _criterion(f"{prefix}-{counters[prefix]}", it.full_text(), kind, it.note)
            if sec.kind is None:
                crit["note"] = (
                    (crit.get("note") or "") + " no inclusion/exclusion heading; read as inclusion"
                ).strip()
            bucket.append(crit)
    url = f"https://clinicaltrials.gov/study/{nct}"
    allowed = set(get_args(Status)) - {"UNKNOWN"}
    overall = status.get("overallStatus")
    facts = registry_facts(study)
    from imnm.trials.drift import registry_text_sha256

    record_date = facts["last_update_posted"] or facts["version_holder"]
    from_api = file.startswith(("http://", "https://"))
    out: dict[str, Any] = {
        "id": nct,
        "acronym": ident.get("acronym"),
        "title": ident.get("briefTitle") or nct,
        "official_title": ident.get("officialTitle"),
        "phases": list(_get(proto, "designModule", "phases") or []),
        "sponsor": _get(proto, "sponsorCollaboratorsModule", "leadSponsor", "name"),
        "status": overall if overall in allowed else "UNKNOWN",
        "status_note": f"overallStatus {overall!r} in {file}" if overall else None,
        "status_as_of": {
            "date": record_date,
            "source": "registry record" if from_api else f"registry record saved as {file}",
            "kind": "registry" if from_api else "file",
            "url": url,
        },
        "why_stopped": facts["why_stopped"],
        "dates": facts["dates"] or None,
        "conditions": conditions,
        "minimum_age": elig.get("minimumAge"),
        "maximum_age": elig.get("maximumAge"),
        "sex": elig.get("sex") if elig.get("sex") in ("ALL", "FEMALE", "MALE") else None,
        "imnm": "unreviewed",
        "draft": True,
        "source": {
            "registry_urls": [url],
            "version": version_text,
            "mark": "⚠️",
            "reference": f"imported by `imnm trials import` from {file} on {imported_on}; not reviewed",
            "completeness": "complete",
            "note": "Draft: every criterion needs a person to check the rule against the text"
            + ("; the conditions name IMNM" if imnm_named else ""),
        },
        "encoded_from": {
            "basis": "registry_record",
            "text_sha256": registry_text_sha256(facts["eligibility_text"]),
            "registry_version": facts["version_holder"],
            "registry_last_update": facts["last_update_posted"],
            "text_date": record_date,
            "text_source": f"ClinicalTrials.gov API v2 record ({file})",
            "encoded_by": "imnm trials import (the importer's recognizers; not checked by a person)",
            "encoded_on": imported_on,
            "reviewed_by": None,
            "reviewed_on": None,
        },
        "sites": facts["sites"] or None,
        "contacts": facts["contacts"] or None,
        "inclusion": shared["inclusion"],
        "exclusion": shared["exclusion"],
        "cohorts": list(cohorts.values()),
    }
    return {k: v for k, v in out.items() if v is not None}


CATALOG_STATUSES = frozenset(get_args(Status)) - {"UNKNOWN"}
_DATE_KEYS = (
    ("start", "startDateStruct"),
    ("primary_completion", "primaryCompletionDateStruct"),
    ("completion", "completionDateStruct"),
    ("first_posted", "studyFirstPostDateStruct"),
    ("last_update_posted", "lastUpdatePostDateStruct"),
)
_PARTIAL = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def _text(v: object) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() else None


def _contact(c: dict[str, Any]) -> dict[str, Any]:
    out = {k: _text(c.get(k)) for k in ("name", "role", "affiliation", "phone", "email")}
    return {k: v for k, v in out.items() if v is not None}


def registry_facts(study: dict[str, Any]) -> dict[str, Any]:
    """The registry facts a catalog entry keeps current, as catalog data (plain, for the schema):
    status (an overallStatus outside the catalog's statuses is UNKNOWN, with the value in
    `registry_status`), why stopped, dates, sites (locations) and contacts (central contacts and
    overall officials), the record version (`versionHolder`, `lastUpdatePostDate`) and the text."""
    proto = study.get("protocolSection") or {}
    status = proto.get("statusModule") or {}
    contacts_mod = proto.get("contactsLocationsModule") or {}
    overall = _text(status.get("overallStatus"))
    dates: dict[str, Any] = {}
    for key, field_ in _DATE_KEYS:
        struct = status.get(field_) or {}
        day = _text(struct.get("date"))
        if day and _PARTIAL.match(day):
            entry: dict[str, Any] = {"date": day}
            if struct.get("type") in ("ACTUAL", "ESTIMATED"):
                entry["type"] = struct["type"]
            dates[key] = entry
    sites = []
    for loc in contacts_mod.get("locations") or []:
        fields = {k: _text(loc.get(k)) for k in ("facility", "city", "state", "country", "status")}
        site: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
        people = [_contact(c) for c in loc.get("contacts") or [] if isinstance(c, dict)]
        people = [p for p in people if p]
        if people:
            site["contacts"] = people
        if any(site.get(k) for k in ("facility", "city", "country")):
            sites.append(site)
    contacts = [
        _contact(c)
        for key in ("centralContacts", "overallOfficials")
        for c in contacts_mod.get(key) or []
        if isinstance(c, dict)
    ]
    updated = _text((status.get("lastUpdatePostDateStruct") or {}).get("date"))
    version = _text(_get(study, "derivedSection", "miscInfoModule", "versionHolder"))
    return {
        "status": overall if overall in CATALOG_STATUSES else "UNKNOWN",
        "registry_status": overall,
        "why_stopped": _text(status.get("whyStopped")),
        "dates": dates,
        "sites": sites,
        "contacts": [c for c in contacts if c],
        "last_update_posted": updated if updated and _PARTIAL.match(updated) else None,
        "version_holder": version if version and _PARTIAL.match(version) else None,
        "eligibility_text": (proto.get("eligibilityModule") or {}).get("eligibilityCriteria") or "",
        "study_type": _text((proto.get("designModule") or {}).get("studyType")),
    }


def summary(draft: dict[str, Any]) -> dict[str, Any]:
    """How many criteria were encoded by a recognizer and how many need manual review."""
    crits = [*draft.get("inclusion", []), *draft.get("exclusion", [])]
    for c in draft.get("cohorts", []):
        crits += [*c["inclusion"], *c["exclusion"]]
    encoded = [c for c in crits if "rule" in c]
    return {
        "id": draft.get("id"),
        "criteria": len(crits),
        "encoded": len(encoded),
        "manual_review": len(crits) - len(encoded),
        "structured": sum(1 for c in crits if c.get("structured")),
        "patterns": sorted({c["recognized_by"] for c in encoded if "recognized_by" in c}),
        "cohorts": [c["id"] for c in draft.get("cohorts", [])],
    }
