"""Property: no input value survives a pseudonym, in any column of the output."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from etl_express.anonymize.engine import anonymize_frame
from etl_express.anonymize.keys import KeyRing
from etl_express.anonymize.rules import parse_rules

KEYS = KeyRing(SecretStr("property-test-key-0123456789"))
RULES = parse_rules(
    {
        "columns": {
            "a": {"operator": "pseudonym", "prefix": "t_", "length": 12},
            "b": {"operator": "pseudonym", "alphabet": "base32", "length": 16},
        }
    }
)
# "t_" prefixes tokens, so a value like "t_0123456789ab" could only equal a token by a
# 48-bit coincidence; text reaches the edge cases (unicode, empty, whitespace, digits).
values = st.one_of(st.text(max_size=40), st.from_regex(r"[0-9a-f]{8,16}", fullmatch=True))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(values, st.one_of(st.none(), values)), min_size=1, max_size=30))
def test_no_input_value_survives(rows: list[tuple[str, str | None]]) -> None:
    frame = pl.DataFrame(rows, schema={"a": pl.String, "b": pl.String}, orient="row")
    out = anonymize_frame(frame, RULES, KEYS).frame
    inputs = {v for row in rows for v in row if v is not None}
    outputs = {v for col in out.columns for v in out[col].to_list() if v is not None}
    assert not inputs & outputs
    # equal inputs map to equal tokens, distinct inputs to distinct tokens
    assert out["a"].n_unique() == frame["a"].n_unique()
