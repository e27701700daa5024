"""YAML and JSON reading with one behaviour: plain data, or an `InputError` naming the place and the fix.

What is refused, and why (each a documented limit; the CLI turns the error into exit code 2):

- **Duplicate mapping keys** (YAML and JSON): a second `labs:` would silently replace the first.
  The error names the key and both line numbers.
- **Explicit YAML tags outside the core schema** (`!!timestamp`, `!!binary`, `!!set`, `!!omap`,
  `!!python/...`, local `!tags`): only `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!map`, `!!seq`
  (and merge keys `<<`) build plain data. Timestamps are not resolved implicitly either, so every
  date stays an ISO string until the models check it in one place (`imnm.types.IsoDate`).
- **Alias bombs**: a document whose aliases expand to more than `MAX_ALIAS_NODES` nodes, or an alias
  that refers to itself (a recursive structure).
- **Files over `MAX_FILE_BYTES`** (32 MB), before they are read.
- **JSON documents of more than `MAX_JSON_CONTAINERS` lists and mappings** (250,000), counted before
  they are parsed.
- **YAML documents of more than `MAX_YAML_NODES` values** (keys, values and containers): PyYAML builds
  about 200,000 values a second, so a bigger document would keep a command busy for seconds (a
  10,000-row list of labs is about 110,000); JSON, which Python reads a hundred times faster, has no
  such limit.
- **Nesting deeper than `MAX_DEPTH` levels** (no record, answers file, rule or catalog file needs
  more than a dozen; deeper input only exhausts the parsers' recursion).
- **Integers with more than 4300 digits** (Python's limit for reading integers from text).
- **NaN and infinity** anywhere (`.nan`, `.inf`, `1e999`, JSON `NaN` / `Infinity`): no value is a
  measurement, and they break comparisons and JSON output downstream.
- **Lone surrogates** in JSON strings (`"\\ud800"`): not a character; they cannot be printed or saved.

Helpful messages: tabs used for indentation ("indent with spaces, not tabs (line N)"), an empty file
("the file is empty") and YAML inside a `.json` file ("this .json file holds YAML ..."). A UTF-8 byte-order mark at the start of a file is ignored. Files
are read by `read_text` (not found, a folder, not UTF-8 and unreadable files are problems too).

The C loader is used when available (it is several times faster).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imnm.errors import InputError, Problem

MAX_DEPTH = 100
"""Deepest nesting of lists and mappings accepted in a document (documented limit)."""
MAX_ALIAS_NODES = 100_000
"""Most nodes a YAML document may expand to through its aliases (documented limit)."""
MAX_FILE_BYTES = 32_000_000
"""Largest input file read (a patient's record or FHIR data is a few MB; documented limit). Parsed, a
file takes several times its size in memory, and no input may take more than 500 MB."""
MAX_YAML_NODES = 200_000
"""Most values (keys, scalars, lists, mappings) a YAML document may hold (documented limit)."""
MAX_INT_DIGITS = 4300
"""Python's default limit for converting text to an integer (`sys.get_int_max_str_digits`)."""
_MAX_PROBLEMS = 50

try:
    _Base: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Base = yaml.SafeLoader

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "merge"))
_SURROGATE = re.compile("[\ud800-\udfff]")


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


class _Refused(yaml.MarkedYAMLError):
    """A construct we refuse (tag, alias bomb, huge integer), with the place it starts."""


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """Safe loader: core-schema tags only, no timestamps, duplicate keys recorded, aliases bounded."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int, int]] = []  # (key, first line, second line)
        self.may_alias = "*" in stream
        self.nonfinite = False  # a NaN or infinity was read (found and placed by `_check_values`)

    def construct_document(self, node: Node) -> Any:
        if self.may_alias:
            _check_aliases(node)
        return super().construct_document(node)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        if node.tag not in _ALLOWED_TAGS:
            raise _Refused(
                None,
                None,
                f"the tag {_show_tag(node.tag)} is not accepted (only plain YAML values are)",
                node.start_mark,
            )
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[object, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _CORE + "merge":
                continue
            key = self.construct_object(key_node)
            try:
                line = first.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:  # unhashable: the base class reports it
                continue
            if line != key_node.start_mark.line + 1:
                self.duplicates.append((str(key), line, key_node.start_mark.line + 1))
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

    def construct_yaml_int(self, node: ScalarNode) -> int:
        digits = sum(ch.isdigit() for ch in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise _Refused(None, None, _too_many_digits(digits), node.start_mark)
        return super().construct_yaml_int(node)  # type: ignore[no-any-return]

    def construct_yaml_float(self, node: ScalarNode) -> float:
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            self.nonfinite = True
        return value  # type: ignore[no-any-return]


_Loader.add_constructor(_CORE + "int", _Loader.construct_yaml_int)
_Loader.add_constructor(_CORE + "float", _Loader.construct_yaml_float)
# No implicit timestamps (dates stay text) and no `=` value tag (a plain `=` is text).
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_CORE + "timestamp", _CORE + "value")]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


def _too_many_digits(n: int) -> str:
    return f"a number with {n} digits; numbers may have at most {MAX_INT_DIGITS} digits"


_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent, yaml.AliasEvent)


def _check_size(text: str) -> None:
    """Refuse a document of more than `MAX_YAML_NODES` values before any node is built: the parser's
    events are counted (about five times cheaper than building the nodes, and it stops at the limit)."""
    loader = _Base(text)
    try:
        n = 0
        get: Any = loader.get_event
        node_events = _NODE_EVENTS
        while True:
            event: Any = get()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return
            if isinstance(event, node_events):
                n += 1
                if n > MAX_YAML_NODES:
                    mark: Any = event.start_mark
                    raise _Refused(
                        None,
                        None,
                        f"the document holds more than {MAX_YAML_NODES:,} values (a documented limit for "
                        "YAML)",
                        mark,
                    )
    finally:
        loader.dispose()


def _check_aliases(root: Node) -> None:
    """Refuse recursive aliases and documents that aliases expand beyond `MAX_ALIAS_NODES` nodes."""
    size: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        kids: list[Node] = []
        if isinstance(node, SequenceNode):
            kids = list(node.value)
        elif isinstance(node, MappingNode):
            kids = [n for pair in node.value for n in pair]
        if done:
            active.discard(key)
            total = 1 + sum(size[id(k)] for k in kids)
            if total > MAX_ALIAS_NODES:
                raise _Refused(
                    None,
                    None,
                    f"the aliases (*name) expand this document to more than {MAX_ALIAS_NODES:,} values",
                    node.start_mark,
                )
            size[key] = total
            continue
        if key in size:
            continue
        if key in active:
            raise _Refused(None, None, "an alias (*name) refers to itself", node.start_mark)
        active.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in size)


def _file_problem(where: str, message: str, fix: str | None, file: str | None) -> InputError:
    return InputError([Problem(where, message, fix, file=file)], what=file or "input")


def _tab_lines(text: str) -> list[int]:
    return [
        i
        for i, line in enumerate(text.splitlines(), start=1)
        if "\t" in line[: len(line) - len(line.lstrip())]
    ]


def load_yaml_text(text: str, *, file: str | None = None) -> Any:
    """Parse YAML (or JSON, which is YAML) text into plain data; every refusal is an `InputError`."""
    import gc

    text = text.removeprefix("\ufeff")
    if len(text) > 100_000 and text.lstrip()[:1] in ("{", "["):
        # a big JSON-looking document (a catalog or record written as JSON under .yaml): Python reads JSON
        # a hundred times faster than PyYAML builds it; flow YAML that is not JSON falls through to YAML
        try:
            return load_json_text(text, file=file)
        except InputError as exc:
            if not any("not valid JSON" in p.message for p in exc.problems):
                raise  # valid JSON refused for what it holds (duplicate keys, depth, size): the answer
    loader = _Loader(text)
    collecting = gc.isenabled()
    try:
        # Building values creates no reference cycles; without this, the cyclic collector runs over the
        # growing tree again and again (three quarters of the time on a large document).
        gc.disable()
        if len(text) > 100_000:  # a small text cannot hold MAX_YAML_NODES values
            _check_size(text)
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        if text.lstrip()[:1] in ("{", "[") and not isinstance(exc, _Refused):
            # JSON is YAML, but PyYAML (YAML 1.1) refuses some JSON, such as the escaped surrogate pairs
            # of `json.dumps` ("\ud83d\udfe1"): read JSON-looking text as JSON before giving up
            try:
                return load_json_text(text, file=file)
            except InputError:
                pass
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        where = f"line {line}, column {mark.column + 1}" if mark else ""
        problem = str(exc.problem)
        tabs = [n for n in _tab_lines(text) if line is None or n <= line]
        if tabs and not isinstance(exc, _Refused):
            n = tabs[0]
            raise _file_problem(
                f"line {n}",
                f"indent with spaces, not tabs (line {n})",
                "replace the tab characters at the start of the line with spaces",
                file,
            ) from None
        if isinstance(exc, _Refused):
            fix = "remove the tag and write a plain value (dates as YYYY-MM-DD)" if "tag" in problem else None
            if "values (a documented limit" in problem:
                fix = "split the document, or write it as JSON"
            raise _file_problem(f"line {line}" if line else "", problem, fix, file) from None
        if "maximum nesting depth" in problem:
            raise _file_problem(where, _too_deep(), _DEPTH_FIX, file) from None
        raise _file_problem(
            where, f"not valid YAML: {problem}", "check indentation and quoting near that line", file
        ) from None
    except yaml.YAMLError as exc:
        raise _file_problem("", f"not valid YAML: {exc}", None, file) from None
    finally:
        if collecting:
            gc.enable()
        loader.dispose()
    if loader.duplicates:
        raise InputError([_duplicate(k, a, b, file) for k, a, b in loader.duplicates], what=file or "input")
    _check_values(data, file, suspicious=loader.nonfinite or _has_surrogate_escape(text))
    return data


def _duplicate(key: str, first: int, second: int, file: str | None) -> Problem:
    return Problem(
        f"line {second}",
        f"duplicate key {key!r} (first on line {first}, again on line {second}); "
        "the second would silently replace the first",
        f"keep one {key!r} and merge what is under the two",
        value=key,
        file=file,
    )


_DEPTH_FIX = "flatten the document; records, answers and rules need only a few levels"


def _too_deep() -> str:
    return f"the document is nested more than {MAX_DEPTH} levels deep"


def _dotted(path: tuple[object, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F][0-9a-fA-F]{2}")


def _has_surrogate_escape(text: str) -> bool:
    """Could the text hold a lone surrogate? Only an escape (\\ud800) can put one in parsed data."""
    return "\\" in text and _SURROGATE_ESCAPE.search(text) is not None


def _check_values(data: Any, file: str | None, *, suspicious: bool = True) -> None:
    """Depth, non-finite numbers and lone surrogates, anywhere in parsed data.

    The depth is checked level by level over the containers only (fast even for millions of values);
    the walk over every value, which names the place of each problem, runs only when the parser saw a
    NaN, an infinity or a surrogate escape (`suspicious`), or a level was too deep."""
    level = [data] if type(data) is dict or type(data) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            suspicious = True
            break
        below: list[Any] = []
        for c in level:
            below.extend(
                [v for v in (c.values() if type(c) is dict else c) if type(v) is dict or type(v) is list]
            )
        level = below
    if suspicious:
        _walk_values(data, file)


def _walk_values(data: Any, file: str | None) -> None:
    """Depth, non-finite numbers and lone surrogates, anywhere in parsed data (iterative), with places."""
    problems: list[Problem] = []
    stack: list[tuple[Any, tuple[object, ...]]] = [(data, ())]
    while stack and len(problems) < _MAX_PROBLEMS:
        value, path = stack.pop()
        if isinstance(value, dict | list):
            if len(path) >= MAX_DEPTH:
                raise _file_problem(_dotted(path[:3]) + "...", _too_deep(), _DEPTH_FIX, file)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for k, v in items:
                if isinstance(k, str) and _SURROGATE.search(k):
                    problems.append(_surrogate((*path, _printable(k)), k, file))
                    continue
                stack.append((v, (*path, k)))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(
                Problem(
                    _dotted(path),
                    f"{value} is not a finite number",
                    "write a plain number (NaN and infinity are not values)",
                    value=str(value),
                    file=file,
                )
            )
        elif isinstance(value, str) and _SURROGATE.search(value):
            problems.append(_surrogate(path, value, file))
    if problems:
        problems.sort(key=lambda p: p.path)
        raise InputError(problems, what=file or "input")


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _surrogate(path: tuple[object, ...], text: str, file: str | None) -> Problem:
    return Problem(
        _dotted(path),
        "the text holds a lone surrogate escape (such as \\ud800), which is not a character",
        "remove the escape or write the character itself",
        value=_printable(text),
        file=file,
    )


# ------------------------------------------------------------------ JSON


class _TooLong(Exception):
    def __init__(self, digits: str) -> None:
        self.digits = digits


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _TooLong(text)
    return int(text)


class _Pairs:
    """`object_pairs_hook` that notes duplicate keys (their lines are found afterwards), and the hooks
    that note a NaN or an infinity (placed afterwards by `_check_values`)."""

    def __init__(self) -> None:
        self.found = False
        self.nonfinite = False

    def constant(self, name: str) -> float:
        self.nonfinite = True
        return float(name)

    def number(self, text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            self.nonfinite = True
        return value

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) != len(pairs):
            self.found = True
        return out


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
MAX_JSON_CONTAINERS = 250_000
"""Most lists and mappings a JSON document may hold (documented limit): Python's JSON reader takes seconds
to build a million nested lists (10 MB), which the depth check would then refuse (found by make fuzz); a
10,000-resource FHIR Bundle holds about 100,000."""


def _containers(text: str) -> int:
    """Lists and mappings in JSON text, counted at C speed before it is parsed (brackets in strings
    are left out when the quick count is over the limit)."""
    n = text.count("[") + text.count("{")
    if n > MAX_JSON_CONTAINERS:
        bare = _JSON_STRING.sub("", text)
        n = bare.count("[") + bare.count("{")
    return n


def load_json_text(text: str, *, file: str | None = None) -> Any:
    """Parse JSON text into plain data with the same refusals as YAML (see the module docstring)."""
    text = text.removeprefix("\ufeff")
    if len(text) > 1_000_000 and (n := _containers(text)) > MAX_JSON_CONTAINERS:
        raise _file_problem(
            "",
            f"the document holds {n:,} lists and mappings; a JSON document may hold at most "
            f"{MAX_JSON_CONTAINERS:,} (a documented limit)",
            "split it (one patient per file; a bulk export as one NDJSON file per resource type)",
            file,
        )
    hook = _Pairs()
    try:
        data = json.loads(
            text,
            object_pairs_hook=hook,
            parse_int=_parse_int,
            parse_float=hook.number,
            parse_constant=hook.constant,
        )
    except json.JSONDecodeError as exc:
        raise _json_error(text, exc, file) from None
    except _TooLong as exc:
        line = text.count("\n", 0, max(text.find(exc.digits), 0)) + 1
        raise _file_problem(
            f"line {line}", _too_many_digits(len(exc.digits.lstrip("-"))), None, file
        ) from None
    except RecursionError:
        raise _file_problem("", _too_deep(), _DEPTH_FIX, file) from None
    # depth first: the duplicate search below recurses
    _check_values(data, file, suspicious=hook.nonfinite or _has_surrogate_escape(text))
    if hook.found:
        dups = _json_duplicates(text)
        raise InputError([_duplicate(k, a, b, file) for k, a, b in dups], what=file or "input")
    return data


def _json_error(text: str, exc: json.JSONDecodeError, file: str | None) -> InputError:
    """A JSON syntax error, or a note that the file holds YAML (looked for in files of up to 1 MB)."""
    stripped = text.lstrip()
    if stripped and stripped[0] not in '{["' and not stripped[0].isdigit() and len(text) <= 1_000_000:
        try:
            other = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError:
            other = None
        if isinstance(other, dict | list):
            return _file_problem(
                "",
                "this .json file holds YAML, not JSON",
                "rename it .yaml or write JSON",
                file,
            )
    return _file_problem(f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}", None, file)


_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|-?Infinity")


def _json_duplicates(text: str) -> list[tuple[str, int, int]]:
    """(key, first line, second line) of every duplicate key in valid JSON text (nesting ≤ MAX_DEPTH)."""
    from json.decoder import scanstring  # type: ignore[attr-defined]

    out: list[tuple[str, int, int]] = []

    def line(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def ws(pos: int) -> int:
        m = _WS.match(text, pos)
        return m.end() if m else pos

    def value(pos: int) -> int:
        pos = ws(pos)
        c = text[pos]
        if c == "{":
            seen: dict[str, int] = {}
            pos = ws(pos + 1)
            if text[pos] == "}":
                return pos + 1
            while True:
                start = ws(pos)
                key, pos = scanstring(text, start + 1)
                if key in seen:
                    out.append((key, line(seen[key]), line(start)))
                else:
                    seen[key] = start
                pos = ws(pos) + 1  # ':'
                pos = ws(value(pos))
                if text[pos] == "}":
                    return pos + 1
                pos += 1  # ','
        if c == "[":
            pos = ws(pos + 1)
            if text[pos] == "]":
                return pos + 1
            while True:
                pos = ws(value(pos))
                if text[pos] == "]":
                    return pos + 1
                pos += 1
        if c == '"':
            return int(scanstring(text, pos + 1)[1])
        m = _SCALAR.match(text, pos)
        return m.end() if m else pos + 1

    value(0)
    return out


# ------------------------------------------------------------------ files


def read_text(path: str | Path) -> str:
    """A text file's content (UTF-8), or an `InputError` naming the file and what is wrong with it.
    A file over `MAX_FILE_BYTES` is refused before it is read."""
    p = Path(path)
    name = str(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _file_problem(
                "",
                f"the file has {size:,} bytes; input files may have at most {MAX_FILE_BYTES:,} (a documented limit)",
                "split it (one patient per file; a bulk export as one NDJSON file per resource type)",
                name,
            )
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            [Problem("", "file not found", "check the path", value=name, file=name)], what=name
        ) from None
    except IsADirectoryError:
        raise _file_problem("", "is a folder, not a file", "name a .yaml or .json file", name) from None
    except UnicodeDecodeError as exc:
        raise _file_problem(
            "", f"not UTF-8 text (byte {exc.start} cannot be read as UTF-8)", "save the file as UTF-8", name
        ) from None
    except OSError as exc:
        raise _file_problem("", f"cannot be read ({exc.strerror or exc})", "check the path", name) from None


def read_document(path: str | Path) -> Any:
    """Read a `.yaml`/`.yml`/`.json` file into plain Python data, with clear errors."""
    p = Path(path)
    name = str(path)
    text = read_text(p)
    if not text.strip():
        raise _file_problem("", "the file is empty", "fill it in, or name another file", name)
    if p.suffix.lower() == ".json":
        return load_json_text(text, file=name)
    return load_yaml_text(text, file=name)
