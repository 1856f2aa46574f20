"""Read-only query checks by parsing (sqlglot), with Airflow templates replaced first.

A query is accepted when it is exactly one SELECT (optionally with WITH, UNION, ...) and
nothing inside it writes, locks, sleeps or reads server files. The database's read-only
transaction is the second line of defence at run time; this check is the first, and the one
that can say which field is wrong before anything runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final, Literal

Dialect = Literal["postgres", "mysql", "duckdb"]
SQL_DIALECTS: Final[dict[str, Dialect]] = {"postgres": "postgres", "mysql": "mysql"}

# Airflow context variables a query may use (those the extract stage binds, see
# etl_express.stages.entry; a test keeps both equal), and the placeholder type of each.
TEMPLATE_VARS: Final[dict[str, str]] = {
    "data_interval_start": "timestamp",
    "data_interval_end": "timestamp",
    "logical_date": "timestamp",
    "ts": "text",
    "ts_nodash": "text",
    "ds": "date",
}

_TEMPLATE_RE = re.compile(r"(?P<q>')?\{\{\s*(?P<expr>.*?)\s*\}\}(?P<q2>')?", re.DOTALL)
_STATEMENT_RE = re.compile(r"\{%|\{#")
_VAR_RE = re.compile(r"^(?P<var>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)$")

# Functions with effects outside the query, or that read the server's files.
_FORBIDDEN_FUNCTIONS: Final = frozenset(
    {
        "pg_sleep",
        "pg_sleep_for",
        "pg_sleep_until",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "lo_import",
        "lo_export",
        "dblink",
        "dblink_exec",
        "set_config",
        "pg_advisory_lock",
        "pg_advisory_xact_lock",
        "nextval",
        "setval",
        "sleep",
        "benchmark",
        "load_file",
        "get_lock",
    }
)


class SqlProblem(ValueError):
    """A query is not acceptable; the message is a sentence for the user."""


@dataclass(frozen=True)
class TemplateUse:
    variables: tuple[str, ...]
    rendered: str

    @property
    def params(self) -> tuple[str, ...]:
        """Task params the query reads (`{{ params.region }}` → "region")."""
        return tuple(v.split(".", 1)[1] for v in self.variables if v.startswith("params."))


def _placeholder(kind: str, quoted: bool, dialect: Dialect) -> str:
    if kind == "timestamp":
        value = "2000-01-01 00:00:00" + ("" if dialect == "mysql" else "+00:00")
        return f"'{value}'" if quoted else f"TIMESTAMP '{value}'"
    if kind == "date":
        return "'2000-01-01'" if quoted else "DATE '2000-01-01'"
    return "'x'"


def substitute_templates(sql: str, dialect: Dialect) -> TemplateUse:
    """Replace `{{ var }}` by a typed literal so the query parses and describes as it will run."""
    if _STATEMENT_RE.search(sql):
        raise SqlProblem(
            "Jinja statements and comments ({% ... %}, {# ... #}) are not supported; "
            "use {{ variable }} expressions only"
        )
    used: list[str] = []

    def replace(match: re.Match[str]) -> str:
        quoted = bool(match.group("q") and match.group("q2"))
        var = _VAR_RE.match(match.group("expr"))
        name = var.group("var") if var else match.group("expr")
        if var is None:
            raise SqlProblem(
                f"template {{{{ {name} }}}} is not a plain variable; filters and expressions "
                "are not supported (values are bound with their types, not pasted in)"
            )
        if name.startswith("params."):
            kind = "param"
        elif name in TEMPLATE_VARS:
            kind = TEMPLATE_VARS[name]
        else:
            raise SqlProblem(
                f"unknown template variable {{{{ {match.group('expr')} }}}}; known: "
                f"{', '.join(sorted(TEMPLATE_VARS))} and params.<name>"
            )
        used.append(name)
        if kind == "param":
            return "'x'" if quoted else "NULL"
        text = _placeholder(kind, quoted, dialect)
        if match.group("q") and not quoted:
            return "'" + text
        if match.group("q2") and not quoted:
            return text + "'"
        return text

    rendered = _TEMPLATE_RE.sub(replace, sql)
    if "{{" in rendered or "}}" in rendered:
        raise SqlProblem("unbalanced template braces: write {{ variable }}")
    return TemplateUse(tuple(dict.fromkeys(used)), rendered)


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def parse_select(sql: str, dialect: Dialect) -> object:
    """Parse `sql` and return its sqlglot tree; SqlProblem unless it is one read-only SELECT."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        with _quiet_sqlglot():
            statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as err:
        first = err.errors[0] if err.errors else {}
        raise SqlProblem(
            f"does not parse as {dialect} SQL at line {first.get('line', '?')}, column "
            f"{first.get('col', '?')}: {first.get('description', str(err))} near "
            f"{first.get('highlight', '')!r}"
        ) from None
    except TokenError as err:
        raise SqlProblem(f"does not parse as {dialect} SQL: {err}") from None
    if not statements:
        raise SqlProblem("is empty: write one SELECT statement")
    if len(statements) > 1:
        raise SqlProblem(
            f"holds {len(statements)} statements; write exactly one SELECT (no ';' between)"
        )
    tree = statements[0]
    while isinstance(tree, exp.Subquery):
        tree = tree.this
    if not isinstance(tree, exp.Select | exp.SetOperation):
        raise SqlProblem(
            f"must be a SELECT or WITH query, not {_statement_name(tree)} (only reading is allowed)"
        )
    _check_tree(tree)
    return tree


def _statement_name(tree: object) -> str:
    from sqlglot import exp

    if isinstance(tree, exp.Command):
        return str(tree.this).upper()
    return type(tree).__name__.upper()


_WRITES: Final = (
    "Insert",
    "Update",
    "Delete",
    "Merge",
    "Create",
    "Drop",
    "Alter",
    "TruncateTable",
    "Command",
    "Copy",
    "Set",
    "Lock",
)


def _check_tree(tree: object) -> None:
    from sqlglot import exp

    writes = tuple(getattr(exp, name) for name in _WRITES if hasattr(exp, name))
    for node in tree.walk():  # type: ignore[attr-defined]
        if isinstance(node, writes):
            raise SqlProblem(
                f"contains {_statement_name(node)} inside the query; only reading is allowed"
            )
        if isinstance(node, exp.Select):
            if node.args.get("into") is not None:
                raise SqlProblem("uses SELECT ... INTO, which creates a table; remove INTO")
            if node.args.get("locks"):
                raise SqlProblem(
                    "takes row locks (FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE); remove them"
                )
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in _FORBIDDEN_FUNCTIONS:
                raise SqlProblem(f"calls {name}(), which is not allowed in an extraction")


def output_names(tree: object) -> list[str] | None:
    """Output column names when the select list says them (None when `*` hides them)."""
    from sqlglot import exp

    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return None
    names: list[str] = []
    for item in select.expressions:
        if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and item.is_star):
            return None
        names.append(item.alias_or_name)
    return names


def table_names(tree: object) -> set[str]:
    """Names of the tables a query reads, minus its own CTEs."""
    from sqlglot import exp

    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}  # type: ignore[attr-defined]
    return {
        t.name
        for t in tree.find_all(exp.Table)  # type: ignore[attr-defined]
        if t.name and t.name not in ctes and not t.args.get("db")
    } | {
        f"{t.args['db'].name}.{t.name}"
        for t in tree.find_all(exp.Table)  # type: ignore[attr-defined]
        if t.args.get("db")
    }
