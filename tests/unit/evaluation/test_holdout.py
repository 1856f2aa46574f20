from __future__ import annotations

from etl_express.detect import checksums
from etl_express.evaluation.holdout import generate


def test_generated_spans_point_at_their_values_and_ids_are_valid() -> None:
    rows = generate(120, seed=3)
    assert {row["lang"] for row in rows} == {"ru", "en"}
    assert any(not row["spans"] for row in rows)  # no-PII and hard-negative texts exist
    for row in rows:
        for span in row["spans"]:
            assert row["text"][span["start"] : span["end"]] == span["value"]
            digits = "".join(ch for ch in span["value"] if ch.isdigit())
            if span["entity"] == "RU_INN":
                assert checksums.inn_valid(digits)
            if span["entity"] == "RU_SNILS":
                assert checksums.snils_valid(digits)
            if span["entity"] == "CREDIT_CARD":
                assert checksums.luhn_valid(digits)
            if span["entity"] == "IBAN_CODE":
                assert checksums.iban_valid(span["value"].replace(" ", ""))


def test_generation_is_deterministic() -> None:
    assert generate(30, seed=5) == generate(30, seed=5)
