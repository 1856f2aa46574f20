from __future__ import annotations

import datetime as dt
import random

import pytest

from etl_express.runtime.demo import CUSTOMERS, DAYS, inn12, snils, timeline


def _inn12_valid(value: str) -> bool:
    d = [int(c) for c in value]
    w11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    w12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    c11 = sum(a * b for a, b in zip(d[:10], w11, strict=True)) % 11 % 10
    c12 = sum(a * b for a, b in zip(d[:11], w12, strict=True)) % 11 % 10
    return d[10] == c11 and d[11] == c12


def _snils_valid(value: str) -> bool:
    digits = value.replace("-", "").replace(" ", "")
    total = sum(int(c) * w for c, w in zip(digits[:9], range(9, 0, -1), strict=True))
    check = total % 101 % 100 if total > 101 else (0 if total in (100, 101) else total)
    return int(digits[9:]) == check


def test_generated_identifiers_have_valid_check_digits() -> None:
    rng = random.Random(1)
    assert all(_inn12_valid(inn12(rng)) for _ in range(2000))
    assert all(_snils_valid(snils(rng)) for _ in range(2000))


def test_snils_format() -> None:
    value = snils(random.Random(2))
    assert len(value) == 14 and value[3] == "-" and value[7] == "-" and value[11] == " "


def test_russian_phones_are_real_numbers_in_the_usual_spellings() -> None:
    import phonenumbers

    from etl_express.runtime.demo import ru_phone

    rng = random.Random(3)
    phones = [ru_phone(rng) for _ in range(500)]
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p, "RU")) for p in phones)
    assert {p[0] for p in phones} == {"+", "8"}  # international and with the trunk 8


def test_timeline_covers_every_day_before_the_load_alike() -> None:
    end = dt.datetime(2026, 11, 22, 13, 45, 7, tzinfo=dt.UTC)
    times = timeline(CUSTOMERS, end, random.Random(4))
    assert times == sorted(set(times)) and len(times) == CUSTOMERS
    assert end - dt.timedelta(days=DAYS) <= times[0] and times[-1] < end
    per_day: dict[dt.date, int] = {}
    for t in times:
        per_day[t.date()] = per_day.get(t.date(), 0) + 1
    # The full days before the load: 5000 rows over 60 days is 83.3 a day, one per 1036.8 s.
    full_days = [end.date() - dt.timedelta(days=d) for d in range(1, DAYS)]
    assert all(per_day.get(day, 0) >= CUSTOMERS // DAYS - 1 for day in full_days), per_day
    assert per_day[end.date()] > 0  # the load day up to the load time


def test_timeline_is_fixed_by_the_load_time_and_seed() -> None:
    end = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    assert timeline(100, end, random.Random(5)) == timeline(100, end, random.Random(5))
    later = timeline(100, end + dt.timedelta(days=1), random.Random(5))
    assert later == [t + dt.timedelta(days=1) for t in timeline(100, end, random.Random(5))]


def test_timeline_needs_an_aware_end() -> None:
    with pytest.raises(ValueError, match="end"):
        timeline(10, dt.datetime(2026, 11, 22), random.Random(6))
