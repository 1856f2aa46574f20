"""All pattern rules and the subset a request needs."""

from __future__ import annotations

from collections.abc import Collection

from etl_express.detect import rules_contact, rules_dates, rules_names, rules_ru_ids
from etl_express.detect.rules import PatternRule

ALL_RULES: tuple[PatternRule, ...] = (
    *rules_ru_ids.RULES,
    *rules_contact.RULES,
    *rules_dates.RULES,
    *rules_names.RULES,
)


def rules_for(entities: Collection[str]) -> tuple[PatternRule, ...]:
    wanted = set(entities)
    return tuple(rule for rule in ALL_RULES if rule.entity in wanted)
