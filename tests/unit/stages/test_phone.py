from __future__ import annotations

import polars as pl
import pytest

from etl_express.stages.phone import normalize_phone

CASES = [
    ("+7 (916) 123-45-67", "+79161234567"),
    ("8 916 123 45 67", "+79161234567"),
    ("9161234567", "+79161234567"),
    ("(212) 555-0123", "+12125550123"),
    ("+1-212-555-0123", "+12125550123"),
    ("1 212 555 0123", "+12125550123"),
    ("020 7946 0958", "+442079460958"),
    ("07700 900123", "+447700900123"),
    ("+44 20 7946 0958", "+442079460958"),
    ("0044 20 7946 0958", "+442079460958"),
    ("+49 30 123456", "+4930123456"),
    # an extension is dropped, the number kept (E.164 has no extension)
    ("617.934.5592x29853", "+16179345592"),
    ("001-814-806-1281x99503", "+18148061281"),
    ("+7 916 123-45-67, доб. 123", "+79161234567"),
    ("(212) 555-0123 ext. 45", "+12125550123"),
    ("n/a", None),
    ("ext 12", None),
    ("x123", None),
    ("212-555-0123 x1234567", None),  # seven digits are no extension
    ("123", None),
    ("", None),
    (None, None),
    ("+7 (116) 123-45-67", None),  # no Russian code starts with 1
    ("+1 (112) 555-0123", None),  # NANP area codes start with 2-9
]


def _run(
    values: list[str | None], regions: tuple[str, ...] = ("RU", "US", "GB")
) -> list[str | None]:
    frame = pl.DataFrame({"p": values}, schema={"p": pl.String})
    return normalize_phone(frame.lazy(), "p", "out", regions).collect()["out"].to_list()


def test_known_formats_become_e164() -> None:
    assert _run([v for v, _ in CASES]) == [e for _, e in CASES]


def test_agrees_with_phonenumbers_on_valid_inputs() -> None:
    import phonenumbers

    valid = [v for v, e in CASES if e is not None and not v.startswith("+49")]
    ours = _run(valid)
    region = {"+7": "RU", "+1": "US", "+4": "GB"}
    for value, mine in zip(valid, ours, strict=True):
        assert mine is not None
        # "00" is the international prefix outside North America (from the US it is 011)
        parsed = phonenumbers.parse(value, "GB" if value.startswith("00") else region[mine[:2]])
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == mine


def test_region_order_decides_ambiguous_national_numbers() -> None:
    # 10 digits starting with 9, 4th digit 2-9: a Russian mobile and a valid NANP number
    assert _run(["9165550123"], ("RU", "US")) == ["+79165550123"]
    assert _run(["9165550123"], ("US", "RU")) == ["+19165550123"]


def test_region_column_reads_each_rows_numbers_in_its_own_region_first() -> None:
    frame = pl.DataFrame(
        {
            "p": ["(913) 555-0123", "913 555 01 23", "8 913 555 01 23", "(913) 555-0123", None],
            "country": ["US", " ru ", "US", None, "US"],
        }
    )
    out = normalize_phone(frame.lazy(), "p", "out", ("RU", "US", "GB"), "country").collect()
    # RU numbers written with the trunk 8 stay Russian; unknown regions use the given order
    assert out["out"].to_list() == [
        "+19135550123",
        "+79135550123",
        "+79135550123",
        "+79135550123",
        None,
    ]
    assert out.columns == ["p", "country", "out"]


def test_unknown_region_is_rejected() -> None:
    with pytest.raises(ValueError, match="unsupported phone region"):
        _run(["1"], ("FR",))


def test_helper_columns_do_not_leak_and_order_is_kept() -> None:
    frame = pl.DataFrame({"a": [1, 2], "p": ["8 916 123 45 67", None]})
    out = normalize_phone(frame.lazy(), "p", "p").collect()
    assert out.columns == ["a", "p"]
    assert out["p"].to_list() == ["+79161234567", None]
