"""Entity labels (as in the privacy corpus README) and which detector produces each."""

from __future__ import annotations

from collections.abc import Collection

PERSON = "PERSON"
LOCATION = "LOCATION"
EMAIL_ADDRESS = "EMAIL_ADDRESS"
PHONE_NUMBER = "PHONE_NUMBER"
RU_INN = "RU_INN"
RU_SNILS = "RU_SNILS"
RU_PASSPORT = "RU_PASSPORT"
RU_OMS = "RU_OMS"
RU_OGRN = "RU_OGRN"
CREDIT_CARD = "CREDIT_CARD"
IBAN_CODE = "IBAN_CODE"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
IP_ADDRESS = "IP_ADDRESS"
# Outside the corpus label set, offered for anonymization rules that ask for them.
RU_OGRNIP = "RU_OGRNIP"
RU_BIK = "RU_BIK"
RU_BANK_ACCOUNT = "RU_BANK_ACCOUNT"

CORPUS_LABELS: frozenset[str] = frozenset(
    {
        PERSON,
        LOCATION,
        EMAIL_ADDRESS,
        PHONE_NUMBER,
        RU_INN,
        RU_SNILS,
        RU_PASSPORT,
        RU_OMS,
        RU_OGRN,
        CREDIT_CARD,
        IBAN_CODE,
        DATE_OF_BIRTH,
        IP_ADDRESS,
    }
)
EXTRA_LABELS: frozenset[str] = frozenset({RU_OGRNIP, RU_BIK, RU_BANK_ACCOUNT})
ALL_LABELS: frozenset[str] = CORPUS_LABELS | EXTRA_LABELS
# Found by a statistical model in "full" mode; "patterns" mode covers only their strong shapes.
NER_LABELS: frozenset[str] = frozenset({PERSON, LOCATION})
LANGUAGES: tuple[str, ...] = ("ru", "en")


def normalize_entities(entities: Collection[str] | None) -> frozenset[str]:
    """The requested labels, checked against what we can detect (None means all)."""
    if entities is None:
        return ALL_LABELS
    wanted = frozenset(entities)
    unknown = sorted(wanted - ALL_LABELS)
    if unknown:
        raise ValueError(f"unknown entity label(s) {unknown}; supported: {sorted(ALL_LABELS)}")
    return wanted
