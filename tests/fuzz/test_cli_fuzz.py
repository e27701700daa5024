"""Fuzzing every file and option the command line reads, in process (see tests/fuzz/harness.py for the
properties and budgets; tests/fuzz/test_subprocess_fuzz.py runs a few of the same inputs as real processes)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import EXAMPLES
from tests.fuzz import seeds
from tests.fuzz.harness import check_cli, fuzz_settings
from tests.fuzz.mutate import NASTY_DATES, NASTY_STRINGS, Encoded, encoded, files

AS_OF = "2026-11-25"
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
RECORD = str(EXAMPLES / "anti-hmgcr.yaml")
RULE_SEED = json.dumps(seeds.rules()[0])


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fuzz-cli")
    (d / "rule.json").write_text(RULE_SEED, encoding="utf-8")
    return d


def _write(work: Path, name: str, f: Encoded) -> Path:
    path = work / f"{name}{f.ext}"
    for old in work.glob(f"{name}*"):
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()
    path.write_bytes(f.content)
    return path


def _record_argv(cmd: str, f: str, work: Path) -> list[str]:
    return {
        "validate": ["validate", f],
        "facts": ["facts", f, "--as-of", AS_OF],
        "assess": ["assess", f, "--as-of", AS_OF],
        "assess_batch": ["assess", f, RECORD, "--as-of", AS_OF],
        "activity": ["activity", f],
        "response": ["response", f],
        "trials": ["trials", f, "--as-of", AS_OF],
        "rule": ["rule", str(work / "rule.json"), f, "--as-of", AS_OF],
        "fhir_record": ["fhir", "export", "record", f],
        "fhir_assessment": ["fhir", "export", "assessment", f, "--as-of", AS_OF],
    }[cmd]


RECORD_COMMANDS = st.sampled_from(
    [
        "validate",
        "facts",
        "assess",
        "assess_batch",
        "activity",
        "response",
        "trials",
        "rule",
        "fhir_record",
        "fhir_assessment",
    ]
)
NO_JSON_FLAG = ("fhir_record", "fhir_assessment")  # always JSON on stdout


def _record_case(kind: str, work: Path, f: Encoded, cmd: str, as_json: bool) -> None:
    path = _write(work, "record", f)
    argv = _record_argv(cmd, str(path), work)
    if as_json and cmd not in NO_JSON_FLAG:
        argv.append("--json")
    check_cli(kind, argv, shown=f.show(), blob=f.content, json_always=cmd in NO_JSON_FLAG)


@fuzz_settings("record_yaml")
@given(f=files(seeds.records()), cmd=RECORD_COMMANDS, as_json=st.booleans())
def test_record_files(work: Path, f: Encoded, cmd: str, as_json: bool) -> None:
    _record_case("record_yaml", work, f, cmd, as_json)


@fuzz_settings("record_json")
@given(f=files(seeds.records(), json_only=True), cmd=RECORD_COMMANDS, as_json=st.booleans())
def test_record_files_as_json(work: Path, f: Encoded, cmd: str, as_json: bool) -> None:
    _record_case("record_json", work, f, cmd, as_json)


SCREEN_FLAGS = st.sampled_from(
    [[], ["--explain"], ["--unknown-policy", "highest_possible"], ["--urgent-flags", "within_weeks"]]
)


@fuzz_settings("answers")
@given(f=files(seeds.answers()), flags=SCREEN_FLAGS, as_json=st.booleans())
def test_answers_files(work: Path, f: Encoded, flags: list[str], as_json: bool) -> None:
    path = _write(work, "answers", f)
    argv = ["screen", str(path), *flags] + (["--json"] if as_json else [])
    check_cli("answers", argv, shown=f.show(), blob=f.content)


VALID_REPLIES = st.sampled_from(
    ["1", "2", "y", "n", "?", "?", "", "self", "someone_else", "weeks", "never", "58", "200"]
)
REPLIES = st.one_of(
    VALID_REPLIES,
    VALID_REPLIES,
    VALID_REPLIES,
    VALID_REPLIES,
    st.sampled_from(
        [
            "y",
            "n",
            "?",
            "",
            "yes",
            "no",
            "back",
            "BACK",
            "dk",
            "not sure",
            "self",
            "someone_else",
            "weeks",
            "months",
            "current",
            "past",
            "never",
            "atorvastatin",
            "58",
            "58 years",
            "15000 U/L",
            "9.000",
            "9,000",
            "9,5",
            "-3",
            "1e999",
            "nan",
            "inf",
            "0",
            "200",
            "99999999999999999999999",
            "[/b]",
            "\x1b[2J",
            "\x00",
            "\x03",
        ]
    ),
    st.sampled_from(NASTY_STRINGS),
    st.text(max_size=20).filter(lambda s: "\n" not in s and "\r" not in s),
)


@fuzz_settings("interview")
@given(
    replies=st.lists(REPLIES, min_size=1, max_size=60),
    finish=st.booleans(),
    save=st.booleans(),
    as_json=st.booleans(),
)
def test_interview_replies(work: Path, replies: list[str], finish: bool, save: bool, as_json: bool) -> None:
    """The interview over standard input: any replies end in a result (0) or 'the input ended' (2).
    `finish`: then 'don't know' to every question left (so that most runs reach a result)."""
    replies = replies + (["?"] * 40 if finish else [])
    target = work / "saved.yaml"
    target.unlink(missing_ok=True)
    argv = ["screen"] + (["--save", str(target)] if save else []) + (["--json"] if as_json else [])
    stdin = "\n".join(replies) + ("\n" if replies else "")
    shown = "stdin replies: " + repr(replies)[:1500]
    out = check_cli("interview", argv, shown=shown, stdin=stdin, blob=stdin.encode("utf-8", "surrogatepass"))
    if save and out.code == 0:  # what was saved reads back and gives the same level
        again = check_cli("interview", ["screen", str(target), "--json"], shown=f"re-read of {shown}")
        if as_json and again.code == 0:
            assert json.loads(again.stdout)["level"] == json.loads(out.stdout)["level"]


@fuzz_settings("rule")
@given(f=files(seeds.rules()), record=st.sampled_from(sorted(EXAMPLES.glob("*.yaml"))), as_json=st.booleans())
def test_rule_files(work: Path, f: Encoded, record: Path, as_json: bool) -> None:
    path = _write(work, "rule", f)
    argv = ["rule", str(path), str(record), "--as-of", AS_OF] + (["--json"] if as_json else [])
    check_cli("rule", argv, shown=f.show(), blob=f.content)


@fuzz_settings("catalog")
@given(
    f=files(seeds.catalog_files()),
    how=st.sampled_from(["match_only", "match_added", "list_only", "match_trial"]),
    as_json=st.booleans(),
)
def test_catalog_files(work: Path, f: Encoded, how: str, as_json: bool) -> None:
    d = work / "catalog"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    ext = f.ext if f.ext in (".yaml", ".yml", ".json") else ".yaml"
    # a catalog file is named after its id (the loader checks it): use the id the text holds, if any
    found = re.search(rb'(?:^id: |"id": ")([A-Za-z0-9][\w.-]{0,60})', f.content, re.M)
    name = found.group(1).decode() if found else "NCT99999999"
    (d / f"{name}{ext}").write_bytes(f.content)
    argv = {
        "match_only": ["trials", RECORD, "--catalog", str(d), "--catalog-only", "--as-of", AS_OF],
        "match_added": ["trials", RECORD, "--catalog", str(d), "--as-of", AS_OF],
        "match_trial": ["trials", RECORD, "--catalog", str(d), "--trial", "NCT05523167", "--as-of", AS_OF],
        "list_only": ["trials", "list", "--catalog", str(d), "--catalog-only"],
    }[how] + (["--json"] if as_json else [])
    check_cli("catalog", argv, shown=f.show(), blob=f.content)


@fuzz_settings("reviews")
@given(f=files(seeds.reviews()), as_json=st.booleans(), trial=st.booleans())
def test_reviews_files(work: Path, f: Encoded, as_json: bool, trial: bool) -> None:
    path = _write(work, "reviews", f)
    argv = ["trials", RECORD, "--reviews", str(path), "--as-of", AS_OF]
    argv += (["--trial", "NCT05523167"] if trial else []) + (["--json"] if as_json else [])
    check_cli("reviews", argv, shown=f.show(), blob=f.content)


@fuzz_settings("ctgov")
@given(f=files(seeds.ctgov(), json_only=True), as_json=st.booleans())
def test_ctgov_records(work: Path, f: Encoded, as_json: bool) -> None:
    path = _write(work, "study", Encoded(f.content, ".json", f.notes))
    out = work / "draft.yaml"
    out.unlink(missing_ok=True)
    argv = ["trials", "import", str(path), "-o", str(out)] + (["--json"] if as_json else [])
    res = check_cli("ctgov", argv, shown=f.show(), blob=f.content)
    if res.code == 0 and out.exists():  # the draft it wrote loads as a catalog file
        d = work / "drafts"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
        shutil.copy(out, d / "draft.yaml")
        check_cli(
            "ctgov", ["trials", "list", "--catalog", str(d), "--catalog-only", "--json"], shown=f.show()
        )


FHIR_COMMANDS = st.sampled_from(["import", "import_report", "validate", "assess", "facts"])


def _fhir_argv(cmd: str, path: str, work: Path) -> list[str]:
    return {
        "import": ["fhir", "import", path, "-o", str(work / "imported.yaml")],
        "import_report": ["fhir", "import", path, "--report"],
        "validate": ["validate", path],
        "assess": ["assess", path, "--as-of", AS_OF],
        "facts": ["facts", path, "--as-of", AS_OF],
    }[cmd]


@fuzz_settings("fhir_bundle")
@given(f=files(seeds.fhir_bundles(), json_only=True), cmd=FHIR_COMMANDS, as_json=st.booleans())
def test_fhir_bundles(work: Path, f: Encoded, cmd: str, as_json: bool) -> None:
    path = _write(work, "bundle", Encoded(f.content, ".json", f.notes))
    argv = _fhir_argv(cmd, str(path), work) + (["--json"] if as_json else [])
    check_cli("fhir_bundle", argv, shown=f.show(), blob=f.content)


@st.composite
def ndjson_folders(draw: st.DrawFn) -> tuple[dict[str, bytes], str]:
    """A bulk-export folder: one NDJSON file per resource type, from a (mutated) bundle; lines may be damaged."""
    from tests.fuzz.mutate import documents

    bundle, notes = draw(documents(seeds.fhir_bundles(), max_ops=2))
    by_type: dict[str, list[bytes]] = {}
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    for e in entries if isinstance(entries, list) else []:
        res = e.get("resource") if isinstance(e, dict) else e
        kind = res.get("resourceType") if isinstance(res, dict) else None
        kind = kind if isinstance(kind, str) and kind.isidentifier() else "Unknown"
        line = draw(encoded(res, json_only=True)).content.replace(b"\n", b" ")
        by_type.setdefault(kind, []).append(line)
    out = {f"{k}.ndjson": b"\n".join(v) + b"\n" for k, v in by_type.items()}
    if out and draw(st.booleans()):
        name = draw(st.sampled_from(sorted(out)))
        damage = draw(
            st.sampled_from([b"\xff\xfe", b"{", b"\n\n\n", b"[1,2]\n", b"null\n", b'{"resourceType": 5}\n'])
        )
        out[name] = out[name] + damage
    return out, "; ".join(notes)


@fuzz_settings("fhir_ndjson")
@given(folder=ndjson_folders(), as_json=st.booleans(), cmd=st.sampled_from(["import", "validate", "assess"]))
def test_fhir_ndjson_folders(
    work: Path, folder: tuple[dict[str, bytes], str], as_json: bool, cmd: str
) -> None:
    files_, notes = folder
    d = work / "ndjson"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    for name, content in files_.items():
        (d / name).write_bytes(content)
    argv = _fhir_argv(cmd, str(d), work) + (["--json"] if as_json else [])
    shown = f"[ndjson folder; {notes}] " + ", ".join(f"{k} ({len(v)} bytes)" for k, v in files_.items())
    check_cli("fhir_ndjson", argv, shown=shown, blob=b"\n".join(files_.values()))


# ------------------------------------------------------------------ option values

OPTION_VALUES = st.one_of(
    st.sampled_from(NASTY_DATES),
    st.sampled_from(NASTY_STRINGS[:40]),
    st.sampled_from(
        ["30d", "4w", "2mo", "1y", "100y", "101y", "36526d", "0d", "-1d", "1e9d", "d", "30", "9" * 30 + "d"]
    ),
    st.text(max_size=12),
)
OPTIONS = [
    ("assess", "--as-of"),
    ("assess", "--default-uln"),
    ("assess", "--skin-biopsy-rule"),
    ("assess", "--category-basis"),
    ("assess", "--choice"),
    ("facts", "--as-of"),
    ("facts", "--default-uln"),
    ("activity", "--window-days"),
    ("activity", "--kendall-trace"),
    ("activity", "--enzyme"),
    ("response", "--from"),
    ("response", "--to"),
    ("response", "--method"),
    ("response", "--population"),
    ("response", "--missing"),
    ("response", "--window-days"),
    ("trials", "--as-of"),
    ("trials", "--screening-window"),
    ("trials", "--trial"),
    ("trials", "--default-uln"),
    ("screen", "--unknown-policy"),
    ("screen", "--urgent-flags"),
    ("fhir_assessment", "--as-of"),
    ("schema", "WHAT"),
]


@fuzz_settings("cli_options")
@given(
    opt=st.sampled_from(OPTIONS),
    value=OPTION_VALUES,
    choice_setting=st.sampled_from(
        ["category_basis", "ck.default_uln", "x", "", "skin_or_biopsy_rule", "a=b=c"]
    ),
    as_json=st.booleans(),
)
def test_option_values(opt: tuple[str, str], value: str, choice_setting: str, as_json: bool) -> None:
    cmd, flag = opt
    value = value.replace("\x00", "")  # the OS cannot pass a NUL in an argument
    if flag == "--choice":
        value = f"{choice_setting}={value}"
    base: dict[str, list[str]] = {
        "assess": ["assess", RECORD],
        "facts": ["facts", RECORD],
        "activity": ["activity", RECORD],
        "response": ["response", RECORD],
        "trials": ["trials", RECORD],
        "screen": ["screen", str(EXAMPLES / "screener" / "answers.yaml")],
        "fhir_assessment": ["fhir", "export", "assessment", RECORD],
        "schema": ["schema"],
    }
    argv = [*base[cmd], value] if flag == "WHAT" else [*base[cmd], flag, value]
    json_flag = as_json and cmd != "fhir_assessment"
    argv += ["--json"] if json_flag else []
    check_cli(
        "cli_options", argv, shown=f"{cmd} {flag} {value!r}", json_always=cmd in ("fhir_assessment", "schema")
    )


def test_budgets_cover_every_kind() -> None:
    """Every input kind in the harness has a test in tests/fuzz."""
    from tests.fuzz.harness import KINDS

    here = "".join(p.read_text(encoding="utf-8") for p in sorted(Path(__file__).parent.glob("test_*.py")))
    missing = [k for k in KINDS if f'fuzz_settings("{k}")' not in here]
    assert not missing, missing
