from __future__ import annotations

import polars as pl
import pytest
from detector_stub import StubDetector
from hypothesis import given
from hypothesis import strategies as st

from etl_express.anonymize.engine import anonymize_frame
from etl_express.anonymize.gate import (
    GateReason,
    _digits_form,
    _forms,
    _hashed_forms,
    _valid_forms,
    build_leak_index,
    check_batch,
    checked_columns,
)
from etl_express.anonymize.keys import KeyRing
from etl_express.anonymize.rules import parse_rules

ORIGINAL = pl.DataFrame(
    {
        "name": ["Анна Петрова", "John Smith"],
        "phone": ["+7 (900) 123-45-67", "+79007654321"],
        "city": ["Москва", "Boston"],
        "note": ["звонить Иван", "ok"],
    }
)
RULES = parse_rules(
    {
        "columns": {
            "name": {"operator": "fake", "kind": "person_name"},
            "phone": {"operator": "pseudonym"},
            "city": {"operator": "redact"},
        },
        "text_columns": {"note": {"entities": {"PERSON": {"operator": "fake"}}}},
    }
)


@pytest.fixture
def anonymized(keys: KeyRing) -> tuple[pl.DataFrame, object]:
    result = anonymize_frame(ORIGINAL, RULES, keys, detector=StubDetector())
    return result.frame, result.leak_index


def test_clean_batch_passes(keys: KeyRing, anonymized: tuple) -> None:
    frame, index = anonymized
    gate = check_batch(frame, index, keys, text_rules=RULES.text_columns, detector=StubDetector())
    # the fake name inserted into the note is detected as PERSON but is ours, not a leak
    assert gate.passed, gate.reasons


def test_seeded_leak_blocks_without_showing_the_value(keys: KeyRing, anonymized: tuple) -> None:
    frame, index = anonymized
    leaked = frame.with_columns(city=pl.Series(["  МОСКВА ", "<REDACTED>"]))
    gate = check_batch(leaked, index, keys)
    assert gate.blocked
    assert [(r.kind, r.column, r.count) for r in gate.reasons] == [("value_survived", "city", 1)]
    assert "МОСКВА".casefold() not in str(gate.as_dict()).casefold()


def test_leak_into_another_column_and_reformatted_digits(keys: KeyRing, anonymized: tuple) -> None:
    frame, index = anonymized
    leaked = frame.with_columns(extra=pl.Series(["79001234567", "John  smith"]))
    gate = check_batch(leaked, index, keys)
    assert [(r.column, r.count) for r in gate.reasons] == [("extra", 2)]


def test_detected_text_entity_is_in_the_index(keys: KeyRing, anonymized: tuple) -> None:
    frame, index = anonymized
    leaked = frame.with_columns(name=pl.Series(["Иван", "x"]))
    assert check_batch(leaked, index, keys).blocked


def test_entity_remaining_in_text_blocks(keys: KeyRing, anonymized: tuple) -> None:
    frame, index = anonymized
    leaked = frame.with_columns(note=pl.Series(["write to John Smith today", "ok"]))
    gate = check_batch(leaked, index, keys, text_rules=RULES.text_columns, detector=StubDetector())
    kinds = {(r.kind, r.column) for r in gate.reasons}
    assert ("entity_remains", "note") in kinds


def test_index_merges_across_chunks_and_checks_key_version(
    keys: KeyRing, other_keys: KeyRing
) -> None:
    first = build_leak_index(ORIGINAL.head(1), ["city"], keys)
    second = build_leak_index(ORIGINAL.tail(1), ["city"], keys)
    merged = first.merge(second)
    out = pl.DataFrame({"c": ["Boston", "москва"]})
    assert check_batch(out, merged, keys).reasons[0].count == 2
    with pytest.raises(ValueError, match="key version"):
        check_batch(out, merged, other_keys)


def test_replacements_the_engine_inserted_are_not_entities_left(keys: KeyRing) -> None:
    rules = parse_rules(
        {
            "text_columns": {
                "note": {"entities": {"PERSON": {"operator": "redact", "value": "John Smith"}}}
            }
        }
    )
    original = pl.DataFrame({"note": ["звонить Иван", "ok"]})
    result = anonymize_frame(original, rules, keys, detector=StubDetector())
    assert result.frame["note"][0] == "звонить John Smith"
    gate = check_batch(
        result.frame,
        result.leak_index,
        keys,
        text_rules=rules.text_columns,
        detector=StubDetector(),
    )
    assert gate.passed, gate.reasons


def test_typed_columns_compare_by_the_text_of_their_values(keys: KeyRing) -> None:
    import datetime as dt

    original = pl.DataFrame(
        {"inn": ["7707083893", "500100732259"], "born": ["1980-05-17", "1990-01-02"]}
    )
    index = build_leak_index(original, ["inn", "born"], keys)
    out = pl.DataFrame(
        {
            "as_int": pl.Series([-7707083893, 42], dtype=pl.Int64),  # digits form matches
            "as_date": [dt.date(1980, 5, 17), dt.date(2001, 1, 1)],  # text form matches
            "flag": [True, False],  # booleans carry no personal value
            "clean": ["x", None],
        }
    )
    gate = check_batch(out, index, keys)
    assert [(r.column, r.count) for r in gate.reasons] == [("as_int", 1), ("as_date", 1)]


INSIDE_RULES = parse_rules(
    {
        "columns": {
            "full_name": {"operator": "fake", "kind": "person_name"},
            "email": {"operator": "pseudonym", "prefix": "em_"},
            "inn": {"operator": "pseudonym", "prefix": "inn_"},
            "city": {"operator": "pseudonym", "prefix": "city_"},
        },
        # The stub finds only PERSON names it knows: the copies below are its blind spot.
        "text_columns": {"comment": {"entities": {"PERSON": {"operator": "fake"}}}},
        "quasi_identifiers": ["city"],
    }
)


def _inside(frame: pl.DataFrame, keys: KeyRing) -> tuple[pl.DataFrame, list[GateReason]]:
    result = anonymize_frame(frame, INSIDE_RULES, keys, detector=StubDetector())
    gate = check_batch(
        result.frame,
        result.leak_index,
        keys,
        text_rules=INSIDE_RULES.text_columns,
        detector=StubDetector(),
    )
    return result.frame, gate.reasons


def test_personal_values_copied_into_text_block_without_showing_them(keys: KeyRing) -> None:
    people = pl.DataFrame(
        {
            "full_name": ["Мария Соколова", "Bob Lee", "Ян Ли"],
            "email": ["Maria.Sokolova@example.com", "bob@x.io", None],
            "inn": ["500100732259", "7707083893", "12345"],
            "city": ["Новосибирск", "Boston", "Омск"],
            "comment": [
                "клиентка МАРИЯ  СОКОЛОВА просила перезвонить",
                "write to MARIA.SOKOLOVA@EXAMPLE.COM, ИНН 500100732259, order 42 (Новосибирск)",
                None,
            ],
        }
    )
    result = anonymize_frame(people, INSIDE_RULES, keys, detector=StubDetector())
    gate = check_batch(result.frame, result.leak_index, keys)
    assert [(r.kind, r.column, r.source, r.count) for r in gate.reasons] == [
        ("value_inside_text", "comment", "email", 1),
        ("value_inside_text", "comment", "full_name", 1),
        ("value_inside_text", "comment", "inn", 1),
    ]
    assert gate.as_dict()["reasons"][0]["source"] == "email"
    shown = (str(gate.as_dict()) + repr(result.leak_index)).casefold()
    for value in ("Мария Соколова", "maria.sokolova", "500100732259", "Новосибирск"):
        assert value.casefold() not in shown
    # The whole gate, detection pass included, reports the same findings.
    assert {r.kind for r in _inside(people, keys)[1]} == {"value_inside_text"}


def test_a_fake_the_engine_inserted_into_text_is_not_a_copy(keys: KeyRing) -> None:
    # First learn the fake name the engine puts in place of "Иван" (keyed, deterministic)...
    probe = pl.DataFrame(
        {"full_name": ["x"], "email": [None], "inn": [None], "city": [None],
         "comment": ["звонить Иван"]},
        schema_overrides={"email": pl.String, "inn": pl.String, "city": pl.String},
    )  # fmt: skip
    fake = anonymize_frame(probe, INSIDE_RULES, keys, detector=StubDetector()).frame["comment"][0]
    fake = fake.removeprefix("звонить ")
    assert len(fake) >= 6 and fake != "Иван"
    # ...then let another customer of the chunk really be called that.
    people = pl.DataFrame(
        {
            "full_name": [fake, "Bob Lee Jones"],
            "email": ["a.b@example.com", "bob@x.io"],
            "inn": ["500100732259", "7707083893"],
            "city": ["Омск", "Boston"],
            "comment": ["звонить Иван", "ok"],
        }
    )
    out, reasons = _inside(people, keys)
    assert fake.casefold() in out["comment"][0].casefold()
    assert reasons == []
    # A real copy beside it still counts, once.
    people = people.with_columns(comment=pl.Series(["звонить Иван", "cc bob lee jones"]))
    _, reasons = _inside(people, keys)
    assert [(r.kind, r.source, r.count) for r in reasons] == [("value_inside_text", "full_name", 1)]


def test_short_values_and_quasi_identifiers_in_text_are_not_copies(keys: KeyRing) -> None:
    people = pl.DataFrame(
        {
            "full_name": ["Анна", "Ян Ли"],  # first names alone: words any comment may hold
            "email": ["a@b.ru", "x@y.io"],
            "inn": ["12345678", "1980-05-17"],  # no letters and fewer than 9 digits
            "city": ["Новосибирск", "Boston"],  # a quasi-identifier, judged by k-anonymity
            "comment": [
                "анна из Новосибирск оплатила заказ 12345678",
                "ян ли, договор от 1980-05-17, Boston",
            ],
        }
    )
    assert _inside(people, keys)[1] == []


def test_merged_indexes_search_text_for_both_chunks_values(keys: KeyRing) -> None:
    people = pl.DataFrame({"name": ["Мария Соколова", "Bob Lee Jones"], "note": ["ok", "ok"]})
    first, second = (
        build_leak_index(part, ["name"], keys, text_columns=["note"])
        for part in (people.head(1), people.tail(1))
    )
    out = pl.DataFrame({"name": ["x", "y"], "note": ["to bob lee jones", "мария соколова?"]})
    gate = check_batch(out, first.merge(second), keys)
    assert [(r.kind, r.column, r.source, r.count) for r in gate.reasons] == [
        ("value_inside_text", "note", "name", 2)
    ]


# What `_digits_form` must give, by regex: ASCII digits of values without a letter, if 9+.
def _reference_digits(values: pl.Series) -> list[str | None]:
    digits = values.to_frame("v").select(
        pl.when(~pl.col("v").str.contains(r"\p{L}")).then(
            pl.col("v").str.replace_all(r"[^0-9]+", "")
        )
    )["v"]
    return digits.set(digits.str.len_bytes() < 9, None).to_list()


def test_digits_form_is_the_ascii_digits_of_values_without_letters() -> None:
    values = pl.Series(
        ["+7 (900) 123-45-67", None, "", "ab", "٣٤ 12 ½ 3 456 789 0", "ёж9", "x\u00a01\u20032",
         "0" * 40, "12345678", "1234a5678b90cdef", "3175C43EE1D8E4D5", "№ 7707\u00a0083\u2013893",
         "ИНН 7707083893", "7707083893 ё", "77070838938\u0301", "z123456789", "123456789@"]
    )  # fmt: skip
    for series in (values, values.slice(2, 5), pl.concat([values, values], rechunk=False)):
        assert _digits_form(series).to_list() == _reference_digits(series), series.to_list()
    assert _digits_form(pl.Series([], dtype=pl.String)).to_list() == []
    assert _digits_form(pl.Series([None, None], dtype=pl.String)).to_list() == [None, None]


def test_digits_form_of_a_few_unlettered_values_among_many_lettered_ones() -> None:
    """Hex pseudonyms: a value without a letter is rare, and only those few are read."""
    few = ["7707083893", "+7 931 491 26 60", "12345", None, "ИНН 7707083893", "٣٤ 1234567890"]
    lettered = [f"{i:016x}".replace("0", "a") for i in range(60)]
    values = pl.Series("v", lettered[:20] + few[:3] + lettered[20:40] + few[3:] + lettered[40:])
    assert (values.str.contains(r"\p{L}").not_().sum() or 0) * 4 < len(values)
    for series in (values, values.slice(5, 40), pl.concat([values, values], rechunk=False)):
        assert _digits_form(series).to_list() == _reference_digits(series), series.to_list()


def test_typed_forms_are_the_forms_of_their_text() -> None:
    """Typed columns skip the normalization; their forms must still equal those of the same
    text in a String column, or the index and the check would disagree."""
    import datetime as dt
    from decimal import Decimal

    stamp = dt.datetime(2024, 3, 1, 12, 30, 5, 17)
    columns = [
        pl.Series([-7707083893, 0, 42], dtype=pl.Int64),
        pl.Series([7, 200], dtype=pl.UInt8),
        pl.Series([Decimal("-1234567.89"), Decimal("0.10")], dtype=pl.Decimal(12, 2)),
        pl.Series([dt.date(1980, 5, 17), dt.date(1, 1, 1)]),
        pl.Series([stamp, stamp]),
        pl.Series([stamp, stamp]).dt.replace_time_zone("Etc/UTC"),
        pl.Series([stamp, dt.datetime(1850, 1, 1)]).dt.replace_time_zone("Europe/Moscow"),
        pl.Series([stamp]).dt.replace_time_zone("America/St_Johns").dt.cast_time_unit("ns"),
        pl.Series([dt.time(1, 2, 3, 4)]),
    ]
    for typed in columns:
        text = typed.cast(pl.String)
        typed_forms = _forms(typed)
        text_forms = _forms(text)
        assert typed_forms[0].to_list() == text_forms[0].to_list(), typed.dtype
        if not typed.dtype.is_temporal():  # timestamps: text form only
            # Compared as `_valid_forms` takes them: digits forms too short are dropped.
            typed_digits, text_digits = (
                f[1].str.len_bytes() >= 9 for f in (typed_forms, text_forms)
            )
            assert (
                typed_forms[1].filter(typed_digits).to_list()
                == text_forms[1].filter(text_digits).to_list()
            ), typed.dtype


def test_values_already_normal_skip_normalizing_with_the_same_hashes() -> None:
    mixed = pl.Series(
        ["abc", "ABC", " abc", "a  b", "a\tb", "x\u00a0y", "Ärger", "ǅx", "\x1fq", "q\x7f",
         "79001234567", "+7 (900) 123-45-67", "c5e6a74f92c219ca", "", "a", None, "abc",
         "+7\u00a0900\u00a0123-45-67", "ИНН 7707083893", "7707083893"]
    )  # fmt: skip
    seeds = (11, 22)
    ht, hd = _valid_forms(seeds)
    for values in (mixed, mixed.filter(mixed.str.contains("^[a-z0-9]+$")), mixed.slice(1, 6)):
        expected = (
            values.drop_nulls()
            .to_frame("v")
            .select(
                n=pl.lit(1, pl.UInt32),
                _t=pl.col("v").str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " "),
                _d=pl.when(~pl.col("v").str.contains(r"\p{L}")).then(
                    pl.col("v").str.replace_all(r"[^0-9]+", "")
                ),
            )
        )
        expected = expected.select("n", ht=ht, hd=hd).sort(pl.all())
        assert _hashed_forms(values, seeds).sort(pl.all()).equals(expected), values.to_list()


def test_digits_form_is_only_for_values_written_as_numbers(keys: KeyRing) -> None:
    """A token that merely contains digits is not compared by them: the bench's hex INN
    pseudonyms blocked clean batches when their digits happened to equal another INN."""
    original = pl.DataFrame(
        {
            "inn": ["3175431845", "7707083893", "500100732259", "inn7707083893"],
            "code": ["x", "y", "z", "ab12345678901"],  # an original's digits count neither
        }
    )
    index = build_leak_index(original, ["inn", "code"], keys)
    clean = pl.DataFrame(
        {
            "inn": ["3175c43ee1d8e4d5", "z7707083893", "ИНН 500100732259"],
            "other": ["12345678901", "ab 12345678901", "ab12345678901 "],
        }
    )
    gate = check_batch(clean, index, keys)
    assert [(r.column, r.count) for r in gate.reasons] == [("other", 1)]  # the same text
    formatted = pl.DataFrame(
        {
            "phone": ["+7 (931) 491-26-60", "8 916 123 45 67", "+7\u00a0931\u202f491\u20132660"],
            "inn": ["7707 083 893", "7707\u00a0083\u00a0893", "№ 500-100-732-259"],
            "typed": pl.Series([-7707083893, 1, 2], dtype=pl.Int64),
            "copy": ["INN7707083893", "x", "y"],  # equal as text, letters and all
        }
    )
    phones = pl.Series("phone", ["79314912660", "89161234567", None, None])
    index = build_leak_index(original.with_columns(phones), ["inn", "code", "phone"], keys)
    gate = check_batch(formatted, index, keys)
    counts = {r.column: r.count for r in gate.reasons}
    assert counts == {"phone": 3, "inn": 3, "typed": 1, "copy": 1}


def _intervals_and_times() -> pl.DataFrame:
    import datetime as dt

    return pl.DataFrame(
        {
            "age": pl.Series([dt.timedelta(days=3, seconds=5, microseconds=7), None]),
            "at": [dt.time(1, 2, 3, 4), None],
            "nothing": pl.Series([None, None], dtype=pl.Null),
            "raw": [b"\xff\x00", None],
        }
    )


def test_kept_duration_time_null_and_binary_columns_do_not_fail_the_gate(keys: KeyRing) -> None:
    """`SELECT now() - created_at AS age` gives an interval: polars cannot cast a Duration to
    text, and the check failed the chunk instead of judging it."""
    original = pl.DataFrame({"name": ["Анна Петрова", "John Smith"]}).hstack(_intervals_and_times())
    rules = parse_rules(
        {"columns": {"name": {"operator": "pseudonym"}}, "unlisted_columns": "keep"}
    )
    result = anonymize_frame(original, rules, keys)
    gate = check_batch(result.frame, result.leak_index, keys)
    assert gate.passed, gate.reasons
    leaked = result.frame.with_columns(name=original["name"])
    assert [r.column for r in check_batch(leaked, result.leak_index, keys).reasons] == ["name"]


def test_personal_durations_and_times_are_compared_by_their_canonical_text(
    keys: KeyRing,
) -> None:
    """A personal interval or time that survives is found in whatever unit either side holds
    it; an interval's text is the same in every unit."""
    import datetime as dt

    original = _intervals_and_times()
    personal = ["age", "at", "nothing", "raw"]
    index = build_leak_index(original, personal, keys, text_columns=["note"])
    out = pl.DataFrame(
        {
            "age_ns": original["age"].cast(pl.Duration("ns")),
            "age_ms": pl.Series([dt.timedelta(days=3, seconds=5), dt.timedelta(0)]),
            "at": original["at"],
            "other": pl.Series([dt.timedelta(seconds=-1), None]),
            "note": ["P3DT5.000007S", "01:02:03"],  # the same texts, as strings
        }
    )
    gate = check_batch(out, index, keys)
    assert [(r.kind, r.column, r.count) for r in gate.reasons] == [
        ("value_survived", "age_ns", 1),
        ("value_survived", "at", 1),
        ("value_survived", "note", 2),
        ("value_inside_text", "note", 1),  # the interval's text (a time is too short)
    ]


def test_month_day_nano_intervals_from_arrow_do_not_fail_the_gate(keys: KeyRing) -> None:
    """DuckDB and ADBC give intervals as Arrow month_day_nano, which polars 2.1 refuses to
    import (only behind POLARS_IMPORT_INTERVAL_AS_STRUCT, as a struct): if a polars version
    maps it, the gate must still judge the column, not fail."""
    import pyarrow as pa

    table = pa.table(
        {"iv": pa.array([pa.MonthDayNano([1, 2, 3000]), None], pa.month_day_nano_interval())}
    )
    try:
        frame = pl.from_arrow(table)
    except pl.exceptions.ComputeError:
        pytest.skip("polars does not import month_day_nano intervals")
    assert isinstance(frame, pl.DataFrame)
    index = build_leak_index(frame, ["iv"], keys)
    assert check_batch(frame, index, keys).checked_cells == 2


def test_python_object_columns_fail_closed_naming_the_column(keys: KeyRing) -> None:
    from etl_express.errors import EtlxError

    objects = pl.Series("obj", ["Анна Петрова", object()], dtype=pl.Object)
    index = build_leak_index(ORIGINAL, ["name"], keys)
    with pytest.raises(EtlxError, match="'obj' holds Python objects"):
        check_batch(pl.DataFrame([objects]), index, keys)
    with pytest.raises(EtlxError, match="'obj' holds Python objects"):
        build_leak_index(pl.DataFrame([objects]), ["obj"], keys)


# Every whitespace character (Unicode White_Space), a few letters of other scripts, digits,
# ASCII letters of both cases and punctuation: what the shortcuts of `_with_forms` sort by.
_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000"
_FORM_ALPHABET = _WHITESPACE + "aZq09+-(@.\x1f\x7fÄäСсǅΣς½٣\u0301\u180e\u200b\u00c2"


@given(st.lists(st.one_of(st.none(), st.text(_FORM_ALPHABET, max_size=14)), max_size=40))
def test_hashed_forms_equal_the_plain_normalization_for_any_text(values: list[str | None]) -> None:
    """However `_with_forms` splits the work (as is, casefold only, full normalization) and
    whatever shortcut the digits form takes, the hashes are those of strip, casefold,
    collapse every whitespace run to one space, and the regex digits form."""
    series = pl.Series(values, dtype=pl.String)
    seeds = (5, 6)
    ht, hd = _valid_forms(seeds)
    got = _hashed_forms(series, seeds)
    rows = series.drop_nulls().to_frame("v")
    if got["n"].max() not in (None, 1):  # grouped by value first: compare the same groups
        rows = rows.group_by("v").len(name="n")
    else:
        rows = rows.with_columns(n=pl.lit(1, pl.UInt32))
    expected = rows.with_columns(
        _t=pl.col("v").str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " "),
        _d=pl.Series(_reference_digits(rows["v"]), dtype=pl.String),
    ).select("n", ht=ht, hd=hd)
    assert got.sort(pl.all()).equals(expected.sort(pl.all()))


def test_timestamps_are_checked_only_against_originals_whose_text_has_a_colon(
    keys: KeyRing,
) -> None:
    """A timestamp's or a time's text always holds a colon ("HH:MM:SS"), so it can equal
    only an original whose text has one; without such an original the check skips those
    columns, and with one it still finds the copy."""
    import datetime as dt

    stamps = pl.Series([dt.datetime(2024, 1, 1, 0, 0, 13), dt.datetime(2024, 5, 6, 7, 8, 9)])
    out = pl.DataFrame(
        {
            "created_at": stamps.dt.replace_time_zone("Etc/UTC"),
            "at": [dt.time(1, 2, 3), None],
            "born": [dt.date(1980, 5, 17), None],
            "name": ["x", "y"],
        }
    )
    plain = pl.DataFrame(
        {"inn": ["7707083893", "1"], "born": [dt.date(1980, 5, 17), None], "n": [1, 2]}
    )
    index = build_leak_index(plain, ["inn", "born", "n"], keys)
    assert not index.colon_texts
    assert checked_columns(out, index) == ["born", "name"]
    assert [(r.column, r.count) for r in check_batch(out, index, keys).reasons] == [("born", 1)]

    # The same timestamp's text as an original string, a time and a timestamp original:
    # each alone makes every timestamp and time column checked again.
    text = pl.DataFrame({"seen": ["2024-01-01 00:00:13.000000+00:00", "ok"]})
    for original in (text, out.select("at"), out.select("created_at")):
        column = original.columns[0]
        index = build_leak_index(original, [column], keys)
        assert index.colon_texts
        assert checked_columns(out, index) == ["created_at", "at", "born", "name"]
    found = check_batch(out, build_leak_index(text, ["seen"], keys), keys).reasons
    assert [(r.column, r.count) for r in found] == [("created_at", 1)]

    merged = build_leak_index(plain, ["inn"], keys).merge(build_leak_index(text, ["seen"], keys))
    assert merged.colon_texts
    detected = build_leak_index(plain, ["inn"], keys, detected_values=["10:30 at home"])
    assert detected.colon_texts
