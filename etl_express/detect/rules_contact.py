"""Contacts and payment details: e-mail, phones (RU/US/UK), IP addresses, IBAN, bank cards."""

from __future__ import annotations

import ipaddress
import re

from etl_express.detect import checksums
from etl_express.detect import entities as E
from etl_express.detect.rules import PatternRule, Shape, cues
from etl_express.detect.rules_ru_ids import NEGATIVE

EMAIL = PatternRule(
    entity=E.EMAIL_ADDRESS,
    name="email",
    shapes=(
        Shape(
            re.compile(
                r"(?<![\w.%+\-])[\w.%+\-]*\w@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,24}(?![\w\-])"
            ),
            0.9,
        ),
    ),
)

_PHONE_CUES = cues(
    "тел",
    "моб",
    "номер",
    "звон",
    "позвон",
    "контакт",
    "связ",
    "whatsapp",
    "telegram",
    "смс",
    "sms",
    "факс",
    "phone",
    "tel",
    "call",
    "mobile",
    "cell",
    "contact",
    "reach",
    "fax",
    "number",
    "text",
)
_PHONE_NEGATIVE = cues(
    "снилс",
    "инн",
    "огрн",
    "полис",
    "паспорт",
    "счет",
    "счёт",
    "карт",
    "snils",
    "inn",
    "ogrn",
    "policy",
    "passport",
    "account",
    "card",
    "iban",
    "заказ",
    "order",
    "invoice",
    "tracking",
    "трек",
)
_SEP = r"[ \-]?"
_RU_BODY = rf"\(?[3489]\d{{2}}\)?{_SEP}\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{2}}(?![\d\w])"

RU_PHONE = PatternRule(
    entity=E.PHONE_NUMBER,
    name="ru_phone",
    shapes=(
        Shape(re.compile(rf"(?<![\w+])\+7{_SEP}{_RU_BODY}"), 0.7),
        Shape(re.compile(rf"(?<![\w+\-/.])8{_SEP}{_RU_BODY}"), 0.55),
    ),
    validate=lambda digits: len(digits) == 11,
    cues_before=_PHONE_CUES,
    cue_boost=0.3,
    negative_cues=_PHONE_NEGATIVE,
    window_before=32,
)

_NANP = r"[2-9]\d{2}"
US_PHONE = PatternRule(
    entity=E.PHONE_NUMBER,
    name="us_phone",
    shapes=(
        Shape(
            re.compile(
                rf"(?<![\w+])\+1[ .\-]?(?:\({_NANP}\)|{_NANP})[ .\-]?{_NANP}[ .\-]?\d{{4}}(?!\d)"
            ),
            0.7,
        ),
        Shape(re.compile(rf"(?<![\w+\-])\({_NANP}\) ?{_NANP}[ .\-]\d{{4}}(?![\d\-])"), 0.6),
        Shape(re.compile(rf"(?<![\w+\-./])(?<!\d )({_NANP})-{_NANP}-\d{{4}}(?![\d\-])"), 0.5),
        Shape(re.compile(rf"(?<![\w+\-./])({_NANP})\.{_NANP}\.\d{{4}}(?![\d.]\d)"), 0.45),
        # "001-212-555-0123": the international prefix 00 instead of "+".
        Shape(
            re.compile(
                rf"(?<![\w+])00[ .\-]?1[ .\-]?(?:\({_NANP}\)|{_NANP})[ .\-]?{_NANP}[ .\-]?\d{{4}}"
                r"(?!\d)"
            ),
            0.7,
        ),
    ),
    validate=lambda digits: len(digits.removeprefix("00")) in (10, 11),
    cues_before=_PHONE_CUES,
    cue_boost=0.3,
    negative_cues=_PHONE_NEGATIVE,
    window_before=32,
)

# Ten bare digits are as often an INN, a ticket or an order number: reported only after a word
# about calling ("call back at 3094094124"); "number" alone is not enough.
US_BARE_PHONE = PatternRule(
    entity=E.PHONE_NUMBER,
    name="us_bare_phone",
    shapes=(
        Shape(re.compile(rf"(?<![\w+\-./])({_NANP}[2-9]\d{{6}})(?![\w\-])"), 0.35, needs_cue=True),
    ),
    validate=lambda digits: len(digits) == 10,
    cues_before=cues("phone", "tel", "call", "mobile", "cell", "text me", "sms", "whatsapp", "fax"),
    cue_boost=0.3,
    negative_cues=_PHONE_NEGATIVE,
    window_before=32,
)

UK_PHONE = PatternRule(
    entity=E.PHONE_NUMBER,
    name="uk_phone",
    shapes=(
        Shape(
            re.compile(
                r"(?<![\w+])\+44 ?(?:\(0\) ?)?[1-37-9]\d{1,4}(?:[ \-]?\d{2,4}){1,3}(?![\d\w])"
            ),
            0.7,
        ),
        Shape(re.compile(r"(?<![\w+\-./])0[1-37-9]\d{1,4}(?:[ \-]\d{3,4}){1,2}(?![\d\w\-])"), 0.5),
        Shape(re.compile(r"(?<![\w+\-./])0[1-37-9]\d{3}[ \-]\d{6}(?![\d\w\-])"), 0.5),
        # Eleven bare digits starting with 0 are as often some other number (SNILS).
        Shape(re.compile(r"(?<![\w+\-./])0[1-37-9]\d{9}(?![\d\w\-])"), 0.35),
    ),
    validate=lambda digits: len(digits.removeprefix("44").removeprefix("0")) in (9, 10),
    cues_before=_PHONE_CUES,
    cue_boost=0.3,
    negative_cues=_PHONE_NEGATIVE,
    window_before=32,
)


def _ip_valid(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


_IP_CUES = cues("ip", "айпи", "адрес", "address", "host", "хост", "сервер", "server", "from", "с ")
IP = PatternRule(
    entity=E.IP_ADDRESS,
    name="ip",
    shapes=(
        Shape(
            re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)"),
            0.6,
        ),
        Shape(
            re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])"),
            0.8,
        ),
        Shape(
            re.compile(
                r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}(?::[0-9A-Fa-f]{1,4}){1,6}(?![\w:])"
                r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,7}:(?![\w:])"
            ),
            0.5,
        ),
    ),
    validate=_ip_valid,
    normalize=str,
    cues_before=_IP_CUES,
    cue_boost=0.35,
    negative_cues=cues(
        "версия",
        "version",
        "ver.",
        "v.",
        "build",
        "сборка",
        "release",
        "релиз",
        "firmware",
        "прошивк",
    ),
)

_IBAN_LENGTHS = {
    "AD": 24,
    "AT": 20,
    "BE": 16,
    "BG": 22,
    "CH": 21,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "EE": 20,
    "ES": 24,
    "FI": 18,
    "FR": 27,
    "GB": 22,
    "GR": 27,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IS": 26,
    "IT": 27,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MT": 31,
    "NL": 18,
    "NO": 15,
    "PL": 28,
    "PT": 25,
    "RO": 24,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "TR": 26,
    "UA": 29,
    "KZ": 20,
    "AE": 23,
    "SA": 24,
    "IL": 23,
    "GE": 22,
    "AZ": 28,
    "BY": 28,
    "MD": 24,
}


def _iban_valid(compact: str) -> bool:
    expected = _IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    return checksums.iban_valid(compact)


IBAN = PatternRule(
    entity=E.IBAN_CODE,
    name="iban",
    shapes=(
        Shape(
            re.compile(
                r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?"
                r"(?![A-Za-z0-9])"
            ),
            0.75,
        ),
    ),
    validate=_iban_valid,
    normalize=lambda value: value.replace(" ", ""),
    cues_before=cues("iban", "account", "beneficiary", "счет", "счёт", "transfer", "перевод"),
    cue_boost=0.2,
)

_CARD_SEP = r"[ \-]?"
CARD = PatternRule(
    entity=E.CREDIT_CARD,
    name="card",
    shapes=(
        Shape(
            re.compile(
                rf"(?<![\w\-])(?:4\d{{3}}|5[1-5]\d{{2}}|2[2-7]\d{{2}}|6\d{{3}})"
                rf"(?:{_CARD_SEP}\d{{4}}){{3}}(?:{_CARD_SEP}\d{{1,3}})?(?![\w\-])"
            ),
            0.6,
        ),
        Shape(
            re.compile(rf"(?<![\w\-])3[47]\d{{2}}{_CARD_SEP}\d{{6}}{_CARD_SEP}\d{{5}}(?![\w\-])"),
            0.6,
        ),
        Shape(re.compile(r"(?<![\w\-])\d{13,19}(?![\w\-])"), 0.3),
    ),
    validate=checksums.luhn_valid,
    cues_before=cues(
        "карт",
        "card",
        "visa",
        "mastercard",
        "maestro",
        "мир",
        "amex",
        "оплат",
        "payment",
        "paid",
        "списан",
        "charged",
        "refund",
        "возврат",
    ),
    cue_boost=0.35,
    negative_cues=re.compile(
        NEGATIVE.pattern
        + "|"
        + cues(
            "полис",
            "омс",
            "енп",
            "policy",
            "oms",
            "огрн",
            "инн",
            "снилс",
            "паспорт",
            "ogrn",
            "inn",
            "snils",
            "passport",
        ).pattern,
        re.IGNORECASE,
    ),
)

RULES: tuple[PatternRule, ...] = (
    EMAIL,
    RU_PHONE,
    US_PHONE,
    US_BARE_PHONE,
    UK_PHONE,
    IP,
    IBAN,
    CARD,
)
