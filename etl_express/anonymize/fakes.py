"""Deterministic realistic fakes as polars expressions.

Every fake is a function of HMAC(fake subkey, value): four 60-bit words from the digest pick
pool entries and digits, so the same value always gets the same fake under the same key, and
no per-value Python (or Faker) runs. Identifier fakes (INN-10/12, SNILS) carry valid check
digits computed with integer arithmetic on whole columns.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from etl_express.anonymize.pools import address_pools, latin_names, name_pools
from etl_express.anonymize.rules import AnonymizationRules, FakeKind, FakeRule

INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _pick(pool: pl.Series, word: pl.Expr) -> pl.Expr:
    return pl.lit(pool).gather(word % pool.len())


def _digits(number: pl.Expr, width: int) -> list[pl.Expr]:
    """Decimal digits (most significant first) of a non-negative integer expression."""
    return [(number // (10 ** (width - 1 - i))) % 10 for i in range(width)]


def _zfill(number: pl.Expr, width: int) -> pl.Expr:
    return number.cast(pl.String).str.zfill(width)


def _check(digits: list[pl.Expr], weights: tuple[int, ...]) -> pl.Expr:
    total = pl.sum_horizontal([d * w for d, w in zip(digits, weights, strict=True)])
    return (total % 11) % 10


def inn10(words: list[pl.Expr]) -> pl.Expr:
    """INN of an organisation: region 01..89, 7 digits, check digit."""
    body = (words[0] % 89 + 1) * 10**7 + words[1] % 10**7
    digits = _digits(body, 9)
    return pl.concat_str([_zfill(body, 9), _check(digits, INN10_WEIGHTS).cast(pl.String)])


def inn12(words: list[pl.Expr]) -> pl.Expr:
    """INN of a person: region 01..89, 8 digits, two check digits."""
    body = (words[0] % 89 + 1) * 10**8 + words[1] % 10**8
    digits = _digits(body, 10)
    c11 = _check(digits, INN12_WEIGHTS_11)
    c12 = _check([*digits, c11], INN12_WEIGHTS_12)
    return pl.concat_str([_zfill(body, 10), c11.cast(pl.String), c12.cast(pl.String)])


def snils(words: list[pl.Expr]) -> pl.Expr:
    """SNILS "123-456-789 01": numbers above 001-001-998 so the check number applies."""
    body = words[0] % (9 * 10**8) + 10**8
    digits = _digits(body, 9)
    total = pl.sum_horizontal([d * (9 - i) for i, d in enumerate(digits)])
    check = pl.when(total < 100).then(total).otherwise((total % 101) % 100)
    text = _zfill(body, 9)
    return pl.concat_str(
        [
            text.str.slice(0, 3),
            pl.lit("-"),
            text.str.slice(3, 3),
            pl.lit("-"),
            text.str.slice(6, 3),
            pl.lit(" "),
            _zfill(check, 2),
        ]
    )


def _gendered(words: list[pl.Expr], locale: str, part: str) -> pl.Expr:
    pools = name_pools(locale)
    male = getattr(pools, f"{part}_male")
    female = getattr(pools, f"{part}_female")
    word = words[{"first": 1, "last": 0, "middle": 2}[part]]
    return pl.when(words[3] % 2 == 0).then(_pick(male, word)).otherwise(_pick(female, word))


def person_name(words: list[pl.Expr], locale: str) -> pl.Expr:
    first = _gendered(words, locale, "first")
    last = _gendered(words, locale, "last")
    if locale == "ru_RU":  # "Фамилия Имя Отчество", the order Russian records use
        return pl.concat_str([last, first, _gendered(words, locale, "middle")], separator=" ")
    return pl.concat_str([first, last], separator=" ")


def email(words: list[pl.Expr]) -> pl.Expr:
    first, last = latin_names()
    # Reserved example domains (RFC 2606): a fake address can never reach a real mailbox.
    domain = pl.lit(pl.Series(["example.com", "example.org", "example.net"])).gather(words[3] % 3)
    return pl.concat_str(
        [
            _pick(first, words[1]),
            pl.lit("."),
            _pick(last, words[0]),
            (words[2] % 1000).cast(pl.String),
            pl.lit("@"),
            domain,
        ]
    )


def phone(words: list[pl.Expr], locale: str) -> pl.Expr:
    """E.164: RU mobile +79XXXXXXXXX; US +1 NXX NXX XXXX (N = 2..9)."""
    if locale == "ru_RU":
        return pl.concat_str([pl.lit("+79"), _zfill(words[0] % 10**9, 9)])
    area = words[0] % 800 + 200
    exchange = words[1] % 800 + 200
    return pl.concat_str(
        [pl.lit("+1"), area.cast(pl.String), exchange.cast(pl.String), _zfill(words[2] % 10**4, 4)]
    )


def city(words: list[pl.Expr], locale: str) -> pl.Expr:
    return _pick(address_pools(locale).cities, words[0])


def address(words: list[pl.Expr], locale: str) -> pl.Expr:
    pools = address_pools(locale)
    house = (words[2] % 199 + 1).cast(pl.String)
    flat = (words[3] % 300 + 1).cast(pl.String)
    if locale == "ru_RU":
        return pl.concat_str(
            [
                pl.lit("г. "),
                city(words, locale),
                pl.lit(", "),
                _pick(pools.street_kinds, words[3]),
                pl.lit(" "),
                _pick(pools.streets, words[1]),
                pl.lit(", д. "),
                house,
                pl.lit(", кв. "),
                flat,
            ]
        )
    return pl.concat_str(
        [
            house,
            pl.lit(" "),
            _pick(pools.streets, words[1]),
            pl.lit(" "),
            _pick(pools.street_kinds, words[3]),
            pl.lit(", Apt "),
            flat,
            pl.lit(", "),
            city(words, locale),
        ]
    )


_BUILDERS: dict[FakeKind, Callable[[list[pl.Expr], str], pl.Expr]] = {
    FakeKind.person_name: person_name,
    FakeKind.first_name: lambda w, loc: _gendered(w, loc, "first"),
    FakeKind.last_name: lambda w, loc: _gendered(w, loc, "last"),
    FakeKind.email: lambda w, _loc: email(w),
    FakeKind.phone: phone,
    FakeKind.address: address,
    FakeKind.city: city,
    FakeKind.inn10: lambda w, _loc: inn10(w),
    FakeKind.inn12: lambda w, _loc: inn12(w),
    FakeKind.snils: lambda w, _loc: snils(w),
}


def fake_from_words(digest: pl.Expr, words: list[pl.Expr], kind: FakeKind, locale: str) -> pl.Expr:
    """Fake of `kind` from the four 60-bit words of a digest (null digest → null fake).

    `words` should be materialized columns: builders read each word many times.
    """
    return pl.when(digest.is_not_null()).then(_BUILDERS[kind](words, locale))


def preload_pools(rules: AnonymizationRules) -> None:
    """Load the pools the rules' fakes draw from, ahead of the first chunk: a streamed run
    does it while the source gives that chunk (importing Faker's lists alone took 0.1 s).
    Building each fake's expression loads what it draws from; nothing is evaluated."""
    words = [pl.lit(0, pl.Int64)] * 4
    for rule in rules.columns.values():
        if isinstance(rule, FakeRule):
            _BUILDERS[rule.kind](words, rule.locale)
