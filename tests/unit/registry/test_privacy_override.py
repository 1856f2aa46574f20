from __future__ import annotations

import pytest

from etl_express.errors import Forbidden, ValidationFailed
from etl_express.registry.privacy_override import MAX_REASON_CHARS, clean_reason, override_block


@pytest.mark.parametrize("reason", [None, "", " \t\n "])
def test_a_missing_reason_is_a_field_error(reason: str | None) -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_reason(reason)
    [error] = caught.value.errors
    assert error.path == "$.reason" and "why" in error.message


def test_an_overlong_reason_names_the_limit() -> None:
    with pytest.raises(
        ValidationFailed, match=f"{MAX_REASON_CHARS + 1} characters.*{MAX_REASON_CHARS}"
    ):
        clean_reason("r" * (MAX_REASON_CHARS + 1))
    assert clean_reason("  ok, a false alarm \n") == "ok, a false alarm"
    assert clean_reason("r" * MAX_REASON_CHARS) == "r" * MAX_REASON_CHARS


def test_a_non_admin_is_refused_before_the_database_is_touched() -> None:
    # The engine is never used: a refusal needs no connection.
    with pytest.raises(Forbidden, match="user 'carol' is not one"):
        override_block(object(), 1, actor="carol", is_admin=False, reason="x")  # type: ignore[arg-type]
