"""Byte-level digit extraction against the regex it replaces."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl_express.utf8_bytes import ascii_digits


def _by_regex(values: pl.Series) -> list[str | None]:
    return values.str.replace_all("[^0-9]+", "").to_list()


@pytest.mark.parametrize(
    "values",
    [
        ["+7 (916) 123-45-67", None, "", "n/a", "доб. 12", "٣٤٥ ١٢", "１２３", "0044 20"],
        [None, None],
        [],
        ["12", "x"],
    ],
)
def test_ascii_digits_equal_the_regex(values: list[str | None]) -> None:
    series = pl.Series("p", values, pl.String)
    got = ascii_digits(series)
    assert got.name == "p" and got.dtype == pl.String
    assert got.to_list() == _by_regex(series)


def test_a_slice_and_several_chunks() -> None:
    chunked = pl.concat([pl.Series("p", ["a1", None, "2b3"]), pl.Series("p", ["(4)", "5"])],
                        rechunk=False)  # fmt: skip
    assert ascii_digits(chunked).to_list() == ["1", None, "23", "4", "5"]
    assert ascii_digits(chunked.slice(2, 2)).to_list() == ["23", "4"]


@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=30))
def test_any_text(values: list[str | None]) -> None:
    series = pl.Series("p", values, pl.String)
    assert ascii_digits(series).to_list() == _by_regex(series)
