"""A second labeled set with templates of our own, to check that detection generalizes.

The privacy corpus is for measuring; tuning against it alone would overfit its phrasings.
This writes a ``texts.jsonl`` in the corpus format from other templates and Faker value
pools (ru_RU, en_US, en_GB), with valid check digits where the identifier has them:

    python -m etl_express.evaluation.holdout --out /tmp/holdout --n 300
    make eval-privacy EVAL_ARGS="--corpus /tmp/holdout --no-presidio"
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from etl_express.detect import checksums

Part = str | tuple[str, str]  # literal text, or (entity, value)


def _digits(rng: random.Random, n: int, first: str = "123456789") -> str:
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(n - 1))


def _valid(rng: random.Random, n: int, ok: Callable[[str], bool], first: str = "123456789") -> str:
    while True:
        value = _digits(rng, n, first)
        if ok(value):
            return value


def _invalid(rng: random.Random, n: int, ok: Callable[[str], bool]) -> str:
    while True:
        value = _digits(rng, n)
        if not ok(value):
            return value


def _snils(rng: random.Random) -> str:
    d = _valid(rng, 11, checksums.snils_valid, "0123456789")
    return rng.choice([f"{d[:3]}-{d[3:6]}-{d[6:9]} {d[9:]}", d])


def _card(rng: random.Random) -> str:
    d = _valid(rng, 16, checksums.luhn_valid, "245")
    while not d.startswith(("22", "4", "51", "52", "53", "54", "55")):
        d = _valid(rng, 16, checksums.luhn_valid, "245")
    return rng.choice([" ".join(d[i : i + 4] for i in range(0, 16, 4)), d])


def _iban(rng: random.Random) -> str:
    country, body_len = rng.choice([("DE", 18), ("GB", 18), ("NL", 14), ("FR", 23)])
    while True:
        body = "".join(rng.choice("0123456789") for _ in range(body_len))
        if country in ("GB", "NL"):
            body = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + body[4:]
        for check in range(2, 99):
            candidate = f"{country}{check:02d}{body}"
            if checksums.iban_valid(candidate):
                grouped = " ".join(candidate[i : i + 4] for i in range(0, len(candidate), 4))
                return rng.choice([candidate, grouped])


def _ru_phone(rng: random.Random) -> str:
    d = "9" + _digits(rng, 9, "0123456789")
    return rng.choice(
        [
            f"+7 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}",
            f"8({d[:3]}){d[3:6]}-{d[6:8]}-{d[8:]}",
            f"+7{d}",
            f"8-{d[:3]}-{d[3:6]}-{d[6:8]}-{d[8:]}",
        ]
    )


def _en_phone(rng: random.Random) -> str:
    a, b, c = rng.randint(201, 989), rng.randint(201, 989), rng.randint(0, 9999)
    return rng.choice(
        [
            f"+1 {a} {b} {c:04d}",
            f"({a}) {b}-{c:04d}",
            f"{a}.{b}.{c:04d}",
            f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
            f"020 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
        ]
    )


def _ru_templates(fk: Any, rng: random.Random) -> list[Sequence[Part]]:
    name = fk.name()
    last, first = fk.last_name_female(), fk.first_name_female()
    inn12 = _valid(rng, 12, checksums.inn_valid)
    inn10 = _valid(rng, 10, checksums.inn_valid)
    ogrn = _valid(rng, 13, checksums.ogrn_valid, "15")
    dob = fk.date_of_birth(minimum_age=18, maximum_age=90).strftime("%d.%m.%Y")
    passport = f"{_digits(rng, 2)} {_digits(rng, 2, '0123456789')} {_digits(rng, 6)}"
    return [
        [
            "Клиентка ",
            ("PERSON", f"{last} {first}"),
            " (дата рождения: ",
            ("DATE_OF_BIRTH", dob),
            ") оставила новый номер ",
            ("PHONE_NUMBER", _ru_phone(rng)),
            ".",
        ],
        [
            "Для налогового вычета нужны ИНН ",
            ("RU_INN", inn12),
            " и СНИЛС ",
            ("RU_SNILS", _snils(rng)),
            ", ответственный — ",
            ("PERSON", name),
            ".",
        ],
        [
            "Контрагент ",
            fk.company(),
            ": ОГРН ",
            ("RU_OGRN", ogrn),
            ", ИНН ",
            ("RU_INN", inn10),
            ", почта ",
            ("EMAIL_ADDRESS", fk.email()),
            ".",
        ],
        [
            "Перевести остаток на карту ",
            ("CREDIT_CARD", _card(rng)),
            " получателя ",
            ("PERSON", name),
            " до пятницы.",
        ],
        [
            "Застрахованный ",
            ("PERSON", name),
            ", полис ОМС ",
            ("RU_OMS", _digits(rng, 16)),
            ", прикреплён к участку ",
            str(rng.randint(1, 40)),
            ".",
        ],
        [
            "Вход в кабинет выполнен с адреса ",
            ("IP_ADDRESS", fk.ipv4()),
            ", логин ",
            ("EMAIL_ADDRESS", fk.free_email()),
            ".",
        ],
        [
            "Курьер привезёт документы по адресу ",
            ("LOCATION", fk.street_address()),
            ", звонить заранее по ",
            ("PHONE_NUMBER", _ru_phone(rng)),
            ".",
        ],
        ["Паспорт гражданина: ", ("RU_PASSPORT", passport), ", выдан отделом УФМС."],
        ["Добрый вечер, ", ("PERSON", first), "! Ваша заявка одобрена."],
        [
            "Номер заказа ",
            _invalid(rng, 10, checksums.inn_valid),
            " отгружен ",
            fk.date_this_year().strftime("%d.%m.%Y"),
            ", трек ",
            _invalid(rng, 16, checksums.luhn_valid),
            ".",
        ],
        [
            "Счёт-фактура № ",
            _digits(rng, 12),
            " от ",
            fk.date_this_year().strftime("%d.%m.%Y"),
            " оплачен, артикул ",
            f"{_digits(rng, 3)}-{_digits(rng, 3)}-{_digits(rng, 3)} 00",
            ".",
        ],
        ["Совещание перенесено на вторник, повестка без изменений."],
    ]


def _en_templates(us: Any, gb: Any, rng: random.Random) -> list[Sequence[Part]]:
    name = us.name().removeprefix("Dr. ").removeprefix("Mr. ").removeprefix("Ms. ")
    dob = us.date_of_birth(minimum_age=18, maximum_age=90)
    return [
        [
            "Per our call, ",
            ("PERSON", name),
            " (date of birth: ",
            ("DATE_OF_BIRTH", dob.strftime("%B %d, %Y")),
            ") moved to ",
            ("LOCATION", us.address().replace("\n", ", ")),
            ".",
        ],
        [
            "Please wire the deposit to ",
            ("IBAN_CODE", _iban(rng)),
            "; beneficiary ",
            ("PERSON", gb.first_name() + " " + gb.last_name()),
            ".",
        ],
        [
            "You can reach ",
            ("PERSON", us.first_name()),
            " on ",
            ("PHONE_NUMBER", _en_phone(rng)),
            " after 5pm.",
        ],
        [
            "Login from ",
            ("IP_ADDRESS", us.ipv6()),
            " was blocked for ",
            ("EMAIL_ADDRESS", us.email()),
            ".",
        ],
        [
            "The cardholder ",
            ("PERSON", name),
            " disputed a charge on card ",
            ("CREDIT_CARD", _card(rng)),
            ".",
        ],
        [
            "Applicant ",
            ("PERSON", name),
            ", DOB ",
            ("DATE_OF_BIRTH", dob.strftime("%m/%d/%Y")),
            ", lives at ",
            ("LOCATION", gb.address().replace("\n", ", ")),
            ".",
        ],
        [
            "Order ",
            str(rng.randint(10**9, 10**10 - 1)),
            " shipped on ",
            us.date_this_year().strftime("%B %d, %Y"),
            "; invoice ",
            str(rng.randint(10**11, 10**12)),
            " is attached.",
        ],
        ["Reminder: the quarterly review is scheduled for next Monday at 10am."],
    ]


def _assemble(parts: Sequence[Part]) -> tuple[str, list[dict[str, Any]]]:
    text, spans = "", []
    for part in parts:
        if isinstance(part, tuple):
            entity, value = part
            spans.append(
                {
                    "start": len(text),
                    "end": len(text) + len(value),
                    "entity": entity,
                    "value": value,
                }
            )
            text += value
        else:
            text += part
    return text, spans


def generate(n: int, seed: int = 7) -> list[dict[str, Any]]:
    from faker import Faker

    rng = random.Random(seed)
    ru, us, gb = Faker("ru_RU"), Faker("en_US"), Faker("en_GB")
    for fk in (ru, us, gb):
        fk.seed_instance(seed)
    rows = []
    for i in range(n):
        lang = "ru" if i % 5 < 3 else "en"
        pool = _ru_templates(ru, rng) if lang == "ru" else _en_templates(us, gb, rng)
        text, spans = _assemble(rng.choice(pool))
        rows.append({"id": f"h-{i:04d}", "lang": lang, "text": text, "spans": spans})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="write a generalization check set")
    parser.add_argument("--out", required=True, help="directory for texts.jsonl")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "texts.jsonl").open("w", encoding="utf-8") as fh:
        for row in generate(args.n, args.seed):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {args.n} texts to {out / 'texts.jsonl'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
