"""Read FHIR R4 input: a Bundle (collection, searchset, transaction, batch, ...), a single resource, or a
bulk-export NDJSON folder. Every resource of a type we map is checked with the `fhir.resources` R4B model;
one that does not validate is reported (with its id and the model's first error), never half-read.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from imnm.errors import InputError, Problem

# The resource types the importer maps (and therefore validates); others are listed as not mapped.
MAPPED_TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "MedicationStatement",
    "MedicationRequest",
    "MedicationAdministration",
    "Medication",
    "Immunization",
    "Procedure",
    "DiagnosticReport",
    "QuestionnaireResponse",
    "List",
)
BUNDLE_TYPES = (
    "collection",
    "searchset",
    "transaction",
    "batch",
    "transaction-response",
    "batch-response",
    "history",
    "document",
    "message",
)


@cache
def model_class(resource_type: str) -> Any:
    """The `fhir.resources` R4B model of a resource type (imported on first use)."""
    import importlib

    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)


def validation_problem(resource: dict[str, Any], where: str) -> str | None:
    """None when the resource validates with its R4B model, else the first error in plain words."""
    from pydantic import ValidationError

    rtype = resource.get("resourceType")
    if not isinstance(rtype, str):
        return "no resourceType"
    try:
        cls = model_class(rtype)
    except (ImportError, AttributeError):
        return f"{rtype!r} is not an R4B resource type"
    try:
        cls.model_validate(resource)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        return f"does not validate as FHIR R4B {rtype}: {loc}: {err['msg']}"
    return None


def resources_from_document(doc: Any, *, file: str | None = None) -> list[dict[str, Any]]:
    """The resources of a parsed JSON document (a Bundle's entries, or the resource itself)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str):
        raise InputError(
            [
                Problem(
                    "resourceType",
                    "not a FHIR resource (no resourceType)",
                    "give a FHIR R4 Bundle (JSON) or a bulk-export NDJSON folder",
                    file=file,
                )
            ],
            what=file or "FHIR input",
        )
    if doc["resourceType"] != "Bundle":
        return [doc]
    btype = doc.get("type")
    if btype not in BUNDLE_TYPES:
        raise InputError(
            [
                Problem(
                    "type",
                    f"{btype!r} is not a Bundle type",
                    f"use one of {', '.join(BUNDLE_TYPES)}",
                    value=btype,
                    file=file,
                )
            ],
            what=file or "FHIR input",
        )
    entries = doc.get("entry") or []
    if not isinstance(entries, list):
        raise InputError(
            [
                Problem(
                    "entry",
                    f"the Bundle's entry is {type(entries).__name__} {str(entries)[:60]!r}, not a list",
                    "write entry: [{resource: {...}}, ...]",
                    value=str(entries)[:200],
                    file=file,
                )
            ],
            what=file or "FHIR input",
        )
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(res, dict):
            if (
                res.get("resourceType") == "Bundle"
            ):  # nested bundles (e.g. search results in a batch-response)
                out.extend(resources_from_document(res, file=file))
            else:
                out.append(res)
        elif isinstance(entry, dict) and entry.get("request", {}).get("method") == "DELETE":
            continue
        else:
            raise InputError(
                [
                    Problem(
                        f"entry[{i}]", "entry without a resource", "remove it or add the resource", file=file
                    )
                ],
                what=file or "FHIR input",
            )
    return out


def _json(text: str, file: str) -> Any:
    """One JSON document, read with the same refusals as every input file (imnm.io.yaml: duplicate keys,
    NaN and infinity, lone surrogates, huge integers, deep nesting)."""
    from imnm.io.yaml import load_json_text

    return load_json_text(text, file=file)


def _ndjson_lines(text: str, file: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = _json(line, file)
        except InputError as exc:  # the place is the line of the file
            raise InputError(
                [
                    Problem(
                        f"line {n}" + (f" ({p.path})" if p.path and not p.path.startswith("line 1,") else ""),
                        p.message,
                        p.fix,
                        p.value,
                        file=file,
                    )
                    for p in exc.problems
                ],
                what=file,
            ) from None
        out.extend(resources_from_document(doc, file=f"{file}:{n}"))
    return out


def read_ndjson_dir(path: Path) -> list[dict[str, Any]]:
    """Every resource of every `*.ndjson` file of a bulk-export folder."""
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".ndjson", ".jsonl"))
    if not files:
        raise InputError(
            [
                Problem(
                    "",
                    "the folder has no .ndjson files",
                    "give a FHIR bulk-export folder (Patient.ndjson, Observation.ndjson, ...) or a Bundle JSON",
                    file=str(path),
                )
            ],
            what=str(path),
        )
    from imnm.io.yaml import read_text

    out: list[dict[str, Any]] = []
    for f in files:
        out.extend(_ndjson_lines(read_text(f), str(f)))
    return out


def looks_like_fhir(text: str) -> bool:
    """Content sniffing: does a JSON text start with a FHIR resource (a `resourceType` key)?"""
    head = text.lstrip("\ufeff \t\r\n")[:4096]
    return head.startswith("{") and '"resourceType"' in head


def read_path(path: str | Path) -> list[dict[str, Any]]:
    """Resources from a Bundle/resource JSON file or an NDJSON file or folder."""
    from imnm.io.yaml import read_text

    p = Path(path)
    if p.is_dir():
        return read_ndjson_dir(p)
    text = read_text(p)
    stripped = text.strip()
    if "\n" in stripped and p.suffix.lower() in (".ndjson", ".jsonl"):
        return _ndjson_lines(stripped, str(p))
    if not stripped:
        raise InputError(
            [Problem("", "the file is empty", "give a FHIR R4 Bundle (JSON)", file=str(p))], what=str(p)
        )
    return resources_from_document(_json(text, str(p)), file=str(p))
