"""The report's SQL: the Athena named queries of ``modules/central_reporting``, run by DuckDB.

The queries live in ``modules/central_reporting/queries/*.sql``; Terraform registers the same
files as Athena named queries with ``file()``. Each file starts with header comments::

    -- title: <one line shown in the report>
    -- description: <one line; also the named query's description>
    -- params: <name>, <name>      (optional: the ``?`` placeholders, in order)

The tables are the Glue tables of the module (``modules/central_reporting/schema/
resource_data_sync.json``): one per Resource Data Sync type, with the columns Athena sees
(lowercase) and the partition columns ``accountid``, ``region``, ``resourcetype``. Here each
is a DuckDB table loaded from the NDJSON that :mod:`tools.report.source` packs from the same
folder layout, partition values taken from the object keys (DuckDB's hive partitioning is not
used: it would clash with the ``ResourceType`` key of ``AWS:InstanceInformation``, the same
clash the Glue crawler has). A type with no objects becomes an empty table with the same
columns, so every query still runs. Only tables some query references are loaded.

The SQL is written in the subset Trino (Athena engine 3) and DuckDB share; the Trino
functions DuckDB lacks (``from_iso8601_timestamp``, ``to_unixtime``) are defined here as DuckDB
macros (:data:`TRINO_MACROS`). Whole days are computed from epoch seconds, not ``date_diff``,
which counts full days in Trino but calendar boundaries in DuckDB.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from tools.report.source import SourceError, Warnings, iter_s3, pack, pack_local

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "modules" / "central_reporting"
QUERY_DIR = MODULE / "queries"
SCHEMA_FILE = MODULE / "schema" / "resource_data_sync.json"
PARTITIONS = ("accountid", "region", "resourcetype")
_DUCK_TYPES = {"string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE"}
# Trino (Athena engine 3) functions the shared SQL uses that DuckDB lacks, as DuckDB macros.
TRINO_MACROS = (
    "CREATE MACRO from_iso8601_timestamp(x) AS CAST(x AS TIMESTAMPTZ)",
    "CREATE MACRO to_unixtime(x) AS epoch(x)",
)
_HEADER = re.compile(r"^--\s*(title|description|params):\s*(.*?)\s*$")


class ReportError(Exception):
    """A dataset or query problem the user can fix (message says what)."""


@dataclass(frozen=True)
class Column:
    """One table column: Athena name (lowercase), JSON key in the record, Hive type."""

    name: str
    key: str
    type: str


@dataclass(frozen=True)
class Table:
    """A Glue table over one Resource Data Sync type (``type_name`` like AWS:Tag)."""

    name: str
    type_name: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Query:
    """One SQL file: ``name`` is the file stem; ``params`` names the ``?`` placeholders."""

    name: str
    title: str
    description: str
    params: tuple[str, ...]
    sql: str


@dataclass(frozen=True)
class QueryResult:
    """The rows of one query: ``columns`` names, ``rows`` tuples of Python values."""

    query: Query
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        """The rows as dicts keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def load_tables(path: Path = SCHEMA_FILE) -> dict[str, Table]:
    """Read the table definitions shared with Terraform: ``{table name: Table}``.

    Raises:
        ReportError: the file is missing or malformed.
    """
    try:
        raw = json.loads(path.read_text())
        return {
            name: Table(
                name=name,
                type_name=spec["type_name"],
                columns=tuple(Column(c["name"], c["key"], c["type"]) for c in spec["columns"]),
            )
            for name, spec in raw["tables"].items()
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReportError(f"cannot read table definitions {path}: {exc}") from exc


def parse_query(path: Path) -> Query:
    """Parse one ``.sql`` file (header comments, then SQL).

    Raises:
        ReportError: no ``-- title:`` or ``-- description:`` header, or the number of ``?``
            placeholders differs from the ``-- params:`` list.
    """
    text = path.read_text()
    headers: dict[str, str] = {}
    for line in text.splitlines():
        match = _HEADER.match(line)
        if match:
            headers[match.group(1)] = match.group(2)
    if "title" not in headers or "description" not in headers:
        raise ReportError(f"{path.name}: needs '-- title:' and '-- description:' header lines")
    params = tuple(p.strip() for p in headers.get("params", "").split(",") if p.strip())
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    if code.count("?") != len(params):
        raise ReportError(
            f"{path.name}: {code.count('?')} '?' placeholders but params lists {len(params)}"
        )
    return Query(path.stem, headers["title"], headers["description"], params, text)


def load_queries(folder: Path = QUERY_DIR) -> dict[str, Query]:
    """Every ``*.sql`` of ``folder`` as ``{name: Query}``, sorted by name.

    Raises:
        ReportError: the folder has no ``.sql`` file or a file is malformed.
    """
    queries = {p.stem: parse_query(p) for p in sorted(folder.glob("*.sql"))}
    if not queries:
        raise ReportError(f"no .sql files in {folder}")
    return queries


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def referenced_tables(queries: Iterable[Query], tables: Mapping[str, Table]) -> list[Table]:
    """The tables whose name appears in the SQL of ``queries`` (the ones worth loading)."""
    text = " ".join(q.sql for q in queries)
    return [t for name, t in tables.items() if re.search(rf"\b{name}\b", text)]


def connect(
    packed: Mapping[str, Sequence[Path]],
    tables: Iterable[Table],
    *,
    threads: int | None = None,
    memory_limit: str = "1GB",
) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB with one table per Glue table, loaded from packed NDJSON.

    Args:
        packed: ``{type name: NDJSON files}`` from :func:`tools.report.source.pack`; a table
            whose type is missing here is created empty (same columns).
        tables: the tables to create.
        threads: DuckDB worker threads (default: DuckDB's choice, the CPU count).
        memory_limit: DuckDB memory limit, e.g. "1GB".

    Raises:
        ReportError: a packed file holds malformed JSON (the message names the type).
    """
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = {_sql_string(memory_limit)}")
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for macro in TRINO_MACROS:
        con.execute(macro)
    for table in tables:
        paths = packed.get(table.type_name)
        try:
            con.execute(_load_sql(table, paths) if paths else _empty_sql(table))
        except duckdb.Error as exc:
            con.close()
            raise ReportError(f"cannot load {table.type_name} objects: {exc}") from exc
    return con


def _load_sql(table: Table, paths: Sequence[Path]) -> str:
    keys = [(c.key, _DUCK_TYPES[c.type]) for c in table.columns]
    keys += [(f"_{p}", "VARCHAR") for p in PARTITIONS]
    columns = "{" + ", ".join(f"{_sql_string(k)}: {_sql_string(t)}" for k, t in keys) + "}"
    select = [f'"{c.key}" AS {c.name}' for c in table.columns]
    select += [f'"_{p}" AS {p}' for p in PARTITIONS]
    # Identifiers come from the schema file, the path is quoted by _sql_string.
    return (
        f"CREATE TABLE {table.name} AS SELECT {', '.join(select)} FROM read_json("  # noqa: S608
        f"[{', '.join(_sql_string(str(p)) for p in paths)}], format = 'newline_delimited', "
        f"columns = {columns})"
    )


def _empty_sql(table: Table) -> str:
    cols = [f"{c.name} {_DUCK_TYPES[c.type]}" for c in table.columns]
    cols += [f"{p} VARCHAR" for p in PARTITIONS]
    return f"CREATE TABLE {table.name} ({', '.join(cols)})"


def run_query(
    con: duckdb.DuckDBPyConnection, query: Query, params: Mapping[str, str] | None = None
) -> QueryResult:
    """Run one query on a connection from :func:`connect`.

    Args:
        con: the connection.
        query: the query; its ``params`` are looked up by name in ``params``.
        params: values of the ``?`` placeholders by name.

    Raises:
        ReportError: a parameter is missing, or DuckDB rejects the query or the data (e.g. a
            malformed JSON object; the message names it).
    """
    values: Sequence[str] = []
    if query.params:
        missing = [p for p in query.params if not params or p not in params]
        if missing:
            raise ReportError(f"query {query.name} needs parameters {missing}")
        assert params is not None
        values = [params[p] for p in query.params]
    try:
        cursor = con.execute(query.sql, values)
        columns = tuple(d[0] for d in cursor.description or ())
        rows = [tuple(_plain(v) for v in row) for row in cursor.fetchall()]
    except duckdb.Error as exc:
        raise ReportError(f"query {query.name} failed: {exc}") from exc
    return QueryResult(query, columns, rows)


def _plain(value: Any) -> Any:
    """DuckDB's Decimal/HUGEINT values as float/int so CSV and HTML show plain numbers."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return int(number) if number.is_integer() and "." not in str(value) else number


def run_all(
    source: str | Path,
    params: Mapping[str, str] | None = None,
    *,
    work_dir: Path | None = None,
    threads: int | None = None,
    memory_limit: str = "1GB",
    only: Iterable[str] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, QueryResult]:
    """Run every query of :func:`load_queries` over a dataset; ``{name: QueryResult}``.

    Args:
        source: a local folder or ``s3://bucket/prefix`` (the Resource Data Sync destination).
        params: values of the queries' ``?`` parameters by name.
        work_dir: where the packed NDJSON files go (default: a temporary folder, removed).
        threads: DuckDB worker threads (default: the CPU count).
        memory_limit: DuckDB memory limit, e.g. "1GB".
        only: names of the queries to run (default: all); only their tables are loaded.
        warnings: gets one line per thing the read left out (objects filed under another
            account's folder, old-layout folders: :class:`tools.report.source.Warnings`).

    Raises:
        ReportError: the dataset cannot be read (wraps :class:`SourceError`), a query fails,
            or ``only`` names an unknown query.
    """
    queries = load_queries()
    if only is not None:
        wanted = list(only)
        unknown = sorted(set(wanted) - set(queries))
        if unknown:
            raise ReportError(f"unknown queries {unknown}; known: {sorted(queries)}")
        queries = {name: queries[name] for name in wanted}
    tables = referenced_tables(queries.values(), load_tables())
    type_names = [t.type_name for t in tables]
    noted = Warnings()
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        try:
            if str(source).startswith("s3://"):
                packed = pack(iter_s3(str(source), type_names, warnings=noted), Path(tmp))
            else:
                packed = pack_local(Path(source), type_names, Path(tmp), warnings=noted)
        except SourceError as exc:
            raise ReportError(str(exc)) from exc
        if warnings is not None:
            warnings.extend(noted)
        con = connect(
            {k: v.paths for k, v in packed.items()},
            tables,
            threads=threads,
            memory_limit=memory_limit,
        )
    try:
        return {name: run_query(con, q, params) for name, q in queries.items()}
    finally:
        con.close()
