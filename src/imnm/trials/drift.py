"""What changed in the registry since a catalog entry was encoded (pure functions, no I/O).

**Hashes** (`encoded_from.text_sha256`, `registry_check.text_sha256`) are SHA-256 over UTF-8 text:

- `catalog_text_sha256(trial)`: the criterion texts the entry holds, each with its whitespace
  collapsed to single spaces, joined by newlines, in file order (shared inclusion, shared
  exclusion, then each cohort's inclusion and exclusion); criteria from the registry's structured
  fields (`structured: true`) and criteria added by an update (`added`) are left out. This is the
  baseline of every entry written from mirror pages and research notes: it proves which text the
  rules were written from, and changes when someone edits a criterion's text.
- `registry_text_sha256(text)`: the registry's `eligibilityCriteria` string as received, with line
  ends made `\\n` and outer whitespace stripped.

**Per-criterion comparison** (`compare`): the registry text is split with the importer's splitter
(`imnm.trials.ctgov.split_criteria`) and its structured ages and sex are read with the importer's
`structured_criteria`; then, per kind (inclusion / exclusion) and cohort:

1. structured criteria are matched by id (`age`, `sex`), texts compared;
2. a registry item whose normalized text equals a catalog criterion's text (or the new text already
   recorded on a stale criterion) is the same criterion;
3. the remaining pairs are matched greedily by similarity (difflib ratio ≥ `SIMILAR`, best first):
   a **changed** criterion;
4. catalog criteria left over were **removed** from the registry; registry items left over were
   **added**.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from imnm.trials.model import Criterion, Trial

Change = Literal["same", "changed", "removed", "added"]
SIMILAR = 0.5
"""Lowest difflib similarity at which a registry item is read as a changed wording of a criterion."""


def normalize(text: str) -> str:
    """A criterion text for comparison: whitespace collapsed, outer spaces stripped."""
    return " ".join(text.split())


def catalog_texts(trial: Trial) -> list[str]:
    """The texts `catalog_text_sha256` hashes, in order."""
    return [normalize(c.text) for c in trial.all_criteria() if not c.structured and c.added is None]


def catalog_text_sha256(trial: Trial) -> str:
    return hashlib.sha256("\n".join(catalog_texts(trial)).encode("utf-8")).hexdigest()


def registry_text_sha256(text: str) -> str:
    return hashlib.sha256(text.replace("\r\n", "\n").strip().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RegistryItem:
    """One criterion of the registry record: its kind, cohort heading, text and (structured) id."""

    kind: Literal["inclusion", "exclusion"]
    cohort: str | None
    text: str
    structured_id: str | None = None
    rule: dict[str, Any] | None = None  # the importer's rule for a structured item


@dataclass(frozen=True)
class CriterionDiff:
    """One difference (or sameness) between the catalog entry and the registry record."""

    change: Change
    kind: Literal["inclusion", "exclusion"]
    cohort: str | None  # the catalog cohort id (or the registry's cohort heading for an added item)
    criterion: str | None  # the catalog criterion id (None for an added item)
    old: str | None
    new: str | None
    structured: bool = False
    rule: dict[str, Any] | None = None  # an added structured item's rule (from the importer)

    def lines(self) -> list[str]:
        """The diff as text lines (`-` old wording, `+` new wording)."""
        where = f" [{self.cohort}]" if self.cohort else ""
        if self.change == "changed":
            return [
                f"~ {self.kind} {self.criterion}{where} changed; its rule is marked stale:",
                f"    - {self.old}",
                f"    + {self.new}",
                *(f"      {w}" for w in word_diff(self.old or "", self.new or "")),
            ]
        if self.change == "removed":
            return [
                f"- {self.kind} {self.criterion}{where} is no longer in the registry text; marked stale:",
                f"    - {self.old}",
            ]
        if self.change == "added":
            return [f"+ new {self.kind} criterion{where} added as {self.criterion}:", f"    + {self.new}"]
        return []

    def as_dict(self) -> dict[str, object]:
        return {
            "change": self.change,
            "kind": self.kind,
            "cohort": self.cohort,
            "criterion": self.criterion,
            "old": self.old,
            "new": self.new,
            "structured": self.structured,
        }


def word_diff(old: str, new: str) -> list[str]:
    """The changed words, as `[-removed-]{+added+}` spans (empty when only spacing differs)."""
    a, b = normalize(old).split(" "), normalize(new).split(" ")
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        gone, came = " ".join(a[i1:i2]), " ".join(b[j1:j2])
        out.append((f"[-{gone}-]" if gone else "") + (f"{{+{came}+}}" if came else ""))
    return [" ".join(out)] if out else []


def registry_items(study: dict[str, Any]) -> list[RegistryItem]:
    """The registry record's criteria: structured ages and sex, then every text item."""
    from imnm.trials.ctgov import split_criteria, structured_criteria

    proto = study.get("protocolSection") or {}
    elig = proto.get("eligibilityModule") or {}
    out = [
        RegistryItem("inclusion", None, c["text"], c["id"], c.get("rule")) for c in structured_criteria(elig)
    ]
    for sec in split_criteria(elig.get("eligibilityCriteria") or ""):
        kind: Literal["inclusion", "exclusion"] = sec.kind or "inclusion"
        out.extend(RegistryItem(kind, sec.cohort, it.full_text()) for it in sec.items)
    return out


@dataclass(frozen=True)
class _Slot:
    criterion: Criterion
    kind: Literal["inclusion", "exclusion"]
    cohort_id: str | None
    cohort_label: str | None


def _slots(trial: Trial) -> list[_Slot]:
    out = [_Slot(c, "inclusion", None, None) for c in trial.inclusion]
    out += [_Slot(c, "exclusion", None, None) for c in trial.exclusion]
    for co in trial.cohorts:
        out += [_Slot(c, "inclusion", co.id, co.label) for c in co.inclusion]
        out += [_Slot(c, "exclusion", co.id, co.label) for c in co.exclusion]
    return out


def _known_texts(c: Criterion) -> list[str]:
    texts = [normalize(c.text)]
    if c.stale is not None and c.stale.registry_text:
        texts.insert(0, normalize(c.stale.registry_text))
    return texts


def _cohort_key(label: str | None) -> str | None:
    return re.sub(r"[^a-z0-9]+", " ", label.lower()).strip() if label else None


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).ratio()


def compare(trial: Trial, study: dict[str, Any]) -> list[CriterionDiff]:
    """Every catalog criterion and registry item, paired (see the module docstring)."""
    items = registry_items(study)
    slots = _slots(trial)
    out: list[CriterionDiff] = []
    used_items: set[int] = set()
    used_slots: set[int] = set()
    # 1. structured criteria by id
    for si, sl in enumerate(slots):
        if not sl.criterion.structured:
            continue
        match = next(
            (
                ii
                for ii, it in enumerate(items)
                if it.structured_id == sl.criterion.id and ii not in used_items
            ),
            None,
        )
        if match is None:
            continue
        used_items.add(match)
        used_slots.add(si)
        new = items[match].text
        same = normalize(new) in _known_texts(sl.criterion)
        out.append(
            CriterionDiff(
                "same" if same else "changed",
                sl.kind,
                sl.cohort_id,
                sl.criterion.id,
                sl.criterion.text,
                new,
                True,
            )
        )

    def candidates(it: RegistryItem) -> list[int]:
        key = _cohort_key(it.cohort)
        same_cohort = [
            si
            for si, sl in enumerate(slots)
            if si not in used_slots
            and not sl.criterion.structured
            and sl.kind == it.kind
            and (_cohort_key(sl.cohort_label) == key or (key is None and sl.cohort_id is None))
        ]
        if same_cohort or key is None:
            return same_cohort
        return [
            si
            for si, sl in enumerate(slots)
            if si not in used_slots and not sl.criterion.structured and sl.kind == it.kind
        ]

    # 2. the same text
    for ii, it in enumerate(items):
        if ii in used_items or it.structured_id is not None:
            continue
        text = normalize(it.text)
        for si in candidates(it):
            if text in _known_texts(slots[si].criterion):
                used_items.add(ii)
                used_slots.add(si)
                sl = slots[si]
                out.append(
                    CriterionDiff("same", sl.kind, sl.cohort_id, sl.criterion.id, sl.criterion.text, it.text)
                )
                break
    # 3. changed wordings, most similar first
    pairs: list[tuple[float, int, int]] = []
    for ii, it in enumerate(items):
        if ii in used_items or it.structured_id is not None:
            continue
        for si in candidates(it):
            ratio = max(_ratio(normalize(it.text), t) for t in _known_texts(slots[si].criterion))
            if ratio >= SIMILAR:
                pairs.append((ratio, ii, si))
    for _r, ii, si in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if ii in used_items or si in used_slots:
            continue
        used_items.add(ii)
        used_slots.add(si)
        sl = slots[si]
        out.append(
            CriterionDiff(
                "changed", sl.kind, sl.cohort_id, sl.criterion.id, sl.criterion.text, items[ii].text
            )
        )
    # 4. what is left
    for si, sl in enumerate(slots):
        if si in used_slots:
            continue
        if sl.criterion.stale is not None and sl.criterion.stale.change == "removed":
            out.append(CriterionDiff("same", sl.kind, sl.cohort_id, sl.criterion.id, sl.criterion.text, None))
            continue  # already marked
        out.append(
            CriterionDiff(
                "removed",
                sl.kind,
                sl.cohort_id,
                sl.criterion.id,
                sl.criterion.text,
                None,
                sl.criterion.structured,
            )
        )
    for ii, it in enumerate(items):
        if ii in used_items:
            continue
        out.append(
            CriterionDiff(
                "added", it.kind, it.cohort, None, None, it.text, it.structured_id is not None, it.rule
            )
        )
    return out


def changes(diffs: Sequence[CriterionDiff]) -> list[CriterionDiff]:
    """The differences only (changed, removed, added)."""
    return [d for d in diffs if d.change != "same"]
