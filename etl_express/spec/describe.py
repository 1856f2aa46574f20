"""Describe a query's output on a real source without reading rows.

PostgreSQL: psycopg, read-only transaction, `SET LOCAL statement_timeout`, then
`SELECT * FROM (<q>) AS q LIMIT 0`; types from the result's OIDs (numeric precision/scale from
the type modifier) and NOT NULL from the source table's column when the result column is a
plain table column. MariaDB/MySQL: connectorx (already in the lock; no MySQL DB-API driver is
installed) with `SET STATEMENT max_statement_time=... FOR` on MariaDB; types from the Arrow
schema, nullability unknown (reported nullable).

Errors: `QueryRejected` when the source refuses the query (its message, no row data);
`SourceUnavailable` when it cannot be reached (validation then treats the schema as unknown).
"""

from __future__ import annotations

import logging
from typing import Any, Final

from etl_express.spec.common import ColumnSchema
from etl_express.spec.context import QueryRejected

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S: Final = 10


class SourceUnavailable(Exception):
    """The source could not be reached or has no driver here."""


# PostgreSQL type names (pg_type.typname) → Arrow-style names.
_PG_TYPES: Final[dict[str, str]] = {
    "bool": "bool",
    "int2": "int16",
    "int4": "int32",
    "int8": "int64",
    "oid": "int64",
    "float4": "float32",
    "float8": "float64",
    "text": "string",
    "varchar": "string",
    "bpchar": "string",
    "name": "string",
    "char": "string",
    "uuid": "string",
    "citext": "string",
    "json": "json",
    "jsonb": "json",
    "bytea": "binary",
    "date": "date32",
    "time": "time64[us]",
    "timestamp": "timestamp[us]",
    "timestamptz": "timestamp[us, tz=UTC]",
    "interval": "duration[us]",
}


def _pg_type(typname: str, category: str, typmod: int, element: str | None) -> str:
    if typname == "numeric":
        if typmod >= 4:  # typmod = ((precision << 16) | scale) + 4
            precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
            if 1 <= precision <= 38:
                return f"decimal128({precision},{scale})"
        return "string"  # unconstrained numeric: exact text rather than a lossy decimal
    if category == "A" and element is not None:
        return f"list<{element}>"
    return _PG_TYPES.get(typname, "string")  # enums, domains of text, network types, ...


def _set_timeout(cur: Any, timeout_s: int) -> None:
    cur.execute("SELECT set_config('statement_timeout', %s, true)", (f"{int(timeout_s)}s",))


def describe_postgres(
    url: str, sql: str, *, timeout_s: int = DEFAULT_TIMEOUT_S
) -> list[ColumnSchema]:
    import psycopg

    try:
        conn = psycopg.connect(url, connect_timeout=5)
    except psycopg.OperationalError as err:
        raise SourceUnavailable(str(err).strip().splitlines()[0]) from None
    try:
        conn.read_only = True
        with conn.cursor() as cur:
            _set_timeout(cur, timeout_s)
            try:
                cur.execute(f"SELECT * FROM ({sql}) AS q LIMIT 0")
            except psycopg.errors.QueryCanceled:
                raise QueryRejected(f"did not describe within {timeout_s} s") from None
            except psycopg.Error as err:
                raise QueryRejected(str(err).strip().splitlines()[0]) from None
            columns = _pg_columns(cur)
        return columns
    finally:
        conn.rollback()
        conn.close()


def _pg_columns(cur: Any) -> list[ColumnSchema]:
    result = cur.pgresult
    described = cur.description or []
    oids = [column.type_code for column in described]
    types = _pg_type_rows(cur, oids)
    out: list[ColumnSchema] = []
    for index, column in enumerate(described):
        typname, category, element_oid = types.get(column.type_code, ("text", "S", 0))
        element = None
        if element_oid:
            el_name, el_cat, _ = types.get(element_oid, ("text", "S", 0))
            element = _pg_type(el_name, el_cat, -1, None)
        arrow = _pg_type(typname, category, result.fmod(index), element)
        not_null = _not_null(cur, result.ftable(index), result.ftablecol(index))
        out.append(ColumnSchema(name=column.name, type=arrow, nullable=not not_null))
    return out


def _pg_type_rows(cur: Any, oids: list[int]) -> dict[int, tuple[str, str, int]]:
    if not oids:
        return {}
    cur.execute(
        "SELECT t.oid, t.typname, t.typcategory, t.typelem, e.typname, e.typcategory "
        "FROM pg_type t LEFT JOIN pg_type e ON e.oid = t.typelem WHERE t.oid = ANY(%s)",
        (oids,),
    )
    rows: dict[int, tuple[str, str, int]] = {}
    for oid, name, category, elem, elem_name, elem_category in cur.fetchall():
        # Domains and the like keep their base behaviour through the category.
        rows[oid] = (name, category, int(elem or 0))
        if elem:
            rows[int(elem)] = (elem_name, elem_category, 0)
    return rows


def _not_null(cur: Any, table_oid: int, column_number: int) -> bool:
    if not table_oid or column_number <= 0:
        return False  # an expression, not a plain table column
    cur.execute(
        "SELECT attnotnull FROM pg_attribute WHERE attrelid = %s AND attnum = %s",
        (table_oid, column_number),
    )
    row = cur.fetchone()
    return bool(row and row[0])


def _arrow_name(arrow_type: Any) -> str:
    import pyarrow as pa

    if pa.types.is_large_string(arrow_type) or pa.types.is_string(arrow_type):
        return "string"
    if pa.types.is_date(arrow_type):
        return "date32"
    if pa.types.is_decimal(arrow_type):
        return f"decimal128({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type):
        unit = arrow_type.unit
        return f"timestamp[{unit}, tz=UTC]" if arrow_type.tz else f"timestamp[{unit}]"
    if pa.types.is_time(arrow_type):
        return "time64[us]"
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return "binary"
    name = str(arrow_type)
    known = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
    if name in known | {"float", "double", "float32", "float64"}:
        return {"float": "float32", "double": "float64"}.get(name, name)
    return "string"


def describe_mysql(url: str, sql: str, *, timeout_s: int = DEFAULT_TIMEOUT_S) -> list[ColumnSchema]:
    import connectorx as cx

    wrapped = f"SELECT * FROM ({sql}) AS q LIMIT 0"
    attempts = [f"SET STATEMENT max_statement_time={int(timeout_s)} FOR {wrapped}", wrapped]
    for attempt in attempts:
        try:
            table = cx.read_sql(url, attempt, return_type="arrow")
        except RuntimeError as err:
            message = str(err)
            if "1064" in message and attempt is attempts[0]:
                continue  # MySQL proper has no SET STATEMENT; LIMIT 0 reads no rows anyway
            if any(s in message for s in ("Connection refused", "Can't connect", "timed out")):
                raise SourceUnavailable(message) from None
            raise QueryRejected(_mysql_message(message)) from None
        return [
            ColumnSchema(name=field.name, type=_arrow_name(field.type), nullable=True)
            for field in table.schema
        ]
    raise AssertionError("unreachable")


def _mysql_message(message: str) -> str:
    # connectorx wraps the server error: MySqlError { ERROR 1054 (42S22): Unknown column ... }
    inner = message.split("{", 1)[-1].rsplit("}", 1)[0].strip()
    return inner or message


def describe_url(
    source: str, url: str, sql: str, *, timeout_s: int = DEFAULT_TIMEOUT_S
) -> list[ColumnSchema]:
    if source == "postgres":
        return describe_postgres(url, sql, timeout_s=timeout_s)
    if source == "mysql":
        return describe_mysql(url, sql, timeout_s=timeout_s)
    raise SourceUnavailable(f"cannot describe {source} sources")


# Airflow connection types (from the URI scheme or the UI) → describer.
_CONN_TYPES: Final = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
}


def describe_airflow_connection(
    conn_id: str, sql: str, *, timeout_s: int = DEFAULT_TIMEOUT_S
) -> list[ColumnSchema] | None:
    """For a ValidationContext inside Airflow: resolve `conn_id` the way Airflow does, describe.

    Returns None (unknown) when the connection is missing, of another type, or unreachable;
    raises QueryRejected when the source refuses the query.
    """
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    try:
        conn = Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException:
        return None  # validation reports unknown connections through connection_exists
    except Exception:  # a secrets backend that is down: unknown, not an error
        log.warning("cannot resolve connection %r to describe a query", conn_id, exc_info=True)
        return None
    source = _CONN_TYPES.get(str(conn.conn_type))
    if source is None:
        return None
    url = connection_url(source, conn)
    try:
        return describe_url(source, url, sql, timeout_s=timeout_s)
    except SourceUnavailable:
        log.warning("source %r unreachable while describing a query", conn_id)
        return None


def connection_url(source: str, conn: Any) -> str:
    from urllib.parse import quote

    scheme = "postgresql" if source == "postgres" else "mysql"
    auth = quote(conn.login or "", safe="")
    if conn.password:
        auth += ":" + quote(conn.password, safe="")
    host = conn.host or "127.0.0.1"
    port = f":{conn.port}" if conn.port else ""
    return f"{scheme}://{auth}{'@' if auth else ''}{host}{port}/{quote(conn.schema or '', safe='')}"


def describe_local_files(
    source: str, path: str, *, delimiter: str = ",", encoding: str = "utf8"
) -> list[ColumnSchema] | None:
    """Columns of the first file a local path or glob names, as the file sources read them.

    Parquet: the file's own schema. CSV: the header's names, every column text (the CSV
    source reads all values as strings). None for s3:// paths (credentials live in Airflow);
    QueryRejected when nothing matches or the file cannot be read.
    """
    import glob
    import os

    if path.startswith("s3://"):
        return None
    files = sorted(f for f in glob.glob(path) if os.path.isfile(f))
    if not files and os.path.isdir(path):
        files = sorted(
            os.path.join(root, name)
            for root, _, names in os.walk(path)
            for name in names
            if not name.startswith((".", "_"))
        )
    if not files:
        raise QueryRejected(f"no file matches {path!r}")
    try:
        return _file_columns(source, files[0], delimiter, encoding)
    except (OSError, ValueError) as err:
        raise QueryRejected(f"{os.path.basename(files[0])}: {err}") from None


def _file_columns(source: str, file: str, delimiter: str, encoding: str) -> list[ColumnSchema]:
    if source == "parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(file)
        return [
            ColumnSchema(name=f.name, type=_arrow_name(f.type), nullable=f.nullable) for f in schema
        ]
    import pyarrow.csv as pacsv

    with open(file, "rb") as handle:
        reader = pacsv.open_csv(
            handle,
            read_options=pacsv.ReadOptions(block_size=1 << 16, encoding=encoding),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=True),
        )
        names = list(reader.schema.names)
    return [ColumnSchema(name=name, type="string") for name in names]
