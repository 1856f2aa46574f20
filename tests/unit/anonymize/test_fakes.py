from __future__ import annotations

import re

import polars as pl
import pytest

from etl_express.anonymize.keys import KeyRing
from etl_express.anonymize.operators import fake_outputs, run_outputs
from etl_express.anonymize.rules import FakeKind, FakeRule


def inn_valid(value: str) -> bool:
    d = [int(c) for c in value]

    def check(weights: list[int], digits: list[int]) -> int:
        return sum(w * x for w, x in zip(weights, digits, strict=False)) % 11 % 10

    if len(d) == 10:
        return check([2, 4, 10, 3, 5, 9, 4, 6, 8], d) == d[9]
    if len(d) == 12:
        return (
            check([7, 2, 4, 10, 3, 5, 9, 4, 6, 8], d) == d[10]
            and check([3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8], d) == d[11]
        )
    return False


def snils_valid(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    body, check = digits[:9], int(digits[9:])
    total = sum(int(c) * (9 - i) for i, c in enumerate(body))
    expected = total if total < 100 else (total % 101) % 100
    return expected == check


def fakes(keys: KeyRing, kind: FakeKind, locale: str = "ru_RU", n: int = 3000) -> list[str]:
    frame = pl.DataFrame({"v": [f"value-{i}" for i in range(n)]})
    rule = FakeRule(operator="fake", kind=kind, locale=locale)
    return run_outputs(frame, [fake_outputs(pl.col("v"), rule, keys, name="v")])["v"].to_list()


def test_inn_fakes_have_valid_check_digits(keys: KeyRing) -> None:
    for kind, length in ((FakeKind.inn10, 10), (FakeKind.inn12, 12)):
        values = fakes(keys, kind)
        assert all(len(v) == length and v.isdigit() for v in values)
        assert all(inn_valid(v) for v in values)
        assert len(set(values)) > 2900  # digits really vary


def test_snils_fakes_have_valid_check_number(keys: KeyRing) -> None:
    values = fakes(keys, FakeKind.snils)
    assert all(re.fullmatch(r"\d{3}-\d{3}-\d{3} \d{2}", v) for v in values)
    assert all(snils_valid(v) for v in values)


def test_checker_rejects_a_wrong_check_digit() -> None:
    # guards the test helpers themselves: a real INN/SNILS with one digit changed fails
    assert inn_valid("7707083893") and not inn_valid("7707083894")
    assert snils_valid("112-233-445 95") and not snils_valid("112-233-445 96")


@pytest.mark.parametrize(
    ("kind", "locale", "pattern"),
    [
        (FakeKind.person_name, "ru_RU", r"[А-ЯЁ][а-яё-]+ [А-ЯЁ][а-яё-]+ [А-ЯЁ][а-яё-]+"),
        (FakeKind.person_name, "en_US", r"[A-Z][a-zA-Z'-]+ [A-Z][a-zA-Z'-]+"),
        (FakeKind.email, "ru_RU", r"[a-z'-]+\.[a-z'-]+\d{1,3}@example\.(com|org|net)"),
        (FakeKind.phone, "ru_RU", r"\+79\d{9}"),
        (FakeKind.phone, "en_US", r"\+1[2-9]\d{2}[2-9]\d{6}"),
        (FakeKind.address, "ru_RU", r"г\. .+, ул\. .+, д\. \d+, кв\. \d+"),
        (FakeKind.city, "en_US", r".+"),
    ],
)
def test_fake_shapes(keys: KeyRing, kind: FakeKind, locale: str, pattern: str) -> None:
    values = fakes(keys, kind, locale, n=500)
    bad = [v for v in values if not re.fullmatch(pattern, v)]
    assert not bad, bad[:5]


def test_russian_name_agrees_in_gender(keys: KeyRing) -> None:
    for name in fakes(keys, FakeKind.person_name, n=500):
        last, _first, middle = name.split(" ")
        female = middle.endswith("на")
        assert last.endswith(("а", "я")) == female or not last.endswith(
            ("ов", "ев", "ин", "ова", "ева", "ина")
        )


def test_fakes_are_deterministic_and_key_dependent(keys: KeyRing, other_keys: KeyRing) -> None:
    assert fakes(keys, FakeKind.person_name, n=50) == fakes(keys, FakeKind.person_name, n=50)
    assert fakes(keys, FakeKind.inn12, n=50) != fakes(other_keys, FakeKind.inn12, n=50)


def test_preload_loads_the_pools_the_rules_fakes_draw_from() -> None:
    from etl_express.anonymize import pools
    from etl_express.anonymize.fakes import preload_pools
    from etl_express.anonymize.rules import parse_rules

    for loader in (pools.name_pools, pools.latin_names, pools.address_pools):
        loader.cache_clear()
    rules = parse_rules(
        {
            "columns": {
                "name": {"operator": "fake", "kind": "person_name", "locale": "en_US"},
                "mail": {"operator": "fake", "kind": "email"},
                "inn": {"operator": "pseudonym"},
            },
            "unlisted_columns": "keep",
        }
    )
    preload_pools(rules)
    assert pools.name_pools.cache_info().currsize == 1
    assert pools.latin_names.cache_info().currsize == 1
    assert pools.address_pools.cache_info().currsize == 0  # no address or city fake
