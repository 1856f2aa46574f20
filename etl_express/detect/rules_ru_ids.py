"""Russian identifiers: INN, SNILS, OGRN, OGRNIP, passport, OMS policy, BIK, bank account.

Checksums make a match plausible, cue words make it likely: about one random 10-digit number
in ten passes the INN-10 check, so a bare checksum pass stays below the default threshold.
"""

from __future__ import annotations

import re

from etl_express.detect import checksums
from etl_express.detect import entities as E
from etl_express.detect.rules import PatternRule, Shape, cues

# Digits not glued to other digits, letters, or digit-joining punctuation.
_L = r"(?<![\w+\-/])(?<!\d[.,:])"
_R = r"(?![\w\-/]|[.,:]\d)"


def _rx(body: str, right: str = _R) -> re.Pattern[str]:
    return re.compile(_L + body + right)


# "ИНН/КПП 7707083893/770701001": an INN may be followed by a slash and a 9-digit KPP.
_R_INN = r"(?![\w\-]|/(?!\d{9}(?!\d))|[.,:]\d)"


# Numbers that look like identifiers but are not: orders, invoices, tracking, product codes.
NEGATIVE = cues(
    "заказ",
    "счет-фактур",
    "счёт-фактур",
    "накладн",
    "трек",
    "артикул",
    "арт.",
    "код товар",
    "номер отправлени",
    "отправлени",
    "order",
    "invoice",
    "inv.",
    "tracking",
    "shipment",
    "sku",
    "article",
    "product code",
    "part no",
    "ref",
    "reference",
    "ticket",
    "тикет",
    "обращени",
    "транзакц",
    "transaction",
    "batch",
    "партия",
    "serial",
    "серийн",
)

INN = PatternRule(
    entity=E.RU_INN,
    name="ru_inn",
    shapes=(Shape(_rx(r"\d{10}", _R_INN), 0.35), Shape(_rx(r"\d{12}", _R_INN), 0.45)),
    validate=checksums.inn_valid,
    cues_before=cues(
        "инн",
        "inn",
        "taxpayer",
        "tax id",
        "tax number",
        "tin",
        "идентификационный номер налогоплательщика",
    ),
    cue_boost=0.55,
    negative_cues=NEGATIVE,
)

SNILS = PatternRule(
    entity=E.RU_SNILS,
    name="ru_snils",
    shapes=(
        Shape(_rx(r"\d{3}-\d{3}-\d{3}[ \-]\d{2}"), 0.55),
        Shape(_rx(r"\d{3} \d{3} \d{3} \d{2}"), 0.4),
        Shape(_rx(r"\d{11}"), 0.3),
    ),
    validate=checksums.snils_valid,
    cues_before=cues("снилс", "snils", "страхов", "пенсион", "insurance number", "pension"),
    cue_boost=0.45,
    negative_cues=NEGATIVE,
)

OGRN = PatternRule(
    entity=E.RU_OGRN,
    name="ru_ogrn",
    shapes=(Shape(_rx(r"[1-9]\d{12}"), 0.35),),
    validate=checksums.ogrn_valid,
    cues_before=cues(
        "огрн",
        "ogrn",
        "основной государственный регистрационный",
        "primary state registration",
        "state registration number",
    ),
    cue_boost=0.55,
    negative_cues=NEGATIVE,
)

OGRNIP = PatternRule(
    entity=E.RU_OGRNIP,
    name="ru_ogrnip",
    shapes=(Shape(_rx(r"3\d{14}"), 0.35),),
    validate=checksums.ogrnip_valid,
    cues_before=cues("огрнип", "огрн ип", "ogrnip", "огрн"),
    cue_boost=0.55,
    negative_cues=NEGATIVE,
)

_PASSPORT_CUES = cues(
    "паспорт", "passport", "серия", "серии", "series", "удостоверени", "документ", "id card"
)
PASSPORT = PatternRule(
    entity=E.RU_PASSPORT,
    name="ru_passport",
    shapes=(
        Shape(_rx(r"\d{2} \d{2} \d{6}"), 0.45),
        Shape(_rx(r"\d{2} \d{2} (?:№|N|No\.?) ?\d{6}"), 0.55),
        Shape(_rx(r"\d{4} (?:№|N|No\.?|номер) ?\d{6}"), 0.5),
        Shape(_rx(r"\d{4} \d{6}"), 0.3),
        Shape(_rx(r"\d{10}"), 0.1, needs_cue=True),
    ),
    validate=lambda digits: len(digits) == 10,
    cues_before=_PASSPORT_CUES,
    cue_boost=0.5,
    negative_cues=NEGATIVE,
)

OMS = PatternRule(
    entity=E.RU_OMS,
    name="ru_oms",
    shapes=(
        Shape(_rx(r"\d{16}"), 0.15, needs_cue=True),
        Shape(_rx(r"\d{4} \d{4} \d{4} \d{4}"), 0.15, needs_cue=True),
    ),
    cues_before=cues(
        "полис",
        "омс",
        "енп",
        "oms",
        "policy",
        "медицинского страхования",
        "medical insurance",
        "health insurance",
    ),
    cue_boost=0.7,
    negative_cues=NEGATIVE,
)

BIK = PatternRule(
    entity=E.RU_BIK,
    name="ru_bik",
    shapes=(Shape(_rx(r"04\d{7}"), 0.2, needs_cue=True),),
    cues_before=cues("бик", "bik", "bic"),
    cue_boost=0.65,
)

BANK_ACCOUNT = PatternRule(
    entity=E.RU_BANK_ACCOUNT,
    name="ru_bank_account",
    shapes=(
        Shape(_rx(r"[34]\d{19}"), 0.35),
        Shape(_rx(r"[34]\d{4} \d{3} \d \d{4} \d{7}"), 0.45),
    ),
    cues_before=cues("р/с", "р/сч", "расчетн", "расчётн", "счет", "счёт", "сч.", "account", "acc."),
    cue_boost=0.5,
    negative_cues=cues("к/с", "корр", "correspondent"),
)

RULES: tuple[PatternRule, ...] = (INN, SNILS, OGRN, OGRNIP, PASSPORT, OMS, BIK, BANK_ACCOUNT)
