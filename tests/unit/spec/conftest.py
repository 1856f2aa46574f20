"""Fixtures of the spec tests; the world itself is built in spec_world.py."""

from __future__ import annotations

import pytest
from spec_world import make_world

from etl_express.spec import StaticContext


@pytest.fixture(scope="session")
def world() -> StaticContext:
    return make_world()
