from __future__ import annotations

import pytest

from etl_express.detect import checksums


@pytest.mark.parametrize("value", ["7707083893", "500100732259", "7830002293"])
def test_inn_valid(value: str) -> None:
    assert checksums.inn_valid(value)


@pytest.mark.parametrize("value", ["7707083894", "500100732250", "123456789", "12345678901"])
def test_inn_invalid(value: str) -> None:
    assert not checksums.inn_valid(value)


def test_snils() -> None:
    assert checksums.snils_valid("11223344595")
    assert not checksums.snils_valid("11223344596")
    # sums of 100/101 give check number 00
    assert not checksums.snils_valid("1122334459")


def test_ogrn_and_ogrnip() -> None:
    assert checksums.ogrn_valid("1027700132195")
    assert not checksums.ogrn_valid("1027700132196")
    assert checksums.ogrnip_valid("304500116000157")
    assert not checksums.ogrnip_valid("304500116000158")


def test_luhn() -> None:
    assert checksums.luhn_valid("4111111111111111")
    assert checksums.luhn_valid("2200000000000004")
    assert not checksums.luhn_valid("4111111111111112")
    assert not checksums.luhn_valid("41111")


def test_iban() -> None:
    assert checksums.iban_valid("GB82WEST12345698765432")
    assert checksums.iban_valid("DE89370400440532013000")
    assert not checksums.iban_valid("GB82WEST12345698765433")
    assert not checksums.iban_valid("1282WEST12345698765432")


def test_bank_account_key_against_bik() -> None:
    bik = "044525225"
    assert checksums.bank_account_valid("40817810899910004312", bik)
    assert not checksums.bank_account_valid("40817810199910004312", bik)
    assert not checksums.bank_account_valid("4081781089991000431", bik)
