"""Task schedules: manual, an Airflow preset, or a 5-field cron checked by croniter (as Airflow)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

# The same presets as airflow.sdk.definitions.timetables._cron.CRON_PRESETS, plus @once.
PRESETS: Final = ("@once", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly")
MANUAL: Final = "manual"


def normalize_schedule(value: str | None) -> str | None:
    """None for manual runs, else the preset or cron expression; ValueError with a sentence."""
    if value is None or value.strip().lower() in ("", MANUAL, "none"):
        return None
    text = " ".join(value.split())
    if text.startswith("@"):
        if text not in PRESETS:
            raise ValueError(f"{value!r} is not a preset; use one of {', '.join(PRESETS)}")
        return text
    fields = text.split(" ")
    if len(fields) != 5:
        raise ValueError(
            f"{value!r} has {len(fields)} fields; a cron expression has 5 "
            "(minute hour day-of-month month day-of-week), e.g. '0 3 * * *'"
        )
    from croniter import CroniterBadCronError, CroniterBadDateError, croniter

    try:
        # get_next finds expressions that parse but never fire (e.g. February 30th).
        croniter(text, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except (CroniterBadCronError, CroniterBadDateError, ValueError) as err:
        raise ValueError(f"{value!r} is not a valid cron expression: {err}") from None
    return text
