"""The demo source: synthetic customers and patients with Russian and English personal data.

Every value is generated (Faker, fixed seed) with valid INN/SNILS check digits and Russian
phone numbers with real area codes, so detection and anonymization behave as on real data
without describing real people. Loaded with COPY, once: a version row tells a later `make up`
that the data is already there.

Customers are created, and patients visit, over the 60 days (DAYS) before the load, about alike
each day: the demo task reads incrementally by created_at, so its scheduled daily run must
find yesterday's customers (about 80) in the data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg

from etl_express.runtime.databases import libpq_url

DEMO_VERSION = 4
CUSTOMERS = 5000
PATIENTS = 2000
DAYS = 60
_SEED = 20261122

_SCHEMA = """
CREATE TABLE IF NOT EXISTS demo_meta (version integer NOT NULL, loaded_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS customers (
    id bigint PRIMARY KEY,
    full_name text NOT NULL,
    email text,
    phone text,
    birth_date date,
    inn text,
    snils text,
    city text,
    address text,
    comment text,
    lang text NOT NULL,
    balance numeric(12, 2),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
ALTER TABLE customers ADD COLUMN IF NOT EXISTS country text;
CREATE TABLE IF NOT EXISTS patients (
    id bigint PRIMARY KEY,
    full_name text NOT NULL,
    birth_date date NOT NULL,
    snils text,
    oms_policy text,
    phone text,
    diagnosis_code text,
    visit_date date NOT NULL,
    doctor_note text,
    lang text NOT NULL,
    updated_at timestamptz NOT NULL
);
"""

# Faker's ru_RU numbers take any three digits as the area code, and most such codes do not
# exist (+7 0xx, 1xx, 2xx, 5xx; 6xx and 7xx are Kazakhstan): mobile 9xx and real city codes.
_RU_PHONE_FORMATS = (
    "+7 ### ### ####",
    "+7 ### ### ## ##",
    "+7 (###) ###-##-##",
    "+7 (###) ###-####",
    "+7##########",
    "8 ### ### ####",
    "8 ### ### ## ##",
    "8 (###) ###-##-##",
    "8 (###) ###-####",
    "8##########",
)
_RU_CITY_CODES = ("495", "499", "812", "343", "383", "846", "863", "843", "861", "423", "351")
_COUNTRY = {"ru": "RU", "en": "US"}

_ICD10 = ["J06.9", "I10", "E11.9", "M54.5", "K21.0", "J45.9", "N39.0", "F41.1", "H52.1", "L20.9"]


def inn12(rng: random.Random) -> str:
    digits = [rng.randint(0, 9) for _ in range(10)]
    w11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    c11 = sum(d * w for d, w in zip(digits, w11, strict=True)) % 11 % 10
    digits.append(c11)
    w12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    c12 = sum(d * w for d, w in zip(digits, w12, strict=True)) % 11 % 10
    digits.append(c12)
    return "".join(map(str, digits))


def snils(rng: random.Random) -> str:
    number = rng.randint(1_001_999, 999_999_999)
    digits = f"{number:09d}"
    total = sum(int(d) * w for d, w in zip(digits, range(9, 0, -1), strict=True))
    check = total if total < 100 else (0 if total in (100, 101) else total % 101)
    check = 0 if check in (100, 101) else check
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]} {check:02d}"


def ru_phone(rng: random.Random) -> str:
    code = rng.choice(_RU_CITY_CODES) if rng.random() < 0.2 else f"9{rng.randint(0, 99):02d}"
    pattern = rng.choice(_RU_PHONE_FORMATS).replace("###", code, 1)
    return "".join(str(rng.randint(0, 9)) if ch == "#" else ch for ch in pattern)


def timeline(count: int, end: datetime, rng: random.Random, days: int = DAYS) -> list[datetime]:
    """`count` ascending instants in the `days` before `end`, one at a random point of each of
    `count` equal slots: uniform draws would leave a day empty now and then, and a scheduled
    run of an empty day looks like a broken demo."""
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    slot = timedelta(days=days) / count
    start = end - timedelta(days=days)
    return [start + slot * (i + rng.random()) for i in range(count)]


def _customers(rng: random.Random, now: datetime) -> Iterator[tuple[object, ...]]:
    from faker import Faker

    fakers = {"ru": Faker("ru_RU"), "en": Faker("en_US")}
    for faker in fakers.values():
        faker.seed_instance(rng.randint(0, 2**31))
    # A generator of its own, so the personal values stay those of earlier demo versions.
    clock = random.Random(_SEED + 1)
    created_at = timeline(CUSTOMERS, now, clock)
    for i in range(1, CUSTOMERS + 1):
        lang = "ru" if i % 3 else "en"
        fk = fakers[lang]
        name = fk.name()
        phone = ru_phone(rng) if lang == "ru" else fk.phone_number()
        if lang == "ru":
            comment = rng.choice(
                [
                    f"Клиент {name} просит перезвонить по номеру {phone}.",
                    f"Доставка по адресу {fk.address()}, получатель {name}.",
                    "Заказ оплачен, претензий нет.",
                    f"Сменил почту на {fk.email()}, ИНН {inn12(rng)}.",
                ]
            )
        else:
            comment = rng.choice(
                [
                    f"Customer {name} asked for a call back at {phone}.",
                    f"Deliver to {fk.address()}, recipient {name}.",
                    "Paid in full, no complaints.",
                    f"Changed e-mail to {fk.email()}.",
                ]
            )
        created = created_at[i - 1]
        updated = created + min(timedelta(days=3), now - created) * clock.random()
        yield (
            i,
            name,
            fk.email(),
            phone,
            fk.date_of_birth(minimum_age=18, maximum_age=90),
            inn12(rng) if lang == "ru" else None,
            snils(rng) if lang == "ru" else None,
            fk.city(),
            fk.address().replace("\n", ", "),
            comment,
            lang,
            f"{rng.randint(0, 10_000_000) / 100:.2f}",
            created,
            updated,
            _COUNTRY[lang],
        )


def _patients(rng: random.Random, now: datetime) -> Iterator[tuple[object, ...]]:
    from faker import Faker

    fakers = {"ru": Faker("ru_RU"), "en": Faker("en_GB")}
    for faker in fakers.values():
        faker.seed_instance(rng.randint(0, 2**31))
    clock = random.Random(_SEED + 2)
    visits = timeline(PATIENTS, now, clock)
    for i in range(1, PATIENTS + 1):
        lang = "ru" if i % 2 else "en"
        fk = fakers[lang]
        name = fk.name()
        birth = fk.date_of_birth(minimum_age=0, maximum_age=95)
        # Drawn and dropped: the draw keeps the generator, and so the values after it, as before.
        rng.randint(0, 600)
        visit = visits[i - 1]
        note = (
            f"Пациент {name}, д.р. {birth:%d.%m.%Y}, жалобы на головную боль."
            if lang == "ru"
            else f"Patient {name} (DOB {birth:%d/%m/%Y}) reports a persistent cough."
        )
        yield (
            i,
            name,
            birth,
            snils(rng) if lang == "ru" else None,
            "".join(str(rng.randint(0, 9)) for _ in range(16)) if lang == "ru" else None,
            fk.phone_number(),
            rng.choice(_ICD10),
            visit.date(),
            note,
            lang,
            visit,
        )


def load_demo(demo_url: str, now: datetime | None = None) -> bool:
    """Create and fill the demo tables unless this version is loaded. Returns whether it loaded.

    Timestamps end at `now` (the load time by default); the same `now` gives the same data.
    """
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    with psycopg.connect(libpq_url(demo_url), connect_timeout=5) as conn:
        conn.execute(_SCHEMA)
        if conn.execute("SELECT 1 FROM demo_meta WHERE version = %s", (DEMO_VERSION,)).fetchone():
            return False
        conn.execute("TRUNCATE customers, patients, demo_meta")
        rng = random.Random(_SEED)
        with conn.cursor() as cur:
            with cur.copy(
                "COPY customers (id, full_name, email, phone, birth_date, inn, snils, city, "
                "address, comment, lang, balance, created_at, updated_at, country) FROM STDIN"
            ) as copy:
                for row in _customers(rng, now):
                    copy.write_row(row)
            with cur.copy(
                "COPY patients (id, full_name, birth_date, snils, oms_policy, phone, "
                "diagnosis_code, visit_date, doctor_note, lang, updated_at) FROM STDIN"
            ) as copy:
                for row in _patients(rng, now):
                    copy.write_row(row)
        conn.execute("INSERT INTO demo_meta VALUES (%s, %s)", (DEMO_VERSION, now))
    return True
