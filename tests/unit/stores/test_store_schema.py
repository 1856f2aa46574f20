"""The schema module's promises that code elsewhere relies on."""

from __future__ import annotations

from etl_express.spec import ScriptKind
from etl_express.spec.common import SLUG_PATTERN as SPEC_SLUG_PATTERN
from etl_express.stores import schema


def test_script_kinds_match_the_spec() -> None:
    assert set(schema.SCRIPT_KINDS) == {k.value for k in ScriptKind}


def test_slug_rule_matches_the_spec() -> None:
    assert schema.SLUG_PATTERN == SPEC_SLUG_PATTERN


def test_batch_states_cover_the_design() -> None:
    from etl_express.stores.batches import TRANSITIONS

    assert set(TRANSITIONS) == set(schema.BATCH_STATES)
    for targets in TRANSITIONS.values():
        assert targets <= set(schema.BATCH_STATES)


def test_every_table_has_a_primary_key() -> None:
    for table in schema.metadata.tables.values():
        assert table.primary_key.columns, table.name
