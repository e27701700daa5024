"""Fuzzing OMOP CDM rows: a small synthetic OMOP folder (CSV tables, `imnm cohort synth`) with one table
damaged per input (a cell replaced by a wrong type, a nasty string or date, NaN, a huge number; a column
dropped, renamed or duplicated; rows blown up to 10,000; invalid UTF-8; truncated or empty files; a table
missing), read by `imnm cohort record` (one person as a record) and `imnm cohort cases` (case finding),
in process. Same properties as every CLI input (tests/fuzz/harness.py): exit 0 or 2, never a traceback;
`--json` output valid JSON; on exit 2 a problem naming the place; 2 s CPU / 500 MB.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import check_cli, fuzz_settings
from tests.fuzz.mutate import NASTY_DATES, NASTY_STRINGS

PERSONS = 20


@pytest.fixture(scope="module")
def omop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from imnm.adapters.omop.synth import generate

    out = tmp_path_factory.mktemp("fuzz-omop") / "seed"
    generate(out, persons=PERSONS, seed=5, fmt="csv")
    return out


TABLE_OPS = (
    "cell",
    "cell",
    "cell",
    "drop_column",
    "rename_column",
    "duplicate_column",
    "blow_up",
    "invalid_utf8",
    "truncate",
    "empty",
    "header_only",
    "missing",
    "extra_column",
    "quote",
)
NUMBERS = ("nan", "NaN", "inf", "-inf", "1e309", "-1", "0", "9" * 40, "1.5", "", "NULL", "0x1F", "١٢")


@st.composite
def damaged(draw: st.DrawFn, seed: Path) -> tuple[dict[str, bytes | None], str]:
    """{table file: new content (None: removed)} and a description."""
    tables = sorted(p.name for p in seed.glob("*.csv"))
    name = draw(st.sampled_from(tables))
    text = (seed / name).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    op = draw(st.sampled_from(TABLE_OPS))
    what = f"{name}: {op}"
    if op == "cell" and body:
        r = draw(st.integers(0, len(body) - 1))
        c = draw(st.integers(0, len(header) - 1))
        value = draw(
            st.one_of(
                st.sampled_from(NUMBERS),
                st.sampled_from(NASTY_STRINGS),
                st.sampled_from(NASTY_DATES),
                st.text(max_size=30),
            )
        )
        body[r][c] = value
        what += f" row {r + 1} {header[c]} = {value[:80]!r}"
    elif op == "drop_column":
        c = draw(st.integers(0, len(header) - 1))
        what += f" {header[c]}"
        header = header[:c] + header[c + 1 :]
        body = [row[:c] + row[c + 1 :] for row in body]
    elif op == "rename_column":
        c = draw(st.integers(0, len(header) - 1))
        header[c] = draw(st.sampled_from(["", "x", header[c].upper(), header[c] + " ", "person_id"]))
    elif op == "duplicate_column":
        c = draw(st.integers(0, len(header) - 1))
        header.append(header[c])
        body = [[*row, row[c] if c < len(row) else ""] for row in body]
    elif op == "blow_up" and body:
        body = [body[i % len(body)] for i in range(10_000)]
    elif op == "extra_column":
        header.append("surprise")
        body = [[*row, draw(st.sampled_from(NASTY_STRINGS[:10]))] for row in body]
    elif op == "missing":
        return {name: None}, what
    elif op == "empty":
        return {name: b""}, what
    elif op == "header_only":
        body = []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    data = out.getvalue().encode("utf-8", "surrogatepass")
    if op == "invalid_utf8":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\x80"])) + data[at:]
    elif op == "truncate" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif op == "quote" and data:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b'"' + data[at:]
    return {name: data}, what


@fuzz_settings("omop")
@given(data=st.data(), cmd=st.sampled_from(["record", "record", "cases"]), as_json=st.booleans())
def test_omop_rows(
    omop: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, cmd: str, as_json: bool
) -> None:
    changes, what = data.draw(damaged(omop))
    folder = tmp_path_factory.mktemp("omop-input")
    shutil.copytree(omop, folder, dirs_exist_ok=True)
    for name, content in changes.items():
        if content is None:
            (folder / name).unlink()
        else:
            (folder / name).write_bytes(content)
    if cmd == "record":
        person = data.draw(st.sampled_from(["1", "7", str(PERSONS), "0", "-1", "99999999999"]))
        argv = ["cohort", "record", str(folder), person, "--as-of", "2026-01-01"]
    else:
        argv = ["cohort", "cases", str(folder)]
    argv += ["--json"] if as_json else []
    blob = next(iter(changes.values())) or b""
    try:
        check_cli("omop", argv, shown=what, blob=blob)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
