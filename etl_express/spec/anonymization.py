"""Anonymization script: the rules model belongs to etl_express.anonymize (one source of truth)."""

from __future__ import annotations

from etl_express.anonymize.rules import AnonymizationRules
from etl_express.errors import FieldError
from etl_express.spec.paths import join_path

AnonymizationSpec = AnonymizationRules


def named_columns(rules: AnonymizationRules) -> list[tuple[str, str]]:
    """(JSON path, column) for every upstream column the rules refer to."""
    named = [(join_path("$.columns", name), name) for name in rules.columns]
    named += [(join_path("$.text_columns", name), name) for name in rules.text_columns]
    named += [(f"$.quasi_identifiers[{i}]", n) for i, n in enumerate(rules.quasi_identifiers)]
    return named


def upstream_errors(rules: AnonymizationRules, columns: set[str]) -> list[FieldError]:
    return [
        FieldError(
            path,
            f"column {column!r} is not in the upstream output "
            f"(columns: {', '.join(sorted(columns))})",
        )
        for path, column in named_columns(rules)
        if column not in columns
    ]
