"""Recognizers: common criterion wordings turned into rules (pure functions, no I/O).

`recognize(text, kind)` returns a `Recognized` rule (plain data in the rule language, with the
assumptions it makes) or `None` when no pattern fits; the importer then marks the criterion
for manual review. Recognizers are deliberately narrow: a text that mentions anything they do
not understand (other antibodies, "unless", "except") is left to a person.

Patterns: age limits ("≥18 years", "18–75 y", "age 25–72"); body weight and BMI; CK > N U/L or
> N × ULN; any muscle enzyme > N × ULN; anti-HMGCR / anti-SRP positive ("anti-HMGCR or anti-SRP
antibodies", "patients with IMNM who are positive for SRP or HMGCR antibodies"); "DM or ASyS";
MMT-8 thresholds with their stated scale (0–80, 0–150, 0–160; no scale → not recognized); MRC
"≤ grade 4 out of 5" proximal weakness; "muscle weakness"; a clinical diagnosis of IMNM; 2017
EULAR/ACR probable or definite IIM (with DM / PM subgroups) and its score thresholds; IBM or a
non-IIM myositis as exclusions; a history of a dermatomyositis rash; disease duration; stable or
changed glucocorticoid / immunosuppressant / DMARD / hydroxychloroquine doses ("stable
prednisone dose for N weeks", "stable IS ≥8 weeks", background therapy at a stable dose);
glucocorticoid dose limits in mg/day; washout windows for statins, IVIG, rituximab, plasma
exchange, cyclophosphamide, biologics, immunosuppressants and CAR T cells; pregnancy or
breastfeeding; history of meningococcal disease; meningococcal vaccination; organ transplant;
recent or active systemic infection and IV antibiotics; FVC / DLCO limits.

A criterion of several sentences is recognized when every sentence is (all of them for an
inclusion, any of them for an exclusion). A text whose end was elided ("[...]") keeps an
unknown part for the missing words. Numbers above `MAX_NUMBER` and windows longer than the rule
language allows (`imnm.core.rules.MAX_DURATION`) are not recognized: a person must look at them.
Texts that say they are summaries or cut off are left to a person.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from imnm.core.rules import duration_problem

Kind = Literal["inclusion", "exclusion"]
Rule = dict[str, Any]

SCREENING_WINDOW = "screening"  # token: the loader puts in the configured window (default 30d)
STUDY_WINDOW = "8w"
SCREENING_NOTE = (
    "⚠️ 'At Screening' means the latest result dated within the screening window before the evaluation "
    "date (30 days unless set with --screening-window; the registry does not state a window)."
)
ANTICIPATED_NOTE = (
    "⚠️ 'Anticipated during the study' is read from medicines recorded with dates in the 8 weeks "
    "after the evaluation date; plans not written in the record cannot be seen."
)


@dataclass(frozen=True)
class Recognized:
    rule: Rule
    pattern: str
    assumptions: list[str] = field(default_factory=list)


_OPS = {"≥": ">=", ">=": ">=", ">": ">", "≤": "<=", "<=": "<=", "<": "<", "=>": ">=", "=<": "<="}
_OP = r"(≥|>=|=>|>|≤|<=|=<|<)"
_NUM = r"(\d[\d,]*(?:\.\d+)?)"
_UNIT_DAYS = {
    "day": "d",
    "days": "d",
    "week": "w",
    "weeks": "w",
    "month": "mo",
    "months": "mo",
    "year": "y",
    "years": "y",
}
_UNLESS = re.compile(r"\b(unless|except|other than|excluding)\b", re.I)


MAX_NUMBER = 1e9
"""Largest number a recognizer turns into a rule (documented limit; no criterion threshold is near it)."""


class _Unusable(Exception):
    """A number or window a rule cannot hold: the criterion goes to manual review."""


def _num(s: str) -> float:
    digits = s.replace(",", "")
    if len(digits.split(".")[0]) > 12:
        raise _Unusable(s)
    value = float(digits)
    if not math.isfinite(value) or value > MAX_NUMBER:
        raise _Unusable(s)
    return value


def _n(value: float) -> float | int:
    return int(value) if value == int(value) else value


def _duration(n: str, unit: str) -> str:
    out = f"{int(_num(n))}{_UNIT_DAYS[unit.lower()]}"
    if duration_problem(out):
        raise _Unusable(out)
    return out


def clean(text: str) -> str:
    """Text for matching: footnote digits glued after punctuation removed, spaces collapsed."""
    text = re.sub(r"(?<=[^\d\s][;,.])\d+(?:,\d+)*(?=\s|$)", "", text)  # not decimals: 1.5 stays
    return re.sub(r"\s+", " ", text).strip()


# ------------------------------------------------------------------ age


_AGE_RANGE = re.compile(r"(\d+)\s*(?:-|–|to)\s*(\d+)\s*(?:years|yrs|y)\b")


def _age(text: str, kind: Kind) -> Recognized | None:
    t = text.lower()
    ranged = _AGE_RANGE.search(t)
    if not re.search(r"\bage[ds]?\b|years old", t) and not (ranged and ranged.start() == 0):
        return None
    if re.search(
        r"onset|diagnos|duration|juvenile|jdm|child|parent|stage|weight|kg\b|bmi", t
    ) or _UNLESS.search(t):
        return None
    parts: list[Rule] = []
    m = ranged or re.search(r"\bage[ds]?\s*(?:of\s*)?(\d+)\s*(?:-|–|to)\s*(\d+)\b", t)
    if m:
        if kind == "exclusion":
            return None
        parts = [_cmp_age(">=", m.group(1)), _cmp_age("<=", m.group(2))]
    else:
        for op, num in re.findall(_OP + r"\s*(\d+)", t):
            parts.append(_cmp_age(_OPS[op], num))
        for word, num in re.findall(
            r"(less than|under|younger than|below|over|older than|above|more than|greater than)\s+(\d+)", t
        ):
            parts.append(
                _cmp_age("<" if word in ("less than", "under", "younger than", "below") else ">", num)
            )
    if not parts or len(parts) > 2:
        return None
    if len(parts) == 1:
        return Recognized(parts[0], "age")
    return Recognized({"all" if kind == "inclusion" else "any": parts}, "age")


def _cmp_age(op: str, n: str) -> Rule:
    return {"compare": {"fact": "age", "op": op, "value": _n(_num(n)), "unit": "years"}}


# ------------------------------------------------------------------ CK


def _ck(text: str, kind: Kind) -> Recognized | None:
    if not re.search(r"creatine kinase|\bCK\b|\bCPK\b", text, re.I):
        return None
    if re.search(r"aldolase|\bAST\b|\bALT\b|\bLDH\b|lactate|OR\b|\bor\b", text):
        return None
    window = {"before": SCREENING_WINDOW}
    m = re.search(
        _OP + r"\s*" + _NUM + r"\s*(?:x|×|times)\s*(?:the\s+)?(?:upper limit of normal|ULN)", text, re.I
    )
    if m:
        rule = {
            "compare": {
                "fact": "lab.ck.fold",
                "op": _OPS[m.group(1)],
                "value": _n(_num(m.group(2))),
                "unit": "xULN",
                "select": "latest",
                "window": window,
            }
        }
        return Recognized(rule, "ck_fold", [SCREENING_NOTE, "A fold over the reporting lab's own ULN."])
    m = re.search(_OP + r"\s*" + _NUM + r"\s*(U/L|IU/L)", text, re.I)
    if m:
        rule = {
            "compare": {
                "fact": "lab.ck",
                "op": _OPS[m.group(1)],
                "value": _n(_num(m.group(2))),
                "unit": "U/L",
                "select": "latest",
                "window": window,
            }
        }
        return Recognized(rule, "ck_absolute", [SCREENING_NOTE])
    return None


def _enzyme(text: str, kind: Kind) -> Recognized | None:
    t = clean(text)
    if not re.fullmatch(
        r"(?:any |at least one )?(?:muscle )?enzymes?\s*(?:level\s*)?"
        + _OP
        + r"\s*"
        + _NUM
        + r"\s*(?:x|×|times)\s*(?:the\s+)?(?:upper limit of normal|ULN)(?:\s+at screening)?\.?",
        t,
        re.I,
    ):
        return None
    m = re.search(_OP + r"\s*" + _NUM, t)
    assert m
    rule = {
        "compare": {
            "fact": "lab.muscle_enzyme.fold",
            "op": _OPS[m.group(1)],
            "value": _n(_num(m.group(2))),
            "unit": "xULN",
            "select": "any",
            "window": {"before": SCREENING_WINDOW},
        }
    }
    note = "⚠️ A muscle enzyme is any of CK, aldolase, AST, ALT or LDH, each over its lab's own ULN."
    return Recognized(rule, "enzyme_fold", [SCREENING_NOTE, note])


# ------------------------------------------------------------------ antibodies

_OTHER_AB = re.compile(
    r"Mi-?2|TIF1|NXP|MDA-?5|SAE|Jo-?1|PL-?7|PL-?12|\bOJ\b|\bEJ\b|myositis-specific|MSA|synthetase", re.I
)


_IMNM = re.compile(r"immune[- ]mediated necroti[sz]ing my(?:opathy|ositis)|\bIMNM\b", re.I)
_ENMC_NOTE = "⚠️ IMNM is read as meeting the 224th ENMC IMNM classification (enmc.imnm)."


def _positive(target: str) -> Rule:
    return {"compare": {"fact": f"antibody.{target}", "op": "==", "value": "positive", "select": "any"}}


def _antibody(text: str, kind: Kind) -> Recognized | None:
    stated = re.search(r"positiv|seropositive", text, re.I)
    named = kind == "inclusion" and re.search(r"\bantibod|autoantibod", text, re.I)
    if _OTHER_AB.search(text) or not (stated or named):
        return None
    if re.search(r"\bwho\b", text, re.I) and not _IMNM.search(text):
        return None
    targets = []
    if re.search(r"HMGCR|HMGCoR|3-hydroxy-3-methyl", text, re.I):
        targets.append("HMGCR")
    if re.search(r"\bSRP\b|signal recognition particle", text, re.I):
        targets.append("SRP")
    if not targets or re.search(r"\bnegativ|duration|month|week|year", text, re.I):
        return None
    nodes: list[Rule] = [_positive(t) for t in targets]
    rule: Rule = nodes[0] if len(nodes) == 1 else {"any": nodes}
    if _IMNM.search(text) and re.search(r"\bwho\b|\bwith\b", text, re.I):
        imnm: Rule = {"is_true": "enmc.imnm", "label": "IMNM by the 224th ENMC criteria"}
        return Recognized({"all": [rule, imnm]}, "antibody", [_ENMC_NOTE])
    return Recognized(rule, "antibody")


_SYNTHETASE = ("Jo-1", "PL-7", "PL-12", "OJ", "EJ")


def _dm_or_asys(text: str, kind: Kind) -> Recognized | None:
    if kind != "inclusion" or not re.match(
        r"(?:DM|dermatomyositis) or (?:ASyS|anti-?synthetase)\b", clean(text), re.I
    ):
        return None
    either: Rule = {
        "any": [
            {"compare": {"fact": "eular_acr.subgroup", "op": "==", "value": "DM"}},
            *(_positive(t) for t in _SYNTHETASE),
        ]
    }
    rule = {"all": [either, {"not": {"is_true": "enmc.imnm", "label": "IMNM by the 224th ENMC criteria"}}]}
    note = (
        "⚠️ ASyS is read as a positive anti-synthetase antibody (Jo-1, PL-7, PL-12, OJ, EJ) and DM as the "
        "2017 EULAR/ACR subgroup; IMNM (224th ENMC) is not DM or ASyS."
    )
    return Recognized(rule, "dm_or_asys", [note])


# ------------------------------------------------------------------ strength


def _mmt8(text: str, kind: Kind) -> Recognized | None:
    if not re.search(r"MMT-?8|manual muscle test", text, re.I):
        return None
    m = re.search(r"MMT-?8[^.;]*?" + _OP + r"\s*" + _NUM + r"\s*(?:/\s*(80|150|160)\b)?", text, re.I)
    scale_m = re.search(r"\(range 0\s*[-–]\s*(80|150|160)\)|out of (80|150|160)|/\s*(80|150|160)\b", text)
    if not m or not scale_m:
        return None
    if re.search(r"core set|CSM|CDASI|\bor\b", text, re.I):
        return None
    scale = next(g for g in scale_m.groups() if g)
    rule = {
        "compare": {
            "fact": f"visit.mmt8_{scale}",
            "op": _OPS[m.group(1)],
            "value": _n(_num(m.group(2))),
            "select": "latest",
            "window": {"before": SCREENING_WINDOW},
        }
    }
    return Recognized(rule, "mmt8", [f"MMT-8 on the 0–{scale} scale stated in the text.", SCREENING_NOTE])


def _mrc_grade(text: str, kind: Kind) -> Recognized | None:
    m = re.search(r"(≤|<=|<)\s*grade\s*(\d)\s*(?:out of|/)\s*5", text, re.I)
    if not m or "proximal" not in text.lower():
        return None
    mrc_to_kendall = {"4": 8, "3": 5}
    if m.group(2) not in mrc_to_kendall:
        return None
    op = "<=" if m.group(1) in ("≤", "<=") else "<"
    rule = {
        "compare": {
            "fact": "visit.mmt8_min_proximal_grade",
            "op": op,
            "value": mrc_to_kendall[m.group(2)],
            "window": {"before": SCREENING_WINDOW},
        }
    }
    note = (
        "⚠️ The registry does not name the 0–5 scale; it is read as MRC, and MRC grade 4 = Kendall 8 "
        "(clinical.md §4.1), so the lowest proximal limb group grade must be ≤ 8 on the Kendall 0–10 "
        "scale at a visit within the screening window."
    )
    return Recognized(rule, "mrc_grade", [note])


# ------------------------------------------------------------------ diagnosis


def _diagnosis(text: str, kind: Kind) -> Recognized | None:
    t = clean(text)
    if re.fullmatch(
        r"(?:clinical\s+)?(?:diagnosis of|presence of|diagnosed with)\s+"
        r"(?:IMNM|immune[- ]mediated necroti[sz]ing my(?:opathy|ositis))"
        r"(?:\s*\((?:IMNM|immune[- ]mediated necroti[sz]ing my(?:opathy|ositis))\))?\.?",
        t,
        re.I,
    ):
        note = "⚠️ A diagnosis of IMNM is read as meeting the 224th ENMC IMNM classification (enmc.imnm)."
        return Recognized(
            {"is_true": "enmc.imnm", "label": "IMNM by the 224th ENMC criteria"}, "diagnosis", [note]
        )
    return None


_EULAR = re.compile(r"EULAR|\bACR\b|European League|American College of Rheumatology", re.I)
_IIM = re.compile(r"idiopathic inflammatory myo|\bIIM\b", re.I)
_DM = re.compile(r"\bDM\b|dermatomyositis", re.I)
_PM = re.compile(r"\bPM\b|polymyositis", re.I)
_CATEGORY: Rule = {"compare": {"fact": "eular_acr.category", "op": "in", "value": ["probable", "definite"]}}
_EULAR_NOTE = "⚠️ A probable or definite (clinical) diagnosis of IIM is read as the 2017 EULAR/ACR category."


def _eular_acr(text: str, kind: Kind) -> Recognized | None:
    t = clean(text)
    graded = re.search(r"probable|definite", t, re.I)
    if kind != "inclusion" or not (_EULAR.search(t) or graded):
        return None
    if not (graded or re.search(r"classification criteria|clinical diagnosis", t, re.I)):
        return None
    if re.search(
        r"prior to|weeks?\b|months?\b|positiv|allowed|\bwith\b|\bage\b|MMT|CSM|onset|\bscore", t, re.I
    ):
        return None
    subgroups: list[str] = []
    if not _IIM.search(t) and "including" not in t.lower():
        subgroups = [g for g, pat in (("DM", _DM), ("PM", _PM)) if pat.search(t)]
    if not (_IIM.search(t) or subgroups):
        return None
    if not subgroups:
        return Recognized(dict(_CATEGORY), "eular_acr", [_EULAR_NOTE])
    sub: Rule = {"compare": {"fact": "eular_acr.subgroup", "op": "==", "value": subgroups[0]}}
    if len(subgroups) > 1:
        sub = {"compare": {"fact": "eular_acr.subgroup", "op": "in", "value": subgroups}}
    parts = [dict(_CATEGORY), sub]
    notes = [_EULAR_NOTE + " DM and PM are its subgroups."]
    if subgroups == ["DM"]:
        parts.append({"not": {"is_true": "enmc.imnm", "label": "IMNM by the 224th ENMC criteria"}})
        notes.append("⚠️ A DM-only trial does not take IMNM (224th ENMC).")
    return Recognized({"all": parts}, "eular_acr", notes)


def _eular_acr_score(text: str, kind: Kind) -> Recognized | None:
    m = re.search(
        r"score of\s*(?:≥|>=)\s*(\d+(?:\.\d+)?)\s*\(\s*(?:≥|>=)\s*(\d+(?:\.\d+)?)\s*with (?:a )?(?:muscle )?biopsy\)",
        text,
        re.I,
    )
    if kind != "inclusion" or not m or not _EULAR.search(text):
        return None
    without, with_biopsy = _n(_num(m.group(1))), _n(_num(m.group(2)))
    done: Rule = {"is_true": "biopsy.performed"}
    rule = {
        "any": [
            {"all": [{"compare": {"fact": "eular_acr.score", "op": ">=", "value": without}}, {"not": done}]},
            {"all": [{"compare": {"fact": "eular_acr.score", "op": ">=", "value": with_biopsy}}, done]},
        ]
    }
    return Recognized(
        rule, "eular_acr_score", ["The score threshold without a biopsy, and the one with a biopsy."]
    )


def _excluded_diagnosis(text: str, kind: Kind) -> Recognized | None:
    if kind != "exclusion":
        return None
    t = clean(text)
    lead = r"(?:(?:existing|prior|previous|known|documented|current|a|participants with|patients with)\s+)*"
    lead += r"(?:diagnosis of\s+)?"
    if re.fullmatch(
        lead + r"(?:inclusion body myositis\s*(?:\(IBM\))?|IBM)\s*(?:\.\.\.|…)?\s*(?:(?:is\s+)?excluded)?\.?",
        t,
        re.I,
    ):
        return Recognized({"compare": {"fact": "eular_acr.subgroup", "op": "==", "value": "IBM"}}, "ibm")
    if re.fullmatch(
        r"myositis due to non[- ]?(?:idiopathic inflammatory myopath(?:y|ies)|IIM)\s*(?:\(non[- ]?IIM\))?\.?",
        t,
        re.I,
    ):
        note = "⚠️ A myositis that is not an IIM is read as the 2017 EULAR/ACR category not_iim."
        return Recognized(
            {"compare": {"fact": "eular_acr.category", "op": "==", "value": "not_iim"}}, "non_iim", [note]
        )
    return None


_PROXIMAL: Rule = {
    "any": [{"is_true": "findings.proximal_weakness_upper"}, {"is_true": "findings.proximal_weakness_lower"}]
}


def _weakness(text: str, kind: Kind) -> Recognized | None:
    if kind == "inclusion" and re.fullmatch(
        r"(?:presence of |clinical |objective )?(?:proximal )?muscle weakness\.?", clean(text), re.I
    ):
        note = "⚠️ Muscle weakness is read as objective proximal weakness on examination."
        return Recognized(dict(_PROXIMAL), "weakness", [note])
    return None


_DM_RASH: Rule = {
    "any": [
        {"is_true": "findings.heliotrope_rash"},
        {"is_true": "findings.gottron_papules"},
        {"is_true": "findings.gottron_sign"},
    ]
}


def _dm_rash(text: str, kind: Kind) -> Recognized | None:
    t = clean(text)
    note = "⚠️ A dermatomyositis rash is read as a heliotrope rash, Gottron papules or Gottron sign."
    rash = r"(?:dermatomyositis|DM)\s*(?:\(DM\)\s*)?(?:skin )?rash(?:es)?\.?"
    if kind == "inclusion" and re.fullmatch(r"no (?:history of |active )?(?:a )?" + rash, t, re.I):
        return Recognized({"not": dict(_DM_RASH)}, "dm_rash", [note])
    if kind == "exclusion" and re.fullmatch(
        r"(?:(?:a )?history of |active |current )?(?:a )?" + rash, t, re.I
    ):
        return Recognized(dict(_DM_RASH), "dm_rash", [note])
    return None


def _disease_duration(text: str, kind: Kind) -> Recognized | None:
    m = re.search(
        r"disease duration (?:of )?(under|less than|more than|over|at least|<|≤|>|≥|<=|>=)\s*(\d+)\s*(months?|years?)\b",
        clean(text),
        re.I,
    )
    if not m or _UNLESS.search(text):
        return None
    op = {"under": "<", "less than": "<", "more than": ">", "over": ">", "at least": ">="}.get(
        m.group(1).lower(), _OPS.get(m.group(1), "<")
    )
    months = _num(m.group(2)) * (12 if m.group(3).lower().startswith("year") else 1)
    note = "⚠️ Disease duration is counted from the first symptom (disease_duration_months)."
    rule = {"compare": {"fact": "disease_duration_months", "op": op, "value": _n(months), "unit": "months"}}
    return Recognized(rule, "disease_duration", [note])


def _body_size(text: str, kind: Kind) -> Recognized | None:
    t = clean(text)
    if re.search(r"body weight|\bweight\b", t, re.I):
        fact, unit, pat = "weight_kg", "kg", r"\s*kg\b"
    elif re.search(r"\bBMI\b|body[- ]mass index", t, re.I):
        fact, unit, pat = "bmi", "kg/m2", r"(?:\s*kg/m2|\s*kg/m²)?"
    else:
        return None
    if re.search(r"loss|gain|change|\bor\b|lost", t, re.I):
        return None
    m = re.search(r"(\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(?:≤|<=)?\s*(\d+(?:\.\d+)?)" + pat, t)
    if m:
        if kind == "exclusion":
            return None
        lo, hi = _n(_num(m.group(1))), _n(_num(m.group(2)))
        rule: Rule = {
            "all": [
                {"compare": {"fact": fact, "op": ">=", "value": lo, "unit": unit}},
                {"compare": {"fact": fact, "op": "<=", "value": hi, "unit": unit}},
            ]
        }
        return Recognized(rule, fact)
    found = re.findall(_OP + r"\s*" + _NUM + pat, t)
    if len(found) != 1:
        return None
    op, num = found[0]
    return Recognized({"compare": {"fact": fact, "op": _OPS[op], "value": _n(_num(num)), "unit": unit}}, fact)


def _lung_function(text: str, kind: Kind) -> Recognized | None:
    t = clean(text)
    found = re.findall(r"\b(FVC|DLCO)\s*(?:of\s*)?" + _OP + r"\s*" + _NUM + r"\s*%", t, re.I)
    rest = re.sub(r"\b(FVC|DLCO)\s*(?:of\s*)?" + _OP + r"\s*" + _NUM + r"\s*%", "", t, flags=re.I)
    if not found or re.search(r"[A-Za-z]{2,}", re.sub(r"\b(?:and|or|predicted)\b", "", rest)):
        return None
    nodes: list[Rule] = [
        {
            "compare": {
                "fact": f"pft.{name.lower()}_percent",
                "op": _OPS[op],
                "value": _n(_num(num)),
                "unit": "%",
            }
        }
        for name, op, num in found
    ]
    if len(nodes) == 1:
        return Recognized(nodes[0], "pulmonary_function")
    return Recognized({"any" if kind == "exclusion" else "all": nodes}, "pulmonary_function")


# ------------------------------------------------------------------ medicines

_DRUGS: tuple[tuple[str, str], ...] = (
    (r"\bstatins?\b", "statin"),
    (r"\bIVIG\b|intravenous immunoglobulin|immune globulin", "ivig"),
    (r"\brituximab\b", "rituximab"),
    (r"plasma exchange|plasmapheresis|\bPLEX\b", "plasma_exchange"),
    (r"\bcyclophosphamide\b", "cyclophosphamide"),
    (r"\bbiologic", "biologic"),
    (r"(?<!biologic )\bimmunosuppress(?:ant|ive)", "immunosuppressant"),
    (r"\bCAR[- ]?T\b", "car_t"),
    (r"hydroxychloroquine|\bHCQ\b", "hydroxychloroquine"),
)
_WINDOW = re.compile(
    r"(?:within|less than|<|in the (?:past|last))\s*(\d+)\s*(days?|weeks?|months?|years?)", re.I
)


def _med_classes(text: str) -> list[str]:
    return [cls for pat, cls in _DRUGS if re.search(pat, text, re.I)]


def _anticipated(text: str) -> bool:
    return bool(re.search(r"anticipated|expected|planned|during (?:the )?(?:study|treatment)", text, re.I))


def _washout(text: str, kind: Kind) -> Recognized | None:
    classes = _med_classes(text)
    if not classes or kind != "exclusion" or _UNLESS.search(text):
        return None
    if re.search(r"anaphyla|allerg|hypersensitiv|intoleran|refractory|inadequate", text, re.I):
        return None
    if re.search(r"dose|stable", text, re.I):
        return None
    m = _WINDOW.search(text)
    start = bool(re.search(r"initiation|first cycle|started|initiated", text, re.I))
    notes: list[str] = []
    window: dict[str, str] | None = None
    if m:
        window = {"before": _duration(m.group(1), m.group(2))}
    elif re.search(r"at screening|current", text, re.I):
        window = {"before": "0d"}
        notes.append("'At screening' is read as taking the medicine on the evaluation date.")
    elif not re.search(r"\bprior\b|\bprevious|\bever\b|history of", text, re.I):
        return None
    if window is not None and _anticipated(text):
        window["after"] = STUDY_WINDOW
        notes.append(ANTICIPATED_NOTE)
    nodes: list[Rule] = []
    for cls in classes:
        fact = f"medication.{cls}.start" if start and cls == "ivig" else f"medication.{cls}"
        ev: Rule = {"fact": fact}
        if window is not None:
            ev["window"] = dict(window)
        nodes.append({"event": ev})
        if cls == "statin":
            nodes.append({"event": dict(ev, fact="exposure.statin")})
    if start:
        notes.append("The start date of a recorded course is its first cycle.")
    return Recognized(nodes[0] if len(nodes) == 1 else {"any": nodes}, "washout", notes)


_STEROID = r"(?<!non-)(?<!non )\b(?:corticosteroid|glucocorticoid|steroid|prednisone|prednisolone|GC)\b"
_IS = r"immunosuppress|\bDMARD"
_HCQ = r"hydroxychloroquine|\bHCQ\b"


def _dose_stability(text: str, kind: Kind) -> Recognized | None:
    if _UNLESS.search(text) or re.search(r"maximum|mg|topical", text, re.I):
        return None
    steroid = re.search(_STEROID, text, re.I)
    immuno = re.search(_IS, text, re.I) or re.search(r"\bIS\b", text)
    hcq = re.search(_HCQ, text, re.I)
    if sum(bool(x) for x in (steroid, immuno, hcq)) != 1:
        return None
    if hcq:
        cls = "hydroxychloroquine"
    elif steroid:
        cls = "glucocorticoid"
    else:
        cls = "csdmard" if re.search("DMARD", text) else "immunosuppressant"
    m = re.search(r"(?:at least|for|<|less than|within|≥|>=)\s*(\d+)\s*(days?|weeks?|months?)", text, re.I)
    if not m or not re.search(r"\bchanges?\b|\bstable\b", text, re.I):
        return None
    window = {"before": _duration(m.group(1), m.group(2))}
    notes = []
    if _anticipated(text):
        window["after"] = STUDY_WINDOW
        notes.append(ANTICIPATED_NOTE)
    if cls == "immunosuppressant":
        notes.append(
            "⚠️ 'Immunosuppressive therapy' is the medications.yaml class immunosuppressant "
            "(conventional and biologic immunosuppressants; not glucocorticoids or IVIG)."
        )
    changed: Rule = {"event": {"fact": f"medication.{cls}.change", "window": window}}
    negated = re.search(r"\bno changes?\b|\bstable\b", text, re.I)
    if kind == "inclusion" and negated:
        if re.search(r"background|receiving|must be (?:on|taking)|therapy with", text, re.I):
            taking: Rule = {"event": {"fact": f"medication.{cls}", "window": {"before": "0d"}}}
            notes.append("Receiving it is read as taking it on the evaluation date.")
            return Recognized({"all": [taking, {"not": changed}]}, "dose_stability", notes)
        return Recognized({"not": changed}, "dose_stability", notes)
    if kind == "exclusion" and not negated:
        return Recognized(changed, "dose_change", notes)
    return None


def _steroid_dose(text: str, kind: Kind) -> Recognized | None:
    t = clean(text)
    if not re.search(_STEROID, t, re.I) or _UNLESS.search(t):
        return None
    if re.search(r"\bIS\b", t) or re.search(
        r"/\s*kg|immunosuppress|DMARD|\bchange|\bstable|\bor\b(?! corticosteroid equivalent)", t, re.I
    ):
        return None
    words = {"maximum dose allowed is": "<=", "at most": "<=", "no more than": "<=", "up to": "<="}
    words |= {"at least": ">=", "more than": ">", "greater than": ">", "less than": "<"}
    m = re.search(r"(" + "|".join(words) + r")\s*" + _NUM + r"\s*mg\b", t, re.I)
    op = words.get(m.group(1).lower()) if m else None
    if m is None:
        m = re.search(_OP + r"\s*" + _NUM + r"\s*mg\b", t)
        op = _OPS[m.group(1)] if m else None
    if m is None or op is None or len(re.findall(r"\d+(?:\.\d+)?\s*mg\b", t)) != 1:
        return None
    note = "⚠️ A glucocorticoid dose is read as the prednisone-equivalent dose in mg per day on the evaluation date."
    rule = {
        "compare": {
            "fact": "medication.glucocorticoid.dose",
            "op": op,
            "value": _n(_num(m.group(2))),
            "unit": "mg/day",
        }
    }
    return Recognized(rule, "steroid_dose", [note])


def _background(text: str, kind: Kind) -> Recognized | None:
    """'Must be receiving ... one or more immunosuppressants or at least 5 mg prednisone': any of the parts."""
    t = clean(text)
    m = re.search(r"\bmust be (?:receiving|on|taking)\b(.*)$", t, re.I)
    if kind != "inclusion" or not m or _UNLESS.search(t) or re.search(r"stable|change|\bdose\b", t, re.I):
        return None
    body = re.sub(r"\bone or more\b", "at least one", m.group(1), flags=re.I)
    pieces = [p for p in re.split(r"\bor\b(?! corticosteroid equivalent)", body) if p.strip()]
    nodes: list[Rule] = []
    notes: list[str] = ["Receiving it is read as taking it on the evaluation date."]
    for piece in pieces:
        dose = _steroid_dose(piece, kind)
        if dose is not None:
            nodes.append(dose.rule)
            notes += dose.assumptions
        elif re.search(r"immunosuppress", piece, re.I):
            nodes.append({"event": {"fact": "medication.immunosuppressant", "window": {"before": "0d"}}})
        elif re.search(_STEROID, piece, re.I) and not re.search(r"\d", piece):
            nodes.append({"event": {"fact": "medication.glucocorticoid", "window": {"before": "0d"}}})
        else:
            return None
    if not nodes:
        return None
    return Recognized(nodes[0] if len(nodes) == 1 else {"any": nodes}, "background_treatment", notes)


# ------------------------------------------------------------------ safety


def _pregnancy(text: str, kind: Kind) -> Recognized | None:
    if kind != "exclusion" or not re.search(r"pregnan|breast-?feeding|lactat", text, re.I):
        return None
    nodes: list[Rule] = [{"is_true": "history.pregnant"}]
    if re.search(r"breast-?feeding|lactat", text, re.I):
        nodes.append({"is_true": "history.breastfeeding"})
    if re.search(r"contracept|unwilling|plan", text, re.I):
        nodes.append({"const": "unknown", "label": "contraception plans (clinician to ask)"})
    rule: Rule = nodes[0] if len(nodes) == 1 else {"any": nodes}
    if re.match(r"(?:females?|women)\b", text, re.I):
        rule = {"all": [{"compare": {"fact": "sex", "op": "==", "value": "female"}}, rule]}
    return Recognized(rule, "pregnancy")


def _meningococcal(text: str, kind: Kind) -> Recognized | None:
    if kind == "exclusion" and re.fullmatch(
        r"(?:history of|prior) meningococcal (?:disease|infection)\.?", clean(text), re.I
    ):
        return Recognized({"is_true": "history.meningococcal_disease"}, "meningococcal")
    return None


def _vaccination(text: str, kind: Kind) -> Recognized | None:
    t = clean(text)
    m = re.match(
        r"meningococcal vaccinations?\s*(?:within|in the (?:past|last))\s*(\d+)\s*(days?|weeks?|months?|years?)\b",
        t,
        re.I,
    )
    if kind != "inclusion" or not m:
        return None
    notes = []
    if re.search(r"before (?:dosing|the first dose)", t, re.I):
        notes.append(
            "⚠️ Only the window before the evaluation date is checked; the gap before the first dose "
            "is for the trial team."
        )
    rule = {
        "event": {
            "fact": "vaccination.meningococcal",
            "window": {"before": _duration(m.group(1), m.group(2))},
        }
    }
    return Recognized(rule, "vaccination", notes)


def _transplant(text: str, kind: Kind) -> Recognized | None:
    t = clean(text)
    if kind != "exclusion" or not re.search(r"\btransplant", t, re.I) or _UNLESS.search(t):
        return None
    if not re.match(r"(?:prior|previous|history of|any)\b", t, re.I) or re.search(
        r"planned|anticipated|candidate", t, re.I
    ):
        return None
    notes = []
    if re.search(r"hematopoietic|haematopoietic|stem cell|bone marrow", t, re.I):
        notes.append(
            "⚠️ A haematopoietic cell transplant is counted with organ transplants (history.organ_transplant)."
        )
    return Recognized({"is_true": "history.organ_transplant"}, "transplant", notes)


def _infection(text: str, kind: Kind) -> Recognized | None:
    if kind != "exclusion" or "infection" not in text.lower() or _UNLESS.search(text):
        return None
    if re.search(r"opportunistic|chronic|hepatitis|HIV|tubercul|COVID|sepsis|cancer|;", text, re.I):
        return None
    if not _WINDOW.search(text) and re.fullmatch(
        r"(?:an? )?(?:clinically significant )?(?:current |active )+(?:systemic )?infection"
        r"(?: requiring (?:medical intervention|treatment))?(?: at screening)?\.?",
        clean(text),
        re.I,
    ):
        note = "⚠️ Any systemic infection still active on the evaluation date is counted as clinically significant."
        return Recognized(
            {"event": {"fact": "infection.systemic", "window": {"before": "0d"}}}, "infection", [note]
        )
    if re.search(r"medical intervention", text, re.I):
        return None
    nodes: list[Rule] = []
    for piece in re.split(r"\bor\b", text):
        m = _WINDOW.search(piece)
        if not m:
            continue
        window = {"before": _duration(m.group(1), m.group(2))}
        if re.search(r"intravenous|\bIV\b", piece):
            nodes.append({"event": {"fact": "infection.iv_antibiotics", "window": window}})
        elif re.search(r"infection", piece, re.I):
            nodes.append({"event": {"fact": "infection.systemic", "window": window}})
    if not nodes:
        return None
    return Recognized(nodes[0] if len(nodes) == 1 else {"any": nodes}, "infection")


RECOGNIZERS: tuple[Callable[[str, Kind], Recognized | None], ...] = (
    _meningococcal,
    _vaccination,
    _diagnosis,
    _eular_acr_score,
    _eular_acr,
    _excluded_diagnosis,
    _dm_or_asys,
    _antibody,
    _weakness,
    _dm_rash,
    _ck,
    _enzyme,
    _mmt8,
    _mrc_grade,
    _disease_duration,
    _dose_stability,
    _steroid_dose,
    _background,
    _infection,
    _pregnancy,
    _transplant,
    _lung_function,
    _body_size,
    _washout,
    _age,
)

_LEFT_TO_A_PERSON = re.compile(r"\bsummary\b|known only|cut off|not retrieved|truncated", re.I)
_ELIDED = re.compile(r"\s*\[(?:\.\.\.|…)\]\s*$")
_SENTENCE = re.compile(r"(?<=[a-z0-9)%][.;])\s+(?=[A-Z])")


def _one(text: str, kind: Kind) -> Recognized | None:
    for fn in RECOGNIZERS:
        out = fn(text, kind)
        if out is not None:
            return out
    return None


def recognize(text: str, kind: Kind) -> Recognized | None:
    """The rule for a criterion text, or None (→ manual review); see the module docstring."""
    t = clean(text)
    elided = bool(_ELIDED.search(t))
    t = _ELIDED.sub("", t)
    if not t or _LEFT_TO_A_PERSON.search(t):
        return None
    try:
        sentences = [t] if "\n" in text else [s for s in _SENTENCE.split(t) if s.strip()]
        found = [_one(s, kind) for s in sentences]
    except _Unusable:
        return None
    if not found or any(f is None for f in found):
        return None
    parts = [f for f in found if f is not None]
    join = "all" if kind == "inclusion" else "any"
    if elided:
        rest: Recognized = Recognized(
            {"const": "unknown", "label": "the rest of the criterion (cut off in the registry text)"},
            "elided",
            ["The registry text is cut off; the missing part stays unknown."],
        )
        parts.append(rest)
    if len(parts) == 1:
        return parts[0]
    return Recognized(
        {join: [p.rule for p in parts]},
        "+".join(dict.fromkeys(p.pattern for p in parts)),
        [a for p in parts for a in p.assumptions],
    )
