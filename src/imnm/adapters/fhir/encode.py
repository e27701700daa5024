"""The lossless encoding of record items that have no standard FHIR code.

An item (a finding, a visit, a biopsy ...) becomes an Observation coded in the project CodeSystem; each
leaf of the item is a `component` whose code is the field path inside the item (`mmt8.grades.deltoid.right`,
`haq.dressing.items.0`) and whose value type keeps the Python type: bool → valueBoolean, int →
valueInteger, float → valueQuantity (value only), date → valueDateTime (YYYY-MM-DD), str → valueString.
`decode_components` inverts it exactly.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from imnm.adapters.fhir.codes import project_cs


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """`{'a': {'b': 1}, 'c': [2, 3]}` → `[('a.b', 1), ('c.0', 2), ('c.1', 3)]` (None leaves dropped)."""
    out: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list | tuple):
        if not value:
            out.append((prefix, []))
        for i, v in enumerate(value):
            out.extend(flatten(v, f"{prefix}.{i}"))
    elif value is not None:
        out.append((prefix, value))
    return out


def unflatten(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Invert `flatten`: numeric path parts become list indices."""
    root: dict[str, Any] = {}
    for path, value in pairs:
        parts = path.split(".")
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt_is_index = not last and parts[i + 1].isdigit()
            if isinstance(node, list):
                idx = int(part)
                while len(node) <= idx:
                    node.append(None)
                if last:
                    node[idx] = value
                else:
                    if node[idx] is None:
                        node[idx] = [] if nxt_is_index else {}
                    node = node[idx]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if nxt_is_index else {})
    return root


def fhir_value(value: Any) -> dict[str, Any]:
    """The value[x] element for one leaf."""
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueQuantity": {"value": value}}
    if isinstance(value, date):
        return {"valueDateTime": value.isoformat()}
    if isinstance(value, list) and not value:
        return {"valueString": "[]"}
    return {"valueString": str(value)}


def python_value(element: dict[str, Any]) -> tuple[bool, Any]:
    """(found, value) of an element's value[x] written by `fhir_value`."""
    if "valueBoolean" in element:
        return True, element["valueBoolean"]
    if "valueInteger" in element:
        return True, int(element["valueInteger"])
    if "valueQuantity" in element:
        v = element["valueQuantity"].get("value")
        return v is not None, None if v is None else float(v)
    if "valueDateTime" in element:
        return True, str(element["valueDateTime"])[:10]
    if "valueString" in element:
        s = element["valueString"]
        return True, [] if s == "[]" else s
    return False, None


def components(item: dict[str, Any]) -> list[dict[str, Any]]:
    cs = project_cs()
    return [
        {"code": {"coding": [{"system": cs, "code": path}], "text": path}, **fhir_value(v)}
        for path, v in flatten(item)
    ]


def decode_components(comps: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """The item a project Observation's components encode, and the paths that could not be read."""
    cs = project_cs()
    pairs: list[tuple[str, Any]] = []
    bad: list[str] = []
    for c in comps:
        code = next(
            (cd.get("code") for cd in c.get("code", {}).get("coding") or [] if cd.get("system") == cs), None
        )
        if not code:
            bad.append(str(c.get("code", {}).get("text") or "?"))
            continue
        found, value = python_value(c)
        if found:
            pairs.append((str(code), value))
        else:
            bad.append(str(code))
    return unflatten(pairs), bad
