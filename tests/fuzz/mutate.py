"""Hypothesis strategies that mutate real documents into what users and attackers actually send.

`documents(seeds)` draws a seed (a JSON-shaped document from `tests/fuzz/seeds.py`) and applies up to a
few structural mutations at random places: a value of the wrong type, a string for a number, NaN and
infinity, huge and negative numbers, empty and huge strings, unicode and control characters, markup,
SQL and path fragments, impossible, far-past and far-future dates, a key removed, an unknown or
misspelt key added, a list blown up to 10,000 rows, a value nested hundreds of levels deep.

`encoded(doc)` then writes it as YAML or JSON and may damage the text itself: truncation, duplicate
keys, explicit YAML tags, alias bombs and self-referring aliases, tabs, a byte-order mark, invalid
UTF-8, NUL bytes, lone surrogate escapes, 5,000-digit integers, deep bracket nesting, CR line ends,
several documents, random syntax characters.

Every strategy is deterministic given Hypothesis's seed, so a failure replays exactly.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

BIG = 10_000  # rows in a blown-up list

NASTY_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "\t",
    "\n",
    "0",
    "-1",
    "1e999",
    "NaN",
    "Infinity",
    "null",
    "None",
    "yes",
    "no",
    "true",
    "~",
    "[/b]",
    "[bold red]x[/]",
    "[link=file:///etc/passwd]x[/link]",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}",
    "${jndi:ldap://x.invalid/a}",
    "%s%s%n",
    "'; DROP TABLE patients; --",
    '"; SELECT 1; --',
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/dev/zero",
    "\x00",
    "a\x00b",
    "\x1b[31mred\x1b[0m",
    "\u202etxt.exe",
    "\u200b",
    "\ufeff",
    "\u2028",
    "e\u0301\u0301\u0301",
    "🧬" * 50,
    "ÿ" * 200,
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "x" * 5000,
    "mg",
    "U/L",
    "µkat/L",
    "xULN",
    "positive",
    "negative",
    "strong",
    "dont_know",
    "current",
    "ck",
    "HMGCR",
    "SRP",
    "never",
    "female",
    "30d",
    "1000000y",
    "-5d",
    "0d",
    "99999999999mo",
)
NASTY_DATES: tuple[str, ...] = (
    "2024-02-30",
    "2023-02-29",
    "2024-13-01",
    "2024-00-10",
    "2024-1-5",
    "24-01-05",
    "0001-01-01",
    "0000-01-01",
    "1899-12-31",
    "1900-01-01",
    "2199-12-31",
    "2200-01-01",
    "9999-12-31",
    "-0001-01-01",
    "10000-01-01",
    "2024-06-15T10:00:00",
    "2024-06-15T25:61:61Z",
    "2024-06-15 ",
    "today",
    "2026-11-26",
    "2100-01-01",
    "1950-06-01",
)
NASTY_NUMBERS: tuple[Any, ...] = (
    0,
    -0.0,
    -1,
    1,
    -1e-300,
    5e-324,
    0.1,
    1e-9,
    2**31,
    2**53 + 1,
    2**63,
    -(2**63),
    2**64,
    10**30,
    -(10**30),
    10**4000,
    1e308,
    -1e308,
    1.7976931348623157e308,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
)


@st.composite
def nasty_scalar(draw: st.DrawFn, like: Any = None) -> Any:
    """A scalar of the wrong kind, a hostile one of the right kind, or a plausible other value."""
    choice = draw(st.integers(0, 12))
    if choice >= 10:
        return draw(_similar(like))
    if choice == 0:
        return draw(st.sampled_from(NASTY_NUMBERS))
    if choice == 1:
        return draw(st.sampled_from(NASTY_STRINGS))
    if choice == 2:
        return draw(st.sampled_from(NASTY_DATES))
    if choice == 3:
        return None
    if choice == 4:
        return draw(st.text(max_size=40))
    if choice == 5:
        return draw(st.integers(min_value=-(10**12), max_value=10**12))
    if choice == 6:
        return draw(st.floats(allow_nan=True, allow_infinity=True))
    if choice == 7 and isinstance(like, bool):
        return draw(st.sampled_from(["yes", "no", "true", 1, 0, "Y", None]))
    if choice == 7 and isinstance(like, int | float):
        # the number as text, or off by orders of magnitude, or negative
        return draw(
            st.sampled_from(
                [
                    str(like),
                    f"{like} U/L",
                    like * 1000,
                    -abs(like) - 1,
                    like / 1000 if like else 1e-12,
                    [like],
                ]
            )
        )
    if choice == 7 and isinstance(like, str):
        return draw(
            st.sampled_from(
                [
                    like.upper(),
                    like + " ",
                    " " + like,
                    like * 3,
                    like[::-1],
                    like.replace("-", "/"),
                    like + "\x00",
                    like + "\ud800",
                    {"value": like},
                    [like],
                ]
            )
        )
    if choice == 8:
        return draw(st.dates().map(lambda d: d.isoformat()))
    return draw(st.sampled_from([{}, [], [None], {"": None}, {"value": None}]))


ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _similar(like: Any) -> st.SearchStrategy[Any]:
    """A value of the same kind that may well pass validation (so that deeper code runs)."""
    from datetime import date

    if isinstance(like, bool):
        return st.sampled_from([True, False, None])
    if isinstance(like, int):
        return st.integers(min_value=0, max_value=max(10, abs(like) * 3))
    if isinstance(like, float):
        return st.floats(min_value=0, max_value=max(10.0, abs(like) * 3), allow_nan=False)
    if isinstance(like, str) and ISO_DAY.match(like):
        return st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31)).map(date.isoformat)
    if isinstance(like, str):
        return st.sampled_from([like, like.lower(), "", "unknown", "positive", "negative", "ck", "U/L"])
    return st.sampled_from([None, like])


@st.composite
def _random_path(draw: st.DrawFn, doc: Any) -> tuple[Any, ...]:
    """A path into `doc` found by walking down from the root (each step continues with probability 4/5),
    so that deep places (a Bundle's entry[7].resource.valueQuantity.value) are reached as often as the root."""
    path: list[Any] = []
    node = doc
    while isinstance(node, dict | list) and node and draw(st.integers(0, 4)) != 0:
        keys = list(node) if isinstance(node, dict) else range(len(node))
        key = keys[draw(st.integers(0, len(keys) - 1))]
        path.append(key)
        node = node[key]
    return tuple(path)


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        doc = doc[k]
    return doc


_KEYS: dict[int, tuple[Sequence[Any], list[str]]] = {}  # id -> (the seeds, kept alive; their keys)


def _keys(seeds: Sequence[Any]) -> list[str]:
    """Every key used anywhere in the seeds (for 'a known key in the wrong place')."""
    cached = _KEYS.get(id(seeds))
    found = cached[1] if cached is not None else None
    if found is None:
        names: set[str] = set()
        stack = list(seeds)
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                names.update(k for k in node if isinstance(k, str))
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        found = sorted(names)
        _KEYS[id(seeds)] = (seeds, found)
    return found


def _misspell(key: str, draw: st.DrawFn) -> str:
    if not key:
        return "x"
    i = draw(st.integers(0, len(key) - 1))
    how = draw(st.integers(0, 4))
    if how == 0:
        return key[:i] + key[i + 1 :]
    if how == 1:
        return key[:i] + key[i] + key[i:]
    if how == 2:
        return key.replace("_", "")
    if how == 3:
        return key.upper()
    return key + "s"


DEEP = re.compile(r"""["']?__DEEP_(\d+)_(list|dict)__["']?""")


def _deep(depth: int, as_dict: bool) -> str:
    """A placeholder for a value nested `depth` levels deep, written out by `encoded` (Python's own
    json and repr would recurse too deeply on the real thing)."""
    return f"__DEEP_{depth}_{'dict' if as_dict else 'list'}__"


def _deep_text(m: re.Match[str]) -> str:
    depth, kind = int(m.group(1)), m.group(2)
    return '{"a": ' * depth + "1" + "}" * depth if kind == "dict" else "[" * depth + "1" + "]" * depth


GROWING = ("blow up", "huge string")
OPS = (
    "replace",
    "replace",
    "replace",
    "delete",
    "add_key",
    "misspell_key",
    "wrap",
    "blow_up",
    "deep",
    "duplicate_item",
    "huge_string",
    "empty",
    "type_of_parent",
)


@st.composite
def mutate_once(draw: st.DrawFn, doc: Any, keys: Sequence[str] = ("id",)) -> tuple[Any, str]:
    """One mutation of `doc` (in place where possible); returns the new document and what was done."""
    path = draw(_random_path(doc))
    op = draw(st.sampled_from(OPS))
    target = _get(doc, path)
    where = ".".join(str(p) for p in path) or "(root)"

    def put(value: Any) -> Any:
        if not path:
            return value
        parent = _get(doc, path[:-1])
        parent[path[-1]] = value
        return doc

    if op == "replace":
        return put(draw(nasty_scalar(target))), f"replace {where}"
    if op == "delete" and path:
        parent = _get(doc, path[:-1])
        del parent[path[-1]]
        return doc, f"delete {where}"
    if op in ("add_key", "misspell_key") and isinstance(target, dict):
        if op == "misspell_key" and target:
            key = draw(st.sampled_from(list(target)))
            target[_misspell(str(key), draw)] = target.pop(key)
            return doc, f"misspell {where}.{key}"
        new = draw(
            st.one_of(
                st.sampled_from(NASTY_STRINGS[:20]),
                st.sampled_from(list(keys) or ["id"]),
                st.text(max_size=12),
            )
        )
        target[new] = draw(nasty_scalar())
        return doc, f"add key {where}.{new!r}"
    if op == "wrap":
        return put(draw(st.sampled_from([[target], {"value": target}]))), f"wrap {where}"
    if op == "blow_up":
        # 10,000 rows, or fewer when the rows are big: the document stays under about 5 MB
        items = target if isinstance(target, list) and target else [target]
        try:
            size = max(1, len(json.dumps(items, default=str)) // len(items))
        except (RecursionError, ValueError):
            size = 1000
        n = max(len(items), min(BIG, 5_000_000 // size))
        return put([items[i % len(items)] for i in range(n)]), f"blow up {where} to {n} rows"
    if op == "deep":
        depth = draw(st.sampled_from([50, 99, 100, 101, 500, 3000]))
        return put(_deep(depth, draw(st.booleans()))), f"nest {where} {depth} deep"
    if op == "duplicate_item" and isinstance(target, list) and target:
        target.append(copy.deepcopy(target[-1]))
        return doc, f"duplicate last item of {where}"
    if op == "huge_string":
        return put(
            draw(st.sampled_from(["x" * 1_000_000, "é" * 200_000, "\n" * 100_000]))
        ), f"huge string {where}"
    if op == "empty":
        return put(draw(st.sampled_from([{}, [], "", None]))), f"empty {where}"
    if op == "type_of_parent" and isinstance(target, dict):
        return put(list(target.values())), f"dict to list {where}"
    if op == "type_of_parent" and isinstance(target, list):
        return put({str(i): v for i, v in enumerate(target)}), f"list to dict {where}"
    return put(draw(nasty_scalar(target))), f"replace {where}"


_FROZEN: dict[int, tuple[Sequence[Any], list[str]]] = {}  # id -> (the seeds, kept alive; as JSON)


def _frozen(seeds: Sequence[Any]) -> list[str]:
    """The seeds as JSON text (copied by parsing: many times faster than copy.deepcopy). Pass the same
    sequence object each time (a cached tuple): the cache is keyed by its identity."""
    cached = _FROZEN.get(id(seeds))
    if cached is None:
        cached = _FROZEN[id(seeds)] = (seeds, [json.dumps(s) for s in seeds])
    return cached[1]


@st.composite
def documents(draw: st.DrawFn, seeds: Sequence[Any], max_ops: int = 4) -> tuple[Any, list[str]]:
    """(document, mutations applied): a real seed mutated 0 to `max_ops` times."""
    doc = json.loads(_frozen(seeds)[draw(st.integers(0, len(seeds) - 1))])  # a fresh copy, fast
    keys = _keys(seeds)
    done: list[str] = []
    for _ in range(draw(st.sampled_from([0, 0, *range(1, max_ops + 1)]))):
        doc, what = draw(mutate_once(doc, keys))
        done.append(what)
        if what.startswith(GROWING):
            break  # the last change: blown-up rows share their items, so a later change would multiply
    return doc, done


# ------------------------------------------------------------------ text-level damage

ALIAS_BOMB = (
    'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
)
TAGS = (
    "!!timestamp 2024-01-01",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system",
    "!local x",
    "!!float 1e999",
    "!!int 0x7fffffffffffffffffff",
    "!!str 12",
)
TEXT_OPS = (
    *(["none"] * 12),
    "truncate",
    "duplicate_key",
    "tag",
    "alias_bomb",
    "self_alias",
    "tabs",
    "bom",
    "invalid_utf8",
    "nul",
    "lone_surrogate",
    "big_int",
    "deep_brackets",
    "cr",
    "multi_document",
    "syntax_chars",
    "empty",
    "comment_only",
    "byte_flip",
)


def _dump_yaml(doc: Any) -> str:
    """Block YAML; a large document (a blown-up list) as flow YAML, written by the json module (PyYAML's
    own writer would take seconds per input)."""
    import yaml

    try:
        flow = json.dumps(doc, allow_nan=True, ensure_ascii=False)
    except (RecursionError, ValueError):
        flow = None
    if flow is not None and len(flow) > 200_000:
        return flow.replace("NaN", ".nan").replace("-Infinity", "-.inf").replace("Infinity", ".inf")
    try:
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True, width=10_000)
    except (yaml.YAMLError, UnicodeEncodeError, RecursionError, ValueError):
        return json.dumps(doc, allow_nan=True, ensure_ascii=True)


def _dump_json(doc: Any, ascii_only: bool) -> str:
    """Indented JSON, or compact for a large document (json's C writer only writes compact JSON)."""
    try:
        compact = json.dumps(doc, allow_nan=True, ensure_ascii=ascii_only)
        if len(compact) > 200_000:
            return compact
        return json.dumps(doc, allow_nan=True, ensure_ascii=ascii_only, indent=1)
    except (RecursionError, ValueError):
        return json.dumps(str(doc)[:1000])


@dataclass
class Encoded:
    content: bytes
    ext: str  # ".yaml", ".yml", ".json", or "" (no extension)
    notes: list[str]

    def show(self, limit: int = 600) -> str:
        text = self.content[:limit].decode("utf-8", "backslashreplace")
        more = f" ... ({len(self.content)} bytes)" if len(self.content) > limit else ""
        return f"[{self.ext or 'no extension'}; {'; '.join(self.notes) or 'unmutated'}]\n{text}{more}"


@st.composite
def encoded(draw: st.DrawFn, doc: Any, notes: list[str] | None = None, *, json_only: bool = False) -> Encoded:
    """The document written as YAML or JSON (under a matching or a wrong extension), maybe damaged."""
    as_json = json_only or draw(st.booleans())
    text = _dump_json(doc, draw(st.booleans())) if as_json else _dump_yaml(doc)
    ext = ".json" if as_json else ".yaml"
    if not json_only and draw(st.integers(0, 9)) == 0:
        ext = draw(st.sampled_from([".json", ".yaml", ".yml", "", ".txt", ".JSON"]))
    text = DEEP.sub(_deep_text, text)
    op = draw(st.sampled_from(TEXT_OPS))
    notes = [*(notes or []), f"{'json' if as_json else 'yaml'} text"]
    if op != "none":
        notes.append(op)
    raw: bytes | None = None
    if op == "truncate" and text:
        text = text[: draw(st.integers(0, len(text) - 1))]
    elif op == "duplicate_key":
        lines = text.splitlines()
        keyed = [i for i, line in enumerate(lines) if re.match(r'^\s*"?[\w.-]+"?\s*:', line)]
        if keyed:
            i = draw(st.sampled_from(keyed))
            lines.insert(i + 1, lines[i] if not as_json else lines[i].rstrip(",") + ",")
            text = "\n".join(lines)
    elif op == "tag":
        tag = draw(st.sampled_from(TAGS))
        text = (
            re.sub(r":( |$)", f": {tag} #", text, count=1, flags=re.M)
            if not as_json
            else f"x: {tag}\n" + text
        )
    elif op == "alias_bomb":
        text = ALIAS_BOMB + ("\n" + text if not as_json else "")
    elif op == "self_alias":
        text = "a: &a [*a]\n" + (text if not as_json else "")
    elif op == "tabs":
        text = re.sub(r"^ +", "\t", text, count=3, flags=re.M)
    elif op == "bom":
        text = "\ufeff" + text
    elif op == "invalid_utf8":
        data = text.encode("utf-8", "surrogatepass")
        at = draw(st.integers(0, len(data)))
        bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]))
        raw = data[:at] + bad + data[at:]
    elif op == "nul":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + "\x00" + text[at:]
    elif op == "lone_surrogate":
        text = text.replace('"', '"\\ud800', 1) if as_json else text.replace(": ", ': "\\ud800"  #', 1)
    elif op == "big_int":
        text = re.sub(r"(?<![\w.])\d+(?![\w.])", "9" * 5000, text, count=1)
    elif op == "deep_brackets":
        n = draw(st.sampled_from([101, 1000, 100_000]))
        text = "[" * n + "]" * n if draw(st.booleans()) else "a: " + "{a: " * n + "1" + "}" * n
    elif op == "cr":
        text = text.replace("\n", draw(st.sampled_from(["\r", "\r\n", "\u2028", "\x85"])))
    elif op == "multi_document":
        text = text + "\n---\n" + text if not as_json else text + "\n" + text
    elif op == "syntax_chars" and text:
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at] + draw(st.text(alphabet=":-[]{}&*!|>'\"%@`#,?\n ", min_size=1, max_size=6)) + text[at:]
        )
    elif op == "empty":
        text = draw(st.sampled_from(["", " ", "\n\n", "---", "...", "null", "[]", "{}", "0", '""']))
    elif op == "comment_only":
        text = "# nothing here\n"
    elif op == "byte_flip" and text:
        data = bytearray(text.encode("utf-8", "surrogatepass"))
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
        raw = bytes(data)
    if raw is None:
        raw = text.encode("utf-8", "surrogatepass")
    return Encoded(raw, ext, notes)


@st.composite
def files(draw: st.DrawFn, seeds: Sequence[Any], *, json_only: bool = False, max_ops: int = 4) -> Encoded:
    doc, notes = draw(documents(seeds, max_ops=max_ops))
    out = draw(encoded(doc, notes, json_only=json_only))
    # a blow-up of a blown-up string can reach hundreds of MB (seen in make fuzz): the limits refuse files
    # over 32 MB before reading them, so such inputs only cost the generator time
    assume(len(out.content) < 40_000_000)
    return out
