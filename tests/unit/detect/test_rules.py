"""Recognizer rules: checksums, context words and hard negatives (no Presidio needed)."""

from __future__ import annotations

import pytest

from etl_express.detect.catalog import ALL_RULES
from etl_express.detect.resolve import resolve
from etl_express.detect.spans import Span


def found(text: str, threshold: float = 0.5) -> list[tuple[str, str]]:
    candidates = [
        Span(c.start, c.end, c.entity, c.score) for rule in ALL_RULES for c in rule.find(text)
    ]
    return [(s.entity, text[s.start : s.end]) for s in resolve(text, candidates, threshold)]


def scores(text: str, entity: str) -> list[float]:
    return [c.score for r in ALL_RULES if r.entity == entity for c in r.find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ИНН 7707083893", ("RU_INN", "7707083893")),
        ("ИНН: 500100732259.", ("RU_INN", "500100732259")),
        ("ИНН/КПП 7707083893/770701001", ("RU_INN", "7707083893")),
        ("Taxpayer INN 7830002293", ("RU_INN", "7830002293")),
        ("СНИЛС 112-233-445 95", ("RU_SNILS", "112-233-445 95")),
        ("снилс 11223344595", ("RU_SNILS", "11223344595")),
        ("ОГРН 1027700132195", ("RU_OGRN", "1027700132195")),
        ("ОГРНИП 304500116000157", ("RU_OGRNIP", "304500116000157")),
        ("паспорт 45 08 123456", ("RU_PASSPORT", "45 08 123456")),
        ("паспорт серии 4508 № 123456", ("RU_PASSPORT", "4508 № 123456")),
        ("Паспорт 4508 123456 выдан", ("RU_PASSPORT", "4508 123456")),
        ("полис ОМС 1234567890123456", ("RU_OMS", "1234567890123456")),
        ("карта 4111 1111 1111 1111", ("CREDIT_CARD", "4111 1111 1111 1111")),
        ("Card 2200000000000004", ("CREDIT_CARD", "2200000000000004")),
        ("БИК 044525225", ("RU_BIK", "044525225")),
        ("IBAN GB82 WEST 1234 5698 7654 32", ("IBAN_CODE", "GB82 WEST 1234 5698 7654 32")),
        ("write to a.b-c@mail.example.ru", ("EMAIL_ADDRESS", "a.b-c@mail.example.ru")),
        ("вход с IP 192.168.10.1", ("IP_ADDRESS", "192.168.10.1")),
        ("from 2001:db8:85a3::8a2e:370:7334", ("IP_ADDRESS", "2001:db8:85a3::8a2e:370:7334")),
        ("тел. +7 (912) 345-67-89", ("PHONE_NUMBER", "+7 (912) 345-67-89")),
        ("звоните 8 912 345 67 89", ("PHONE_NUMBER", "8 912 345 67 89")),
        ("call (415) 555-2671", ("PHONE_NUMBER", "(415) 555-2671")),
        ("phone +44 20 7946 0958", ("PHONE_NUMBER", "+44 20 7946 0958")),
        ("mobile 07700 900123", ("PHONE_NUMBER", "07700 900123")),
        ("call back at 001-814-806-1281x99503", ("PHONE_NUMBER", "001-814-806-1281")),
        ("asked for a call back at 3094094124.", ("PHONE_NUMBER", "3094094124")),
        ("д.р. 26.09.1938", ("DATE_OF_BIRTH", "26.09.1938")),
        ("Иванов, 1985 г.р., жалоб нет", ("DATE_OF_BIRTH", "1985")),
        ("дата рождения 12 мая 1986 года", ("DATE_OF_BIRTH", "12 мая 1986")),
        ("DOB: March 3, 1979", ("DATE_OF_BIRTH", "March 3, 1979")),
        ("born 03/22/1960 in Ohio", ("DATE_OF_BIRTH", "03/22/1960")),
    ],
)
def test_positive(text: str, expected: tuple[str, str]) -> None:
    assert expected in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "ИНН 7707083894",  # INN check digit wrong
        "СНИЛС 112-233-445 96",  # SNILS check number wrong
        "ОГРН 1027700132196",
        "карта 4111 1111 1111 1112",  # fails Luhn
        "IBAN GB82 WEST 1234 5698 7654 33",  # fails mod-97
        "вход с IP 999.168.10.1",
    ],
)
def test_invalid_checksums_never_fire(text: str) -> None:
    assert found(text, threshold=0.01) == []


@pytest.mark.parametrize(
    "text",
    [
        "Заказ № 7707083893 отправлен",  # INN-valid digits, but an order number
        "Invoice 7830002293 is overdue",
        "Артикул 112-233-445 95 снят с продажи",  # SNILS-valid product code
        "Трек-номер 1234567890123456 в пути",  # 16 digits, no OMS cue, not Luhn
        "Reference 4111111111111112",  # fails Luhn
        "Приём 08.10.2024 в 14:30:15, визит 2023-05-01",  # dates that are not birth dates
        "Timestamp 1700000000123 recorded",
        "Номер 1234567890 в системе",  # bare 10 digits: not a passport without a cue
        "Итого 4508 123456 руб.",
        "Build 4.12.0.1 released",
        "Order number 4355647616 has been shipped",  # bare 10 digits need a word about calling
        "Номер талона 3803107106.",
        "Contract for April Delivery signed",  # a month after a non-person cue is no name
    ],
)
def test_hard_negatives(text: str) -> None:
    assert found(text) == []


def test_checksum_alone_is_not_certainty_and_context_raises_it() -> None:
    bare = scores("7707083893", "RU_INN")
    with_cue = scores("ИНН 7707083893", "RU_INN")
    assert bare and with_cue
    assert max(bare) < 0.5 < max(with_cue) < 1.0


def test_negative_cue_nearer_than_positive_lowers_score() -> None:
    near_negative = scores("ИНН клиента указан, номер заказа 7707083893", "RU_INN")
    assert max(near_negative) < max(scores("ИНН 7707083893", "RU_INN"))


def test_oms_needs_its_cue_and_beats_card_shape() -> None:
    text = "Полис ОМС 4111111111111111"
    assert found(text) == [("RU_OMS", "4111111111111111")]
    assert found("Оплата картой 4111111111111111") == [("CREDIT_CARD", "4111111111111111")]


def test_birth_cue_applies_to_the_next_date_only() -> None:
    text = "д.р. 26.09.1938, приём 08.10.2024"
    assert found(text) == [("DATE_OF_BIRTH", "26.09.1938")]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Рекомендация от Андреева Е.И.: кандидат", "Андреева Е.И."),
        ("Подпись: И. В. Петров", "И. В. Петров"),
        ("выдано пациентке Ивановой Анне Сергеевне", "Ивановой Анне Сергеевне"),
        ("Please ask Dr. Emily Stone to call", "Emily Stone"),
        ("Здравствуйте, Мария!", "Мария"),
        ("Contract signed; signatory Anna Lee.", "Anna Lee"),
        ("Relocation of Sergey Voronov from Omsk", "Sergey Voronov"),
        ("Customer April Greene asked for a call back", "April Greene"),  # a month as a name
    ],
)
def test_name_shapes(text: str, name: str) -> None:
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "доставка: г. Кириши, ул. Набережная, д. 1, кв. 143.",
            "г. Кириши, ул. Набережная, д. 1, кв. 143",
        ),
        ("на Жиганск, бул. Жуковского, 25-87. Спасибо", "Жиганск, бул. Жуковского, 25-87"),
        (
            "офис: г. Томск, пр. Невского, д. 58, офис 378.",
            "г. Томск, пр. Невского, д. 58, офис 378",
        ),
        ("г. Ростов-на-Дону, алл. О.Кошевого, д. 84.", "г. Ростов-на-Дону, алл. О.Кошевого, д. 84"),
        (
            "ship to 883 Kristen Route, Danamouth, NH 47234 today",
            "883 Kristen Route, Danamouth, NH 47234",
        ),
        (
            "Flat 7, 201 Wilkinson Viaduct, Port Clareshire, KA7 3QY",
            "Flat 7, 201 Wilkinson Viaduct, Port Clareshire, KA7 3QY",
        ),
        # the town line on the next line; a street suffix there ("Lake") is part of the town
        (
            "Deliver to 752 Tiffany Courts\nLake Brianshire, WY 15601, recipient Lauren Morales.",
            "752 Tiffany Courts\nLake Brianshire, WY 15601",
        ),
        ("Deliver to PSC 1335, Box 7532, APO AA 84812, today", "PSC 1335, Box 7532, APO AA 84812"),
        (
            "по адресу с. Азов (Рост.), наб. 40 лет Победы, д. 7 стр. 2/1, 498970, получатель",
            "с. Азов (Рост.), наб. 40 лет Победы, д. 7 стр. 2/1, 498970",
        ),
    ],
)
def test_address_shapes(text: str, address: str) -> None:
    assert ("LOCATION", address) in found(text)


def test_greeting_without_comma_is_not_a_name() -> None:
    assert found("Добрый день! Подскажите, пожалуйста, сроки.") == []
