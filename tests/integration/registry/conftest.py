"""Fixtures for registry tests: the scripts a task needs, saved."""

from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa
from registry_payloads import SCRIPTS

from etl_express.registry import scripts


@pytest.fixture
def saved_scripts(etlx_engine: sa.Engine) -> sa.Engine:
    """The engine, with the four scripts a task needs saved by alice (version 1 each)."""
    for name, (kind, spec) in SCRIPTS.items():
        scripts.save_script(
            etlx_engine, kind=kind, name=name, spec=copy.deepcopy(spec), actor="alice"
        )
    return etlx_engine
