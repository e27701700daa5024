"""Open an OMOP CDM 5.4 database: a folder (or zip) of CSV or Parquet tables, a DuckDB file, or a
PostgreSQL URL; and run SQL on it with bound parameters on DuckDB (default), PostgreSQL or Spark.

Table names are matched in either case (`PERSON.csv`, `person.parquet`). A zip archive (as the
Eunomia Synthea27Nj sample is shipped) is unpacked once into a cache folder; the archive itself is
never modified. Only the columns the adapter uses are read (`COLUMNS`), each cast in SQL from
whatever the file holds (CSV text, Parquet types), so a column that is missing from a file reads as
NULL rather than failing.

SQL is written once in DuckDB's dialect (built with sqlglot) and generated for the engine's dialect
by sqlglot; every value reaches the database as a bound parameter (`$name` in DuckDB, `%(name)s` in
PostgreSQL, `:name` in Spark SQL).
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imnm.errors import InputError, Problem

# The OMOP tables and columns the adapter reads (CDM 5.4 names), with their SQL types.
COLUMNS: dict[str, dict[str, str]] = {
    "person": {
        "person_id": "BIGINT",
        "gender_concept_id": "BIGINT",
        "year_of_birth": "INTEGER",
        "month_of_birth": "INTEGER",
        "day_of_birth": "INTEGER",
        "birth_datetime": "TIMESTAMP",
    },
    "observation_period": {
        "observation_period_id": "BIGINT",
        "person_id": "BIGINT",
        "observation_period_start_date": "DATE",
        "observation_period_end_date": "DATE",
    },
    "measurement": {
        "measurement_id": "BIGINT",
        "person_id": "BIGINT",
        "measurement_concept_id": "BIGINT",
        "measurement_date": "DATE",
        "value_as_number": "DOUBLE",
        "value_as_concept_id": "BIGINT",
        "unit_concept_id": "BIGINT",
        "range_high": "DOUBLE",
        "measurement_source_value": "VARCHAR",
        "unit_source_value": "VARCHAR",
    },
    "condition_occurrence": {
        "condition_occurrence_id": "BIGINT",
        "person_id": "BIGINT",
        "condition_concept_id": "BIGINT",
        "condition_start_date": "DATE",
        "condition_source_value": "VARCHAR",
    },
    "drug_exposure": {
        "drug_exposure_id": "BIGINT",
        "person_id": "BIGINT",
        "drug_concept_id": "BIGINT",
        "drug_exposure_start_date": "DATE",
        "drug_exposure_end_date": "DATE",
        "drug_source_value": "VARCHAR",
    },
    "procedure_occurrence": {
        "procedure_occurrence_id": "BIGINT",
        "person_id": "BIGINT",
        "procedure_concept_id": "BIGINT",
        "procedure_date": "DATE",
        "procedure_source_value": "VARCHAR",
    },
    "concept": {
        "concept_id": "BIGINT",
        "concept_name": "VARCHAR",
        "domain_id": "VARCHAR",
        "vocabulary_id": "VARCHAR",
        "concept_code": "VARCHAR",
        "invalid_reason": "VARCHAR",
    },
    "concept_ancestor": {"ancestor_concept_id": "BIGINT", "descendant_concept_id": "BIGINT"},
}
REQUIRED = ("person",)
Dialect = str  # "duckdb" | "postgres" | "spark"


def cache_dir() -> Path:
    root = os.environ.get("IMNM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "imnm"
    )
    return Path(root)


def unpack_zip(path: Path) -> Path:
    """Unpack a zip of OMOP tables once into the cache (keyed by the archive's content hash)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    out = cache_dir() / "omop-zip" / h.hexdigest()[:16]
    done = out / ".unpacked"
    if done.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            name = Path(info.filename).name
            if info.is_dir() or "__MACOSX" in info.filename or name.startswith("._"):
                continue
            if not name.lower().endswith((".csv", ".parquet", ".tsv")):
                continue
            (out / name).write_bytes(z.read(info))
    done.touch()
    return out


def table_files(folder: Path) -> dict[str, Path]:
    """OMOP table name (lower case) → its file in a folder (CSV, TSV or Parquet; either case)."""
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        stem, _, ext = p.name.partition(".")
        if ext.lower() in ("csv", "tsv", "parquet", "csv.gz") or (p.is_dir() and ext == ""):
            key = stem.lower()
            if p.is_dir() and not any(q.suffix == ".parquet" for q in p.iterdir()):
                continue  # a folder counts only when it holds parquet parts (Spark output)
            found.setdefault(key, p)
    return found


@dataclass
class Source:
    """An open OMOP database and the engine that runs our SQL on it."""

    dialect: Dialect
    description: str
    con: Any = None  # duckdb connection | psycopg connection | SparkSession
    tables: dict[str, str] = field(default_factory=dict)  # omop table -> relation name in the engine
    columns: dict[str, set[str]] = field(default_factory=dict)
    temp: list[str] = field(default_factory=list)
    staged_as_of: Any = None  # set by staging.materialize: the staged rows are kept as tables for this date

    # ---------------------------------------------------------------- SQL
    def sql(self, expression: Any) -> str:
        """Generate SQL text for this engine from a sqlglot expression (or DuckDB SQL text)."""
        import sqlglot

        if isinstance(expression, str):
            if self.dialect == "duckdb" and not os.environ.get("IMNM_SQLGLOT_ROUNDTRIP"):
                return expression  # written in DuckDB's dialect already (tests check the round trip)
            expression = sqlglot.parse_one(expression, read="duckdb")
        from imnm.sqlcompile.dialects import prepare

        return str(prepare(expression, self.dialect).sql(dialect=self.dialect))

    def execute(self, expression: Any, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        text = self.sql(expression)
        params = params or {}
        if self.dialect == "duckdb":
            with reading():
                return list(self.con.execute(text, _used(text, params, "$")).fetchall())
        if self.dialect == "postgres":
            with self.con.cursor() as cur:
                cur.execute(text, _used(text, params, "%("))
                return list(cur.fetchall()) if cur.description else []
        df = self.con.sql(text, args=_used(text, params, ":") or None)
        return [tuple(r) for r in df.collect()]

    def stream(
        self, expression: Any, params: dict[str, Any] | None = None, batch: int = 50_000
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Rows in batches (bounded memory), with the column names first."""
        text = self.sql(expression)
        params = params or {}
        if self.dialect == "duckdb":
            cur = self.con.cursor()
            with reading():
                cur.execute(text, _used(text, params, "$"))
                while rows := cur.fetchmany(batch):
                    yield rows
            return
        if self.dialect == "postgres":
            with self.con.cursor(name="imnm_stream") as cur:
                cur.execute(text, _used(text, params, "%("))
                while rows := cur.fetchmany(batch):
                    yield list(rows)
            return
        df = self.con.sql(text, args=_used(text, params, ":") or None)
        buf: list[tuple[Any, ...]] = []
        for r in df.toLocalIterator():
            buf.append(tuple(r))
            if len(buf) >= batch:
                yield buf
                buf = []
        if buf:
            yield buf

    def column_names(self, expression: Any, params: dict[str, Any] | None = None) -> list[str]:
        text = self.sql(expression)
        params = params or {}
        if self.dialect == "duckdb":
            with reading():
                rel = self.con.execute(f"SELECT * FROM ({text}) LIMIT 0", _used(text, params, "$"))
            return [d[0] for d in rel.description]
        if self.dialect == "postgres":
            with self.con.cursor() as cur:
                cur.execute(f"SELECT * FROM ({text}) q LIMIT 0", _used(text, params, "%("))
                return [d.name for d in cur.description]
        return list(self.con.sql(text, args=_used(text, params, ":") or None).columns)

    def materialize(self, name: str, expression: Any, params: dict[str, Any] | None = None) -> None:
        """Keep a query's result as a table for the following statements (DuckDB table, PostgreSQL temp
        table, Spark cached view)."""
        text = self.sql(expression)
        params = params or {}
        if self.dialect == "duckdb":
            with reading():
                self.con.execute(f"CREATE OR REPLACE TABLE main.{name} AS {text}", _used(text, params, "$"))
        elif self.dialect == "postgres":
            with self.con.cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {name}")
                cur.execute(f"CREATE TEMP TABLE {name} AS {text}", _used(text, params, "%("))
        else:
            df = self.con.sql(text, args=_used(text, params, ":") or None).cache()
            df.createOrReplaceTempView(name)
        if name not in self.temp:
            self.temp.append(name)

    def register(self, name: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> None:
        """A small helper table (concept sets, unit maps), loaded with bound parameters."""
        cols = ", ".join(f"{c} {t}" for c, t in columns)
        if self.dialect == "duckdb":
            self.con.execute(f"CREATE OR REPLACE TABLE main.{name} ({cols})")  # visible to cursors too
            if rows:
                import pyarrow as pa

                arrow_type = {
                    "BIGINT": pa.int64(),
                    "INTEGER": pa.int32(),
                    "DOUBLE": pa.float64(),
                    "VARCHAR": pa.string(),
                    "BOOLEAN": pa.bool_(),
                    "DATE": pa.date32(),
                }
                data = pa.table(
                    {
                        c: pa.array([r[i] for r in rows], type=arrow_type[t])
                        for i, (c, t) in enumerate(columns)
                    }
                )
                self.con.register("imnm_arrow_in", data)
                self.con.execute(f"INSERT INTO {name} SELECT * FROM imnm_arrow_in")
                self.con.unregister("imnm_arrow_in")
        elif self.dialect == "postgres":
            pg_cols = ", ".join(f"{c} {_pg_type(t)}" for c, t in columns)
            with self.con.cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {name}")
                cur.execute(f"CREATE TEMP TABLE {name} ({pg_cols})")
                if rows:
                    marks = ", ".join("%s" for _ in columns)
                    cur.executemany(f"INSERT INTO {name} VALUES ({marks})", [list(r) for r in rows])
        else:
            from pyspark.sql import types as T

            spark_type = {
                "BIGINT": T.LongType(),
                "INTEGER": T.IntegerType(),
                "DOUBLE": T.DoubleType(),
                "VARCHAR": T.StringType(),
                "BOOLEAN": T.BooleanType(),
                "DATE": T.DateType(),
            }
            schema = T.StructType([T.StructField(c, spark_type[t], True) for c, t in columns])
            self.con.createDataFrame([tuple(r) for r in rows], schema).createOrReplaceTempView(name)
        if name not in self.temp:
            self.temp.append(name)

    def has(self, table: str) -> bool:
        return table in self.tables

    def close(self) -> None:
        if self.con is not None and self.dialect in ("duckdb", "postgres"):
            self.con.close()
        self.con = None


def _pg_type(t: str) -> str:
    return {"DOUBLE": "DOUBLE PRECISION", "VARCHAR": "TEXT"}.get(t, t)


def _used(text: str, params: dict[str, Any], style: str) -> dict[str, Any]:
    """Only the parameters the statement refers to (drivers refuse unused named parameters)."""
    import re

    pattern = {"$": r"\$(\w+)", "%(": r"%\((\w+)\)s", ":": r"(?<![:\w]):([A-Za-z_]\w*)"}[style]
    used = set(re.findall(pattern, text))
    return {k: v for k, v in params.items() if k in used}


# -------------------------------------------------------------------- opening


def open_source(location: str | Path, *, engine: str = "duckdb", memory_limit: str | None = None) -> Source:
    """Open an OMOP database (folder, zip, DuckDB file or PostgreSQL URL) on an engine."""
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        if engine not in ("duckdb", "postgres"):
            raise _bad(text, "a PostgreSQL URL runs on the postgres engine", "use --engine postgres")
        return _open_postgres(text)
    path = Path(text)
    if not path.exists():
        raise _bad(
            text, "no such file or folder", "give a folder of OMOP tables, a .zip, a .duckdb file or a URL"
        )
    shown = None
    if path.is_file() and path.suffix.lower() == ".zip":
        shown = f"zip {path.name}"
        path = unpack_zip(path)
    if engine == "postgres":
        raise _bad(
            text, "the postgres engine needs a PostgreSQL URL", "use --engine duckdb or spark for files"
        )
    if path.is_file() and path.suffix.lower() in (".duckdb", ".db", ".ddb"):
        if engine == "spark":
            raise _bad(
                text,
                "Spark cannot read a DuckDB file",
                "export the tables to Parquet, or use --engine duckdb",
            )
        return _open_duckdb_file(path, memory_limit)
    if not path.is_dir():
        raise _bad(
            text, "not a folder, zip, DuckDB file or URL", "give a folder of OMOP CSV or Parquet tables"
        )
    files = table_files(path)
    missing = [t for t in REQUIRED if t not in files]
    if missing:
        raise _bad(
            text,
            f"no {', '.join(t.upper() for t in missing)} table found",
            "the folder needs PERSON.csv or person.parquet",
        )
    src = (
        _open_spark_folder(path, files)
        if engine == "spark"
        else _open_duckdb_folder(path, files, memory_limit)
    )
    if shown:
        src.description = shown + (" on Spark" if engine == "spark" else "")
    return src


_CSV_FILE = re.compile(r'^\s*file = (.+)$|sniffing file "([^"]+)"', re.M)


@contextmanager
def reading() -> Iterator[None]:
    """DuckDB's refusals of the data itself (a CSV that is not UTF-8, not CSV, or whose values do not
    convert) as an `InputError` naming the file and the line, never a traceback."""
    try:
        yield
    except Exception as exc:
        import duckdb

        if not isinstance(exc, (duckdb.InvalidInputException, duckdb.ConversionException)):
            raise
        text = str(exc)
        found = _CSV_FILE.search(text)
        name = (found.group(1) or found.group(2)).strip() if found else None
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        message = next(
            (ln for ln in lines if ln.startswith(("CSV Error", "Invalid", "Error when"))), lines[0]
        )
        detail = next(
            (ln for ln in lines if ln.startswith(("Error when", "Original Line", "Invalid unicode"))), ""
        )
        raise InputError(
            [
                Problem(
                    "OMOP",
                    f"{message[:300]}{'; ' + detail[:300] if detail and detail != message else ''}",
                    "save each table as UTF-8 CSV with a header row (or Parquet), ids as whole numbers, "
                    "dates as YYYY-MM-DD",
                    value=name,
                    file=name,
                )
            ],
            what="OMOP input",
        ) from None


def _bad(value: str, message: str, fix: str) -> InputError:
    return InputError([Problem("OMOP", message, fix, value=value)], what="OMOP input")


def _duckdb(memory_limit: str | None) -> Any:
    """An engine connection. With a memory limit the working tables live in a temporary database file,
    so DuckDB's buffer manager can keep the resident set under the limit (large registries)."""
    import duckdb

    if memory_limit:
        import tempfile

        folder = tempfile.mkdtemp(prefix="imnm-duckdb-")
        con = duckdb.connect(
            os.path.join(folder, "work.duckdb"),
            config={"memory_limit": memory_limit, "temp_directory": folder},
        )
    else:
        con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    return con


def _relation_sql(path: Path) -> str:
    p = str(path).replace("'", "''")
    name = path.name.lower()
    if path.is_dir():
        return f"read_parquet('{p}/*.parquet')"
    if name.endswith(".parquet"):
        return f"read_parquet('{p}')"
    delim = "\\t" if name.endswith(".tsv") else ","
    return f"read_csv('{p}', header = true, all_varchar = true, delim = '{delim}')"


def _typed_view(con: Any, table: str, relation: str) -> set[str]:
    """A view that exposes the adapter's columns with their types (missing ones as NULL)."""
    with reading():
        have = {d[0].lower(): d[0] for d in con.execute(f"SELECT * FROM {relation} LIMIT 0").description}
    parts = []
    for col, typ in COLUMNS.get(table, {}).items():
        if col in have:
            src = f'"{have[col]}"'
            if typ == "DATE":
                parts.append(f"TRY_CAST(TRY_CAST({src} AS TIMESTAMP) AS DATE) AS {col}")
            else:
                parts.append(f"TRY_CAST({src} AS {typ}) AS {col}")
        else:
            parts.append(f"CAST(NULL AS {typ}) AS {col}")
    con.execute(f"CREATE OR REPLACE VIEW omop_{table} AS SELECT {', '.join(parts)} FROM {relation}")
    return set(have)


def _open_duckdb_folder(path: Path, files: dict[str, Path], memory_limit: str | None) -> Source:
    con = _duckdb(memory_limit)
    src = Source("duckdb", f"folder {path}", con)
    for table in COLUMNS:
        if table in files:
            src.columns[table] = _typed_view(con, table, _relation_sql(files[table]))
            src.tables[table] = f"omop_{table}"
    return src


def _open_duckdb_file(path: Path, memory_limit: str | None) -> Source:
    con = _duckdb(memory_limit)
    con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS omopdb (READ_ONLY)")
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = 'omopdb'"
    ).fetchall()
    by_name = {name.lower(): f'omopdb."{schema}"."{name}"' for schema, name in rows}
    src = Source("duckdb", f"DuckDB file {path}", con)
    for table in COLUMNS:
        if table in by_name:
            src.columns[table] = _typed_view(con, table, by_name[table])
            src.tables[table] = f"omop_{table}"
    if "person" not in src.tables:
        raise _bad(str(path), "the DuckDB file has no PERSON table", "load the OMOP tables first")
    return src


def _open_postgres(url: str) -> Source:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise _bad(url, "PostgreSQL support is not installed", "pip install 'imnm[omop]'") from exc
    from urllib.parse import parse_qs, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    schema = (query.pop("schema", None) or ["public"])[0]
    clean = urlunsplit((parts.scheme, parts.netloc, parts.path, "", parts.fragment))
    try:
        con = psycopg.connect(clean, autocommit=True)
    except Exception as exc:
        raise _bad(
            url.split("@")[-1], f"cannot connect: {exc}", "check the URL, the server and the credentials"
        ) from None
    src = Source("postgres", f"PostgreSQL {parts.hostname}:{parts.port}{parts.path} schema {schema}", con)
    with con.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s",
            (schema,),
        )
        cols: dict[str, set[str]] = {}
        names: dict[str, str] = {}
        for tname, cname in cur.fetchall():
            cols.setdefault(tname.lower(), set()).add(cname.lower())
            names[tname.lower()] = tname
    for table in COLUMNS:
        if table in names:
            have = cols[table]
            parts_sql = []
            for col, typ in COLUMNS[table].items():
                pg = _pg_type(typ)
                parts_sql.append(
                    f"CAST({col} AS {pg}) AS {col}" if col in have else f"CAST(NULL AS {pg}) AS {col}"
                )
            view = f"omop_{table}"
            with con.cursor() as cur:
                cur.execute(
                    f'CREATE TEMP VIEW {view} AS SELECT {", ".join(parts_sql)} FROM "{schema}"."{names[table]}"'
                )
            src.tables[table] = view
            src.columns[table] = have
    if "person" not in src.tables:
        raise _bad(
            url.split("@")[-1], f"schema {schema!r} has no PERSON table", "add ?schema=NAME to the URL"
        )
    return src


def spark_session() -> Any:
    """A local SparkSession on loopback (2 cores, no UI)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise InputError(
            [Problem("--engine", "Spark is not installed", "pip install 'imnm[spark]'", value="spark")],
            what="command line",
        ) from exc
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("imnm-cohort")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("IMNM_SPARK_MEMORY", "4g"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _open_spark_folder(path: Path, files: dict[str, Path]) -> Source:
    spark = spark_session()
    src = Source("spark", f"folder {path} on Spark", spark)
    for table in COLUMNS:
        if table not in files:
            continue
        f = files[table]
        if f.is_dir() or f.name.lower().endswith(".parquet"):
            df = spark.read.parquet(str(f))
        else:
            sep = "\t" if f.name.lower().endswith(".tsv") else ","
            df = spark.read.option("header", "true").option("sep", sep).csv(str(f))
        have = {c.lower(): c for c in df.columns}
        raw = f"raw_{table}"
        df.createOrReplaceTempView(raw)
        parts = []
        for col, typ in COLUMNS[table].items():
            styp = {"VARCHAR": "STRING"}.get(typ, typ)
            if col in have:
                if typ == "DATE":
                    parts.append(f"TRY_CAST(TRY_CAST(`{have[col]}` AS TIMESTAMP) AS DATE) AS {col}")
                else:
                    parts.append(f"TRY_CAST(`{have[col]}` AS {styp}) AS {col}")
            else:
                parts.append(f"CAST(NULL AS {styp}) AS {col}")
        spark.sql(f"SELECT {', '.join(parts)} FROM {raw}").createOrReplaceTempView(f"omop_{table}")
        src.tables[table] = f"omop_{table}"
        src.columns[table] = set(have)
    return src
