"""Airflow-style `{{ variable }}` placeholders in extraction queries, bound as typed values.

Extraction queries may say ``WHERE updated_at >= {{ data_interval_start }}`` or
``'{{ ds }}'`` or ``{{ params.region }}``. The text is never pasted in:

- PostgreSQL: each use becomes ``current_setting('etlx.v<i>')::<type>`` and the value is
  bound with ``set_config($1, $2, false)`` before the streamed query runs (ADBC streams only
  queries without bind parameters).
- MariaDB/MySQL (connectorx has no bind parameters): the value is rendered from its Python
  type (datetime/date/number via isoformat/str); a text parameter must match a conservative
  pattern, otherwise the run fails with a message naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from etl_express.sources.base import SourceError

_TEMPLATE_RE = re.compile(r"(?P<q>')?\{\{\s*(?P<expr>.*?)\s*\}\}(?P<q2>')?", re.DOTALL)
_NAME_RE = re.compile(r"^(?P<var>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*$")
_SAFE_TEXT = re.compile(r"^[\w .:@+\-/]{0,200}$")


def _lookup(name: str, values: Mapping[str, Any]) -> Any:
    if name.startswith("params."):
        params = values.get("params") or {}
        key = name.split(".", 1)[1]
        if key not in params:
            raise SourceError(f"query uses {{{{ {name} }}}} but the task has no param {key!r}")
        return params[key]
    if name not in values:
        raise SourceError(f"query uses {{{{ {name} }}}}, which this run does not provide")
    return values[name]


def _pg_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dt.datetime):
        return "timestamptz" if value.tzinfo else "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float | Decimal):
        return "numeric"
    return "text"


def _text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).lower() if isinstance(value, bool) else str(value)


def render_postgres(sql: str, values: Mapping[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """SQL with settings lookups, and the (setting, text) pairs to bind first."""
    settings: list[tuple[str, str]] = []

    def replace(match: re.Match[str]) -> str:
        name = _name(match)
        value = _lookup(name, values)
        if value is None:
            return "NULL"
        setting = f"etlx.v{len(settings)}"
        settings.append((setting, _text(value)))
        lookup = f"current_setting('{setting}')::{_pg_type(value)}"
        return _requote(match, lookup)

    return _TEMPLATE_RE.sub(replace, sql), settings


def _mysql_literal(name: str, value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return "'" + value.isoformat(sep=" ", timespec="microseconds") + "'"
    if isinstance(value, dt.date):
        return "'" + value.isoformat() + "'"
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    if not _SAFE_TEXT.match(text):
        raise SourceError(
            f"{{{{ {name} }}}}: text values for MariaDB/MySQL queries may hold only letters, "
            "digits, spaces and . : @ + - / _ (the driver cannot bind parameters)"
        )
    return "'" + text + "'"


def render_mysql(sql: str, values: Mapping[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = _name(match)
        return _requote(match, _mysql_literal(name, _lookup(name, values)))

    return _TEMPLATE_RE.sub(replace, sql)


def _name(match: re.Match[str]) -> str:
    found = _NAME_RE.match(match.group("expr"))
    if not found:
        raise SourceError("query templates may only name a variable: {{ data_interval_start }}")
    return found.group("var")


def _requote(match: re.Match[str], replacement: str) -> str:
    """`'{{ ds }}'` is replaced whole; a lone quote next to a template is kept."""
    quoted = bool(match.group("q") and match.group("q2"))
    if quoted:
        return replacement
    return (match.group("q") or "") + replacement + (match.group("q2") or "")
