from __future__ import annotations

import pytest

from etl_express.spec.schedule import normalize_schedule


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (None, None),
        ("", None),
        ("manual", None),
        ("Manual", None),
        ("@daily", "@daily"),
        ("@quarterly", "@quarterly"),
        ("0  3 * * *", "0 3 * * *"),
        ("*/15 8-18 * * 1-5", "*/15 8-18 * * 1-5"),
        ("0 0 29 2 *", "0 0 29 2 *"),
    ],
)
def test_accepted(given: str | None, stored: str | None) -> None:
    assert normalize_schedule(given) == stored


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("@fortnightly", "not a preset"),
        ("@continuous", "not a preset"),
        ("0 3 * *", "has 4 fields"),
        ("0 0 3 * * *", "has 6 fields"),
        ("99 * * * *", "not a valid cron"),
        ("0 0 31 2 *", "not a valid cron"),
        ("every day", "has 2 fields"),
    ],
)
def test_refused(given: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        normalize_schedule(given)
