"""The layers of the package, checked on every import statement (issue 10, "layering you can check").

    interfaces   imnm.cli, imnm.api, imnm.web, imnm.cds          thin callers
    render       imnm.render                                     wording shared by every caller
    services     imnm.services, imnm.facts (composition root)    use cases
    features     imnm.screen, imnm.workup, imnm.activity, imnm.trials   read only facts
    adapters     imnm.record, imnm.adapters, imnm.store, imnm.synthetic, imnm.io.sources
    facts        imnm.bindings, imnm.derive                      bindings and derivations
    vocabulary   imnm.vocabulary, imnm.settings, imnm.instruments
    knowledge    imnm.knowledge, imnm.io, imnm.types
    core         imnm.core, imnm.errors                          standard library and pydantic only

A module may import its own layer and the layers below. Features never import the record model (or
any adapter), so a patient reaches them only through facts.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "imnm"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("imnm.core", "imnm.errors", "imnm.version")),
    ("knowledge", ("imnm.knowledge", "imnm.io", "imnm.types")),
    ("vocabulary", ("imnm.vocabulary", "imnm.settings", "imnm.instruments")),
    ("facts", ("imnm.bindings", "imnm.derive")),
    (
        "adapters",
        (
            "imnm.record",
            "imnm.adapters",
            "imnm.store",
            "imnm.synthetic",
            "imnm.io.sources",
            "imnm.sqlcompile",
        ),
    ),
    ("features", ("imnm.screen", "imnm.workup", "imnm.activity", "imnm.trials")),
    ("services", ("imnm.services", "imnm.facts")),
    ("render", ("imnm.render", "imnm.reports")),
    ("interfaces", ("imnm.cli", "imnm.api", "imnm.web", "imnm.cds")),
]
ALLOWED_THIRD_PARTY_IN_CORE = {"pydantic", "pydantic_core"}


def layer(module: str) -> int:
    best, rank = -1, -1
    for i, (_name, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), i
    if module == "imnm":
        return len(LAYERS)  # the package root re-exports everything; nothing imports it inside src
    return rank


def modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(path: Path, module: str) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int]] = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((a.name, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            for a in node.names:
                sub = f"{name}.{a.name}"
                found.append((sub if sub in MODULES else name, node.lineno))
    return found


MODULES = modules()


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in MODULES if m != "imnm" and layer(m) < 0]
    assert not unplaced, f"modules without a layer (add them to LAYERS): {unplaced}"


def test_no_import_from_a_higher_layer() -> None:
    bad = []
    for mod, path in MODULES.items():
        if mod == "imnm":
            continue
        mine = layer(mod)
        for name, line in imports(path, mod):
            if not name.startswith("imnm"):
                continue
            theirs = layer(name)
            if theirs > mine:
                bad.append(
                    f"{mod}:{line} imports {name} ({LAYERS[mine][0]} → {LAYERS[theirs][0] if theirs < len(LAYERS) else 'package root'})"
                )
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_core_imports_only_the_standard_library_and_pydantic() -> None:
    stdlib = set(sys.stdlib_module_names)
    bad = []
    for mod, path in MODULES.items():
        if layer(mod) != 0:
            continue
        for name, line in imports(path, mod):
            top = name.split(".")[0]
            if top in ("imnm", "__future__"):
                if top == "imnm" and layer(name) not in (0,):
                    bad.append(f"{mod}:{line} {name}")
            elif top not in stdlib and top not in ALLOWED_THIRD_PARTY_IN_CORE:
                bad.append(f"{mod}:{line} {name}")
    assert not bad, bad


def test_features_never_import_the_record_model() -> None:
    features = [m for m in MODULES if 0 <= layer(m) < len(LAYERS) and LAYERS[layer(m)][0] == "features"]
    bad = [
        f"{m}:{line} {name}"
        for m in features
        for name, line in imports(MODULES[m], m)
        if name.startswith(("imnm.record", "imnm.adapters", "imnm.store", "imnm.facts", "imnm.services"))
    ]
    assert not bad, bad


def test_the_fold_over_uln_is_computed_in_one_function() -> None:
    """`x / uln` lives in imnm.core.quantities.fold_over_uln; everything else calls it."""
    callers = []
    for mod, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        if "def fold_over_uln" in text:
            callers.append(mod)
    assert callers == ["imnm.core.quantities"]
    for mod, path in MODULES.items():
        if mod == "imnm.core.quantities":
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            code = line.split("#")[0]
            assert "/ lab.uln" not in code and "/ uln" not in code.replace("fold_over_uln", ""), (mod, line)


def test_no_module_global_cache_keyed_by_id() -> None:
    bad = []
    for mod, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only
            if isinstance(node, ast.AnnAssign | ast.Assign):
                text = ast.unparse(node)
                if "dict[" in text and "int" in text.split("dict[")[1].split(",")[0] and "id" in text.lower():
                    bad.append(f"{mod}: {text[:80]}")
    assert not bad, bad
