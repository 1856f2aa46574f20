from __future__ import annotations

import pytest

from etl_express.spec.sqlcheck import (
    SqlProblem,
    output_names,
    parse_select,
    substitute_templates,
    table_names,
)


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("INSERT INTO t SELECT 1", "INSERT"),
        ("TRUNCATE customers", "TRUNCATE"),
        ("VACUUM", "VACUUM"),
        ("COPY customers TO STDOUT", "COPY"),
        ("SET search_path = x", "SET"),
        ("SELECT 1; DROP TABLE customers", "2 statements"),
        ("SELECT * FROM t FOR SHARE", "locks"),
        ("SELECT set_config('x', 'y', false)", "set_config"),
        ("SELECT lo_import('/etc/passwd')", "lo_import"),
        ("", "empty"),
    ],
)
def test_postgres_refusals(sql: str, fragment: str) -> None:
    with pytest.raises(SqlProblem, match=fragment):
        parse_select(sql, "postgres")


def test_mysql_locking_read_is_refused() -> None:
    with pytest.raises(SqlProblem, match="locks"):
        parse_select("SELECT * FROM t LOCK IN SHARE MODE", "mysql")
    with pytest.raises(SqlProblem, match="sleep"):
        parse_select("SELECT SLEEP(10)", "mysql")


def test_reads_are_accepted_with_their_names() -> None:
    tree = parse_select(
        "WITH a AS (SELECT id FROM s.t) SELECT id AS key, 2 AS two FROM a", "postgres"
    )
    assert output_names(tree) == ["key", "two"]
    assert table_names(tree) == {"s.t"}
    assert output_names(parse_select("SELECT * FROM t", "postgres")) is None
    union = parse_select("(SELECT a FROM x) UNION ALL (SELECT b FROM y)", "postgres")
    assert table_names(union) == {"x", "y"}


def test_templates_become_typed_literals() -> None:
    sql = (
        "SELECT * FROM t WHERE ts >= {{ data_interval_start }} AND d = '{{ ds }}' "
        "AND ts < {{ data_interval_end }} AND k = {{ params.key }}"
    )
    used = substitute_templates(sql, "postgres")
    assert used.variables == ("data_interval_start", "ds", "data_interval_end", "params.key")
    assert used.params == ("key",)
    assert "TIMESTAMP '2000-01-01 00:00:00+00:00'" in used.rendered
    assert "d = '2000-01-01'" in used.rendered and "k = NULL" in used.rendered
    parse_select(used.rendered, "postgres")
    assert "+00:00" not in substitute_templates("{{ logical_date }}", "mysql").rendered


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("SELECT {{ secret_var }}", "unknown template variable"),
        ("SELECT {% raw %}1{% endraw %}", "Jinja statements"),
        ("SELECT {{ ds ", "unbalanced"),
        ("SELECT {{ ds | upper }}", "not a plain variable"),
        ("SELECT {{ run_id }}", "unknown template variable"),
    ],
)
def test_template_refusals(sql: str, fragment: str) -> None:
    with pytest.raises(SqlProblem, match=fragment):
        substitute_templates(sql, "postgres")


def test_template_variables_are_those_the_extract_stage_binds() -> None:
    from etl_express.spec.sqlcheck import TEMPLATE_VARS
    from etl_express.stages.entry import _template_values

    run = {"data_interval_start": "2026-01-01T00:00:00+00:00",
           "data_interval_end": "2026-01-02T00:00:00+00:00", "params": {}}  # fmt: skip
    provided = set(_template_values(run, {"task": {"params": {}}})) - {"params"}
    assert set(TEMPLATE_VARS) == provided


def test_incremental_column_is_checked_against_an_explicit_select_list() -> None:
    from etl_express.errors import ValidationFailed
    from etl_express.spec import parse_script

    base = {"source": "mysql", "connection_id": "crm", "incremental_column": "updated_at"}
    with pytest.raises(ValidationFailed) as failed:
        parse_script("extraction", {**base, "query": "SELECT id, name FROM clients"})
    assert [e.path for e in failed.value.errors] == ["$.incremental_column"]
    with pytest.raises(ValidationFailed) as failed:
        parse_script("extraction", {**base, "query": "SELECT id, id, updated_at FROM clients"})
    assert [e.path for e in failed.value.errors] == ["$.query"]
    parse_script("extraction", {**base, "query": "SELECT c.id, c.updated_at FROM clients c"})
    parse_script("extraction", {**base, "query": "SELECT * FROM clients"})  # names unknown
