"""Card builders: what a clinician sees in the chart. No card for a chart with nothing worth attention.

patient-view
- warning "likely IMNM pattern" when ENMC 224 is met, or the ENMC clinical requirement (raised CK and
  proximal weakness) is met, or anti-HMGCR / anti-SRP is positive; with the ENMC result and the EULAR/ACR score;
- info "next tests" (with a suggestion to order each: a draft ServiceRequest) when that pattern card shows;
- info "trials" the patient may qualify for (eligible / needs information) and what is still missing.
order-select / order-sign
- warning with a delete suggestion when a draft order is a statin and the patient has anti-HMGCR myopathy or a
  positive anti-HMGCR.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from imnm.record.model import Record

DISCLAIMER = (
    "Decision support, not a diagnosis: classification criteria are research tools; the clinician decides."
)
ENMC_SOURCE = {
    "label": "IMNM Navigator · ENMC 224 (Allenbach et al. 2018)",
    "url": "https://doi.org/10.1016/j.nmd.2017.09.016",
}
EULAR_URL = "https://doi.org/10.1136/annrheumdis-2017-211468"
TRIALS_SOURCE = {
    "label": "IMNM Navigator · trial catalog (ClinicalTrials.gov)",
    "url": "https://clinicaltrials.gov/",
}
STATIN_SOURCE = {
    "label": "IMNM Navigator · anti-HMGCR myopathy and statins (ENMC 224)",
    "url": "https://doi.org/10.1016/j.nmd.2017.09.016",
}


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "imnm-cds:" + "/".join(parts)))


def _short(text: str, limit: int = 139) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _link(app_base: str | None, patient: str, page: str, label: str) -> list[dict[str, Any]]:
    if not app_base:
        return []
    return [
        {
            "label": label,
            "url": f"{app_base.rstrip('/')}/ehr/patients/{quote(patient, safe='')}"
            + ("" if page == "assessment" else f"?then={quote(page, safe='')}"),
            "type": "absolute",
        }
    ]


def ck_fold(record: Record) -> tuple[float | None, str | None]:
    from imnm.record.vocabulary import lab_unit_factor

    best: tuple[float | None, str | None] = (None, None)
    for lab in record.labs or []:
        if lab.test == "ck" and lab.uln:
            f = lab_unit_factor("ck", lab.unit) or 1.0
            fold = lab.value * f / (lab.uln * f)
            if best[0] is None or fold > best[0]:
                best = (fold, lab.date.isoformat() if lab.date else None)
    return best


def positive(record: Record, target: str) -> bool:
    return any(a.target == target and a.result == "positive" for a in record.antibodies or [])


def patient_view_cards(
    record: Record,
    assessment: dict[str, Any],
    trials: list[dict[str, Any]],
    *,
    patient_id: str,
    hook_instance: str,
    app_base: str | None,
) -> list[dict[str, Any]]:
    enmc = assessment["enmc"]
    eular = assessment["eular_acr"]
    hmgcr, srp = positive(record, "HMGCR"), positive(record, "SRP")
    clinical = enmc.get("criteria", {}).get("clinical") == "met"
    if not (enmc.get("imnm") is True or clinical or hmgcr or srp):
        return []
    fold, fold_date = ck_fold(record)
    labels = {
        "anti_hmgcr_myopathy": "anti-HMGCR myopathy",
        "anti_srp_myopathy": "anti-SRP myopathy",
        "antibody_negative_imnm": "antibody-negative IMNM",
    }
    sub = str(enmc.get("subtype") or enmc.get("classification") or "")
    label = labels.get(sub, sub.replace("_", " "))
    if enmc.get("imnm") is True:
        summary = f"Likely IMNM: meets ENMC 224 {label}. Review the work-up."
    else:
        signs = [
            s
            for s, on in (
                ("anti-HMGCR positive", hmgcr),
                ("anti-SRP positive", srp),
                ("raised CK with proximal weakness", clinical),
            )
            if on
        ]
        summary = f"Possible necrotizing myopathy (IMNM): {', '.join(signs)}; ENMC 224 {enmc.get('status')}."
    lines = [
        f"**ENMC 224:** {enmc.get('message')}",
        f"**2017 EULAR/ACR:** score {eular.get('score')} (range {eular.get('score_min')}–{eular.get('score_max')}), "
        f"probability {eular.get('probability')} %, category {eular.get('category')} ([source]({EULAR_URL})).",
    ]
    if fold is not None:
        lines.append(f"**Highest CK:** {fold:.1f} × ULN" + (f" ({fold_date})" if fold_date else ""))
    abs_ = [
        f"anti-{a.target} {a.result}" + (f" ({a.date})" if a.date else "")
        for a in record.antibodies or []
        if a.target in ("HMGCR", "SRP")
    ]
    if abs_:
        lines.append("**Antibodies:** " + "; ".join(abs_))
    missing = enmc.get("missing") or []
    if missing:
        lines.append(
            "**Still unknown for ENMC 224:** "
            + "; ".join(str(m.get("label", m)) if isinstance(m, dict) else str(m) for m in missing)
        )
    lines.append(f"_{DISCLAIMER}_")
    cards: list[dict[str, Any]] = [
        {
            "uuid": _uuid(hook_instance, "pattern"),
            "summary": _short(summary),
            "detail": "\n\n".join(lines),
            "indicator": "warning",
            "source": ENMC_SOURCE,
            "links": _link(app_base, patient_id, "assessment", "Open the IMNM Navigator assessment") or None,
        }
    ]
    tests = [t for t in assessment.get("next_tests") or []][:5]
    if tests:
        suggestions = []
        for t in tests:
            suggestions.append(
                {
                    "label": _short(f"Order: {t['name']}", 120),
                    "uuid": _uuid(hook_instance, "test", str(t["test"])),
                    "actions": [
                        {
                            "type": "create",
                            "description": _short(f"Propose {t['name']} ({t['why']})", 400),
                            "resource": {
                                "resourceType": "ServiceRequest",
                                "status": "draft",
                                "intent": "proposal",
                                "code": {"text": t["name"]},
                                "subject": {"reference": f"Patient/{patient_id}"},
                                "reasonCode": [{"text": _short(str(t["why"]), 400)}],
                            },
                        }
                    ],
                }
            )
        detail = "\n".join(f"{i}. **{t['name']}**: {t['why']}" for i, t in enumerate(tests, 1))
        cards.append(
            {
                "uuid": _uuid(hook_instance, "tests"),
                "summary": _short(
                    f"Next tests for suspected IMNM: {', '.join(t['name'] for t in tests[:3])}"
                ),
                "detail": detail + f"\n\n_{DISCLAIMER}_",
                "indicator": "info",
                "source": ENMC_SOURCE,
                "selectionBehavior": "any",
                "suggestions": suggestions,
                "links": _link(app_base, patient_id, "assessment", "Why these tests (IMNM Navigator)")
                or None,
            }
        )
    open_trials = [
        t
        for t in trials
        if t.get("verdict") in ("eligible", "needs_information")
        and t.get("imnm") in ("imnm_only", "includes_imnm", "rollover")
    ]
    if open_trials:
        rows = []
        for t in open_trials[:5]:
            miss = [str(m.get("label") or m.get("fact")) for m in t.get("missing") or []][:4]
            rows.append(
                f"- **{t.get('id')}** {t.get('acronym') or ''}: {str(t.get('verdict')).replace('_', ' ')}"
                + (f"; still needed: {', '.join(miss)}" if miss else "")
            )
        n_el = sum(1 for t in open_trials if t.get("verdict") == "eligible")
        cards.append(
            {
                "uuid": _uuid(hook_instance, "trials"),
                "summary": _short(
                    f"{len(open_trials)} IMNM trial(s) may fit ({n_el} eligible on the chart so far); see what is missing."
                ),
                "detail": "\n".join(rows) + "\n\n_Trial teams decide eligibility at screening._",
                "indicator": "info",
                "source": TRIALS_SOURCE,
                "links": _link(app_base, patient_id, "trials", "Open trial matching (IMNM Navigator)")
                or None,
            }
        )
    return [{k: v for k, v in c.items() if v is not None} for c in cards]


def statin_in(resource: dict[str, Any]) -> str | None:
    """The statin a draft medication order is for, or None."""
    from imnm.adapters.fhir import codes
    from imnm.knowledge.lookups import medication_matches

    cc = resource.get("medicationCodeableConcept") or {}
    names = [cc.get("text")] + [c.get("display") for c in cc.get("coding") or []]
    ref = resource.get("medicationReference") or {}
    names.append(ref.get("display"))
    for c in cc.get("coding") or []:
        if c.get("system") == codes.system("rxnorm"):
            names.append(codes.rxnorm_names().get(str(c.get("code"))))
    for n in names:
        if isinstance(n, str) and n and medication_matches(n, "statin"):
            return n
    return None


def statin_order_cards(
    record: Record, assessment: dict[str, Any], draft_orders: list[dict[str, Any]], *, hook_instance: str
) -> list[dict[str, Any]]:
    subtype = assessment["enmc"].get("subtype")
    hmgcr_myopathy = subtype == "anti_hmgcr_myopathy"
    hmgcr = positive(record, "HMGCR")
    if not (hmgcr_myopathy or hmgcr):
        return []
    cards = []
    for res in draft_orders:
        if res.get("resourceType") not in ("MedicationRequest", "MedicationStatement"):
            continue
        drug = statin_in(res)
        if drug is None:
            continue
        why = "anti-HMGCR myopathy (ENMC 224)" if hmgcr_myopathy else "a positive anti-HMGCR antibody"
        rid = f"{res['resourceType']}/{res.get('id', '')}"
        cards.append(
            {
                "uuid": _uuid(hook_instance, "statin", rid),
                "summary": _short(f"Statin ordered ({drug}) for a patient with {why}."),
                "detail": (
                    f"This patient has {why}. Statin exposure is linked to anti-HMGCR myopathy, and "
                    "guidance advises avoiding statins in these patients; discuss lipid lowering without a "
                    f"statin with the myositis team.\n\n_{DISCLAIMER}_"
                ),
                "indicator": "warning",
                "source": STATIN_SOURCE,
                "selectionBehavior": "at-most-one",
                "suggestions": [
                    {
                        "label": "Remove the statin order",
                        "uuid": _uuid(hook_instance, "statin-delete", rid),
                        "isRecommended": True,
                        "actions": [
                            {
                                "type": "delete",
                                "description": f"Remove the draft order for {drug}: the patient has {why}.",
                                "resourceId": rid,
                            }
                        ],
                    }
                ],
                "overrideReasons": [
                    {
                        "system": "https://imnm-navigator.org/fhir/CodeSystem/override-reason",
                        "code": "myositis-team-agreed",
                        "display": "Agreed with the myositis team",
                    },
                    {
                        "system": "https://imnm-navigator.org/fhir/CodeSystem/override-reason",
                        "code": "not-anti-hmgcr",
                        "display": "Antibody result not confirmed",
                    },
                ],
            }
        )
    return cards
