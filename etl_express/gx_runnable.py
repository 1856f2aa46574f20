"""The Great Expectations expectations the field-rules stage hands to GX itself.

A module of its own, importing nothing: the script validation (`spec.field_rules`) and the
stage (`stages.gx_checks`) both read it, and a stage task must not import the spec package
(0.3 s at every task's start).
"""

from __future__ import annotations

from typing import Final

# Value-wise column expectations, run on each chunk.
GX_COLUMN_EXPECTATIONS: Final = frozenset(
    {
        "expect_column_values_to_match_strftime_format",
        "expect_column_values_to_be_json_parseable",
        "expect_column_values_to_be_dateutil_parseable",
        "expect_column_values_to_match_regex_list",
        "expect_column_values_to_not_match_regex_list",
    }
)
# Checks of several columns of the same row (a script's table_validations): as exact on a
# chunk as on the batch. expect_compound_columns_to_be_unique compares rows, so it is not one.
GX_ROW_WISE_TABLE_EXPECTATIONS: Final = frozenset(
    {
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_to_be_in_set",
        "expect_multicolumn_sum_to_equal",
        "expect_multicolumn_values_to_be_equal",
        "expect_select_column_values_to_be_unique_within_record",
    }
)
