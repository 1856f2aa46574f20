"""The two peer paths of the benchmark, written the way their users would write them.

Both do the same job as the ETL-Express path on the same rows and the same five PII columns:
read from PostgreSQL, apply the five field rules (trim name, normalize email, phone to E.164,
digits-only INN, title-case city), anonymize (fake name keyed by the original, keyed hash of
email and INN, mask phone but the last two digits, birth date to its year) and write a table.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

import pandas as pd

KEY = b"bench-key-0123456789abcdef"
COLUMNS = (
    "id, full_name, email, phone, birth_date, inn, address, salary, created_at, city, is_active"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def read_sample(url: str, table: str, rows: int) -> pd.DataFrame:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        query = f"SELECT {COLUMNS} FROM {table} ORDER BY id LIMIT {int(rows)}"
        return pd.read_sql(query, engine)
    finally:
        engine.dispose()


def write_table(url: str, frame: pd.DataFrame, table: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        frame.to_sql(table, engine, if_exists="replace", index=False, chunksize=2_000,
                     method="multi")  # fmt: skip
    finally:
        engine.dispose()


def _phone(value: Any) -> Any:
    import phonenumbers

    if not isinstance(value, str):
        return None
    try:
        parsed = phonenumbers.parse(value, "RU")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _email(value: Any) -> Any:
    if not isinstance(value, str):
        return None
    cleaned = value.strip().lower()
    return cleaned if _EMAIL.match(cleaned) else None


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["full_name"] = out["full_name"].str.strip()
    out["email"] = out["email"].map(_email)
    out["phone"] = out["phone"].map(_phone)
    out["inn"] = out["inn"].str.replace(r"\D", "", regex=True)
    out["city"] = out["city"].str.strip().str.title()
    return out.drop_duplicates(subset=["id"])


def keyed(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return hmac.new(KEY, str(value).encode(), hashlib.sha256).hexdigest()[:16]


def mask_phone(value: Any) -> Any:
    if not isinstance(value, str):
        return None
    return "*" * (len(value) - 2) + value[-2:]


def year_of(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return f"{str(value)[:4]}-01-01"


class FakeNames:
    """Faker reseeded from the keyed hash of each name: the same person gets the same fake."""

    def __init__(self) -> None:
        from faker import Faker

        self.faker = Faker("ru_RU")

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str):
            return None
        self.faker.seed_instance(int(keyed(value), 16))
        return self.faker.name()


def pandas_faker(url: str, table: str, rows: int, target: str) -> int:
    frame = clean(read_sample(url, table, rows))
    fake = FakeNames()
    frame["full_name"] = frame["full_name"].map(fake)
    frame["email"] = frame["email"].map(keyed)
    frame["inn"] = frame["inn"].map(keyed)
    frame["phone"] = frame["phone"].map(mask_phone)
    frame["birth_date"] = frame["birth_date"].map(year_of)
    write_table(url, frame, target)
    return len(frame)


def presidio_structured(url: str, table: str, rows: int, target: str) -> int:
    from presidio_anonymizer.entities import OperatorConfig
    from presidio_structured import PandasDataProcessor, StructuredAnalysis, StructuredEngine

    frame = clean(read_sample(url, table, rows))
    frame["birth_date"] = frame["birth_date"].astype(str)
    # presidio's hash operator needs text in every cell
    frame[["email", "inn", "phone"]] = frame[["email", "inn", "phone"]].fillna("")
    analysis = StructuredAnalysis(
        entity_mapping={
            "full_name": "PERSON",
            "email": "EMAIL_ADDRESS",
            "phone": "PHONE_NUMBER",
            "birth_date": "DATE_TIME",
            "inn": "RU_INN",
        }
    )
    fake = FakeNames()
    salt = KEY.decode()
    operators = {
        "PERSON": OperatorConfig("custom", {"lambda": lambda v: fake(v) or ""}),
        "EMAIL_ADDRESS": OperatorConfig("hash", {"hash_type": "sha256", "salt": salt}),
        "RU_INN": OperatorConfig("hash", {"hash_type": "sha256", "salt": salt}),
        # custom operators must return text
        "PHONE_NUMBER": OperatorConfig("custom", {"lambda": lambda v: mask_phone(v) or ""}),
        "DATE_TIME": OperatorConfig("custom", {"lambda": lambda v: year_of(v) or ""}),
    }
    engine = StructuredEngine(data_processor=PandasDataProcessor())
    anonymized = engine.anonymize(frame, analysis, operators=operators)
    write_table(url, anonymized, target)
    return len(anonymized)
