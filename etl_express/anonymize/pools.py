"""Value pools for fakes, taken once per process from Faker's provider lists (no Faker calls)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import polars as pl


@dataclass(frozen=True)
class NamePools:
    first_male: pl.Series
    first_female: pl.Series
    last_male: pl.Series
    last_female: pl.Series
    middle_male: pl.Series | None
    middle_female: pl.Series | None


def _series(values: object) -> pl.Series:
    # Faker keeps some lists as OrderedDict of weights; the keys are the values.
    return pl.Series(list(dict.fromkeys(values)), dtype=pl.String)  # type: ignore[call-overload]


@lru_cache(maxsize=2)
def name_pools(locale: str) -> NamePools:
    if locale == "ru_RU":
        from faker.providers.person.ru_RU import Provider as Ru

        return NamePools(
            first_male=_series(Ru.first_names_male),
            first_female=_series(Ru.first_names_female),
            last_male=_series(Ru.last_names_male),
            last_female=_series(Ru.last_names_female),
            middle_male=_series(Ru.middle_names_male),
            middle_female=_series(Ru.middle_names_female),
        )
    from faker.providers.person.en_US import Provider as En

    last = _series(En.last_names)
    return NamePools(
        first_male=_series(En.first_names_male),
        first_female=_series(En.first_names_female),
        last_male=last,
        last_female=last,
        middle_male=None,
        middle_female=None,
    )


@lru_cache(maxsize=1)
def latin_names() -> tuple[pl.Series, pl.Series]:
    """First and last names for e-mail local parts (ASCII in every locale)."""
    from faker.providers.person.en_US import Provider as En

    first = _series([*En.first_names_male, *En.first_names_female]).str.to_lowercase()
    return first, _series(En.last_names).str.to_lowercase()


@dataclass(frozen=True)
class AddressPools:
    cities: pl.Series
    streets: pl.Series
    street_kinds: pl.Series


@lru_cache(maxsize=2)
def address_pools(locale: str) -> AddressPools:
    if locale == "ru_RU":
        from faker.providers.address.ru_RU import Provider as RuAddr

        return AddressPools(
            # "Агинское (Забайк.)" → "Агинское": the disambiguating note is not part of a name.
            cities=_series(RuAddr.city_names)
            .str.replace(r"\s*\(.*\)$", "")
            .unique(maintain_order=True),
            streets=_series(RuAddr.street_titles),
            # street_titles are feminine adjectives ("Советская"): only "улица" agrees.
            street_kinds=_series(["ул."]),
        )
    from faker.providers.address.en_US import Provider as EnAddr
    from faker.providers.person.en_US import Provider as En

    # en_US has no city list: Faker composes "<prefix> <first name><suffix>"; so do we, once.
    firsts = list(dict.fromkeys(En.first_names_male))[:120]
    cities = [
        f"{p} {f}{s}"
        for p in EnAddr.city_prefixes
        for f in firsts[:40]
        for s in ("ville", "ton", "burgh", "port")
    ]
    return AddressPools(
        cities=_series(cities),
        streets=_series(list(dict.fromkeys(En.last_names))[:400]),
        street_kinds=_series(list(EnAddr.street_suffixes)[:40]),
    )
