"""Recognizers: common criterion wordings turned into rules (pure functions, no I/O).

`recognize(text, kind)` returns a `Recognized` rule (plain data in the rule language, with the
assumptions it makes) or `None` when no pattern fits; the importer then marks the criterion
for manual review. Recognizers are deliberately narrow: a text that mentions anything they do
not understand (other antibodies, "unless", "except") is left to a person.

Patterns: age limits; CK > N U/L or > N × ULN; anti-HMGCR / anti-SRP positive; MMT-8
thresholds with their stated scale (0–80, 0–150, 0–160; no scale → not recognized); MRC
"≤ grade 4 out of 5" proximal weakness; a clinical diagnosis of IMNM; stable or changed
glucocorticoid / immunosuppressant doses; washout windows for statins, IVIG, rituximab,
plasma exchange, cyclophosphamide and biologics; pregnancy or breastfeeding; history of
meningococcal disease; recent systemic infection and IV antibiotics.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["inclusion", "exclusion"]
Rule = dict[str, Any]

SCREENING_WINDOW = "30d"
STUDY_WINDOW = "8w"
SCREENING_NOTE = (
    "⚠️ 'At Screening' means the latest result dated within 30 days before the evaluation date "
    "(screening window assumed; the registry does not state it)."
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


def _num(s: str) -> float:
    return float(s.replace(",", ""))


def _n(value: float) -> float | int:
    return int(value) if value == int(value) else value


def _duration(n: str, unit: str) -> str:
    return f"{int(_num(n))}{_UNIT_DAYS[unit.lower()]}"


def clean(text: str) -> str:
    """Text for matching: footnote digits glued after punctuation removed, spaces collapsed."""
    text = re.sub(r"(?<=[;,.])\d+(?:,\d+)*(?=\s|$)", "", text)
    return re.sub(r"\s+", " ", text).strip()


# ------------------------------------------------------------------ age


def _age(text: str, kind: Kind) -> Recognized | None:
    t = text.lower()
    if "age" not in t and "years old" not in t:
        return None
    if re.search(r"onset|diagnos|duration|juvenile|jdm|child|parent|stage", t) or _UNLESS.search(t):
        return None
    parts: list[Rule] = []
    m = re.search(r"(\d+)\s*(?:-|–|to)\s*(\d+)\s*years", t)
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


# ------------------------------------------------------------------ antibodies

_OTHER_AB = re.compile(
    r"Mi-?2|TIF1|NXP|MDA-?5|SAE|Jo-?1|PL-?7|PL-?12|\bOJ\b|\bEJ\b|myositis-specific|MSA|synthetase", re.I
)


def _antibody(text: str, kind: Kind) -> Recognized | None:
    if _OTHER_AB.search(text) or not re.search(r"positiv|seropositive", text, re.I):
        return None
    targets = []
    if re.search(r"HMGCR|HMGCoR|3-hydroxy-3-methyl", text, re.I):
        targets.append("HMGCR")
    if re.search(r"\bSRP\b|signal recognition particle", text, re.I):
        targets.append("SRP")
    if not targets or re.search(r"\bnegativ", text, re.I):
        return None
    nodes: list[Rule] = [
        {"compare": {"fact": f"antibody.{t}", "op": "==", "value": "positive", "select": "any"}}
        for t in targets
    ]
    return Recognized(nodes[0] if len(nodes) == 1 else {"any": nodes}, "antibody")


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
        "scale at a visit within 30 days."
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


# ------------------------------------------------------------------ medicines

_DRUGS: tuple[tuple[str, str], ...] = (
    (r"\bstatins?\b", "statin"),
    (r"\bIVIG\b|intravenous immunoglobulin|immune globulin", "ivig"),
    (r"\brituximab\b", "rituximab"),
    (r"plasma exchange|plasmapheresis|\bPLEX\b", "plasma_exchange"),
    (r"\bcyclophosphamide\b", "cyclophosphamide"),
    (r"\bbiologic", "biologic"),
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


_STEROID = r"corticosteroid|glucocorticoid|steroid|prednisone|\bGC\b"
_IS = r"immunosuppress|\bDMARD"


def _dose_stability(text: str, kind: Kind) -> Recognized | None:
    if _UNLESS.search(text) or re.search(r"maximum|mg|topical", text, re.I):
        return None
    steroid = re.search(_STEROID, text, re.I)
    immuno = re.search(_IS, text, re.I)
    if bool(steroid) == bool(immuno):
        return None
    cls = "glucocorticoid" if steroid else ("csdmard" if re.search("DMARD", text) else "immunosuppressant")
    m = re.search(r"(?:at least|for|<|less than|within)\s*(\d+)\s*(days?|weeks?|months?)", text, re.I)
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
        return Recognized({"not": changed}, "dose_stability", notes)
    if kind == "exclusion" and not negated:
        return Recognized(changed, "dose_change", notes)
    return None


# ------------------------------------------------------------------ safety


def _pregnancy(text: str, kind: Kind) -> Recognized | None:
    if kind != "exclusion" or not re.search(r"pregnan|breast-?feeding|lactat", text, re.I):
        return None
    nodes: list[Rule] = [{"is_true": "history.pregnant"}]
    if re.search(r"breast-?feeding|lactat", text, re.I):
        nodes.append({"is_true": "history.breastfeeding"})
    if re.search(r"contracept|unwilling|plan", text, re.I):
        nodes.append({"const": "unknown", "label": "contraception plans (clinician to ask)"})
    return Recognized(nodes[0] if len(nodes) == 1 else {"any": nodes}, "pregnancy")


def _meningococcal(text: str, kind: Kind) -> Recognized | None:
    if kind == "exclusion" and re.fullmatch(
        r"(?:history of|prior) meningococcal (?:disease|infection)\.?", clean(text), re.I
    ):
        return Recognized({"is_true": "history.meningococcal_disease"}, "meningococcal")
    return None


def _infection(text: str, kind: Kind) -> Recognized | None:
    if kind != "exclusion" or "infection" not in text.lower() or _UNLESS.search(text):
        return None
    if re.search(
        r"opportunistic|chronic|hepatitis|HIV|tubercul|COVID|sepsis|medical intervention", text, re.I
    ):
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
    _diagnosis,
    _antibody,
    _ck,
    _mmt8,
    _mrc_grade,
    _dose_stability,
    _infection,
    _pregnancy,
    _washout,
    _age,
)


def recognize(text: str, kind: Kind) -> Recognized | None:
    """The first recognizer that fits the criterion text, or None (→ manual review)."""
    t = clean(text)
    for fn in RECOGNIZERS:
        out = fn(t, kind)
        if out is not None:
            return out
    return None
