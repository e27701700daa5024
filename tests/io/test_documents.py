"""Reading YAML and JSON documents: every malformed input is a clear `InputError` (exit 2 at the CLI),
never a silent replacement, a traceback or a value that breaks later steps.

Line numbers below are counted by hand from the literal texts (first line = 1).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from imnm.errors import InputError
from imnm.io.yaml import MAX_ALIAS_NODES, MAX_DEPTH, load_yaml_text, read_document


def problems_of(fn, *args):  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as info:
        fn(*args)
    return info.value.problems


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ------------------------------------------------------------------ item 9: duplicate keys

YAML_TWO_LABS = """\
id: dup
labs:
  - {test: ck, value: 7000, unit: U/L, uln: 200}
sex: female
labs:
  - {test: ck, value: 9000, unit: U/L, uln: 200}
"""


def test_yaml_duplicate_key_names_the_key_and_both_lines(tmp_path: Path) -> None:
    (p,) = problems_of(read_document, write(tmp_path, "r.yaml", YAML_TWO_LABS))
    assert "'labs'" in p.message
    assert "line 2" in p.message and "line 5" in p.message
    assert p.path == "line 5"


def test_yaml_duplicate_nested_key_and_several_duplicates() -> None:
    text = "id: x\nfindings:\n  dysphagia: true\n  myalgia: false\n  dysphagia: false\nid: y\n"
    problems = problems_of(load_yaml_text, text)
    got = {(p.message.split("'")[1], p.path) for p in problems}
    assert got == {("dysphagia", "line 5"), ("id", "line 6")}
    by_key = {p.message.split("'")[1]: p.message for p in problems}
    assert "line 3" in by_key["dysphagia"] and "line 1" in by_key["id"]


def test_yaml_flow_mapping_duplicate() -> None:
    (p,) = problems_of(load_yaml_text, "a: 1\nb: {c: 1,\n    c: 2}\n")
    assert "'c'" in p.message and "line 2" in p.message and "line 3" in p.message


def test_yaml_merge_keys_are_not_duplicates() -> None:
    assert load_yaml_text("base: &b {x: 1}\nother:\n  <<: *b\n  x: 2\n") == {
        "base": {"x": 1},
        "other": {"x": 2},
    }


JSON_TWO_LABS = """{
  "id": "dup",
  "labs": [{"test": "ck", "value": 7000, "unit": "U/L", "uln": 200}],
  "findings": {"dysphagia": true,
               "dysphagia": false},
  "labs": []
}
"""


def test_json_duplicate_keys_name_the_key_and_both_lines(tmp_path: Path) -> None:
    problems = problems_of(read_document, write(tmp_path, "r.json", JSON_TWO_LABS))
    msgs = {p.message.split("'")[1]: p for p in problems}
    assert set(msgs) == {"labs", "dysphagia"}
    assert "line 3" in msgs["labs"].message and "line 6" in msgs["labs"].message
    assert msgs["labs"].path == "line 6"
    assert "line 4" in msgs["dysphagia"].message and "line 5" in msgs["dysphagia"].message


def test_json_duplicate_line_numbers_with_tricky_strings(tmp_path: Path) -> None:
    # a key-like text inside a string value and an escaped key must not confuse the line count
    text = '{"a": "\\"a\\": {\\n",\n "b": 1,\n "\\u0061": 2}\n'
    (p,) = problems_of(read_document, write(tmp_path, "r.json", text))
    assert "'a'" in p.message and "line 1" in p.message and "line 3" in p.message


# ------------------------------------------------------------------ item 22: file-level messages


def test_tabs_in_yaml_say_indent_with_spaces(tmp_path: Path) -> None:
    (p,) = problems_of(read_document, write(tmp_path, "r.yaml", "id: x\nfindings:\n\tdysphagia: true\n"))
    assert "indent with spaces, not tabs (line 3)" in p.message


def test_empty_file_says_so(tmp_path: Path) -> None:
    for name in ("r.yaml", "r.json"):
        (p,) = problems_of(read_document, write(tmp_path, name, "  \n\n"))
        assert "the file is empty" in p.message


def test_yaml_in_a_json_file_says_so(tmp_path: Path) -> None:
    (p,) = problems_of(read_document, write(tmp_path, "r.json", "id: x\nsex: female\n"))
    assert "this .json file holds YAML" in p.message
    assert "rename it .yaml or write JSON" in (p.message + " " + (p.fix or ""))


def test_broken_json_that_is_not_yaml_either_keeps_the_json_position(tmp_path: Path) -> None:
    (p,) = problems_of(read_document, write(tmp_path, "r.json", '{"id": "x",\n "sex": }\n'))
    assert "not valid JSON" in p.message and p.path.startswith("line 2")


# ------------------------------------------------------------------ item 24: fuzzing classes


def test_lone_surrogate_in_json_string_is_refused(tmp_path: Path) -> None:
    (p,) = problems_of(read_document, write(tmp_path, "r.json", '{"id": "x\\ud800y"}'))
    assert p.path == "id" and "surrogate" in p.message
    # a proper pair is one character and is fine
    assert read_document(write(tmp_path, "ok.json", '{"id": "\\ud83d\\ude00"}')) == {"id": "😀"}


def test_lone_surrogate_in_a_key(tmp_path: Path) -> None:
    (p,) = problems_of(read_document, write(tmp_path, "r.json", '{"f": {"\\udc00": 1}}'))
    assert p.path.startswith("f") and "surrogate" in p.message


@pytest.mark.parametrize("name", ["r.json", "r.yaml"])
def test_deep_nesting_is_refused_with_the_documented_limit(tmp_path: Path, name: str) -> None:
    for depth in (MAX_DEPTH + 1, 5000):
        text = "[" * depth + "]" * depth
        (p,) = problems_of(read_document, write(tmp_path, name, text))
        assert f"more than {MAX_DEPTH} levels" in p.message
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert read_document(write(tmp_path, name, ok)) is not None


@pytest.mark.parametrize("name", ["r.json", "r.yaml"])
def test_integers_over_4300_digits(tmp_path: Path, name: str) -> None:
    digits = "9" * 5000
    text = (
        f'{{"id": "x",\n "age_at_onset": {digits}}}'
        if name.endswith("json")
        else f"id: x\nage_at_onset: {digits}\n"
    )
    (p,) = problems_of(read_document, write(tmp_path, name, text))
    assert "4300 digits" in p.message and "line 2" in p.path


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("id: x\nbirth_date: !!timestamp 2020-01-01\n", "!!timestamp"),
        ("id: x\nbirth_date: !!python/object:os.system {}\n", "!!python/object:os.system"),
        ("id: !!binary aGVsbG8=\n", "!!binary"),
        ("id: x\nlabs: !!set {a, b}\n", "!!set"),
        ("id: x\nlabs: !!omap [a: 1]\n", "!!omap"),
        ("id: !local x\n", "!local"),
    ],
)
def test_explicit_tags_outside_the_core_schema_are_refused(text: str, tag: str) -> None:
    (p,) = problems_of(load_yaml_text, text)
    assert tag in p.message and p.path.startswith("line ")


def test_core_schema_tags_are_fine() -> None:
    assert load_yaml_text("a: !!str 2024-01-01\nb: !!int '3'\nc: !!float 1\nd: !!bool yes\n") == {
        "a": "2024-01-01",
        "b": 3,
        "c": 1.0,
        "d": True,
    }


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join(f"*a{i - 1}" for _ in range(10))
        lines.append(f"a{i}: &a{i} [{refs}]")
    (p,) = problems_of(load_yaml_text, "\n".join(lines) + "\n")
    assert "alias" in p.message and f"{MAX_ALIAS_NODES:,}" in p.message


def test_recursive_alias_is_refused() -> None:
    (p,) = problems_of(load_yaml_text, "a: &a [1, *a]\n")
    assert "itself" in p.message


def test_a_few_aliases_are_fine() -> None:
    assert load_yaml_text("x: &w {a: 1}\ny: *w\nz: [*w, *w]\n") == {
        "x": {"a": 1},
        "y": {"a": 1},
        "z": [{"a": 1}, {"a": 1}],
    }


@pytest.mark.parametrize(
    ("name", "text", "path"),
    [
        ("r.yaml", "id: x\nlabs:\n  - {test: ck, value: .inf, unit: U/L}\n", "labs[0].value"),
        ("r.yaml", "id: x\nage_at_onset: .nan\n", "age_at_onset"),
        ("r.yaml", "id: x\nweight_kg: 1.0e+999\n", "weight_kg"),
        ("r.json", '{"id": "x", "labs": [{"test": "ck", "value": 1, "uln": Infinity}]}', "labs[0].uln"),
        ("r.json", '{"id": "x", "labs": [{"value": NaN}]}', "labs[0].value"),
        ("r.json", '{"id": "x", "weight_kg": -1e400}', "weight_kg"),
    ],
)
def test_non_finite_numbers_are_refused_anywhere(tmp_path: Path, name: str, text: str, path: str) -> None:
    (p,) = problems_of(read_document, write(tmp_path, name, text))
    assert p.path == path and "finite" in p.message
    assert isinstance(p.value, str)  # the value is shown as text so JSON output stays valid


def test_ordinary_documents_still_read_the_same(tmp_path: Path) -> None:
    data = {"id": "x", "labs": [{"test": "ck", "value": 7000.5, "unit": "U/L"}], "n": None, "b": [True]}
    assert read_document(write(tmp_path, "r.json", json.dumps(data))) == data
    y = read_document(write(tmp_path, "r.yaml", "id: x\nd: 2024-01-10\nf: 1.5\n"))
    assert y == {"id": "x", "d": "2024-01-10", "f": 1.5}
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in y.values())
