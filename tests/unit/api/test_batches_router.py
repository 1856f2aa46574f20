from __future__ import annotations

from typing import get_args

from etl_express.api.routers.batches import BatchState
from etl_express.stores.schema import BATCH_STATES


def test_the_state_filter_offers_exactly_the_states_the_table_allows() -> None:
    assert get_args(BatchState) == BATCH_STATES
