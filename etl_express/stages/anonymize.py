"""Anonymize stage: the anonymization engine on one chunk, plus that chunk's leak check.

The engine (etl_express.anonymize) is pure; this wrapper adds what a stage run needs: the
chunk's gate result (any original personal value surviving in the output blocks the batch)
and JSON-able stats to merge into the batch's privacy report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from etl_express.anonymize.keys import KeyRing
    from etl_express.anonymize.rules import AnonymizationRules
    from etl_express.anonymize.text import Detector


@dataclass
class AnonymizeChunkResult:
    frame: pl.DataFrame
    stats: dict[str, Any]
    gate: dict[str, Any]

    @property
    def blocked(self) -> bool:
        return not bool(self.gate.get("passed", True))


def anonymize_chunk(
    frame: pl.DataFrame,
    rules: AnonymizationRules,
    keys: KeyRing,
    *,
    detector: Detector | None = None,
    check_text: bool = True,
) -> AnonymizeChunkResult:
    from etl_express.anonymize.engine import anonymize_frame
    from etl_express.anonymize.gate import check_batch

    result = anonymize_frame(frame, rules, keys, detector=detector)
    text_rules = dict(rules.text_columns) if check_text and rules.text_columns else None
    gate = check_batch(
        result.frame, result.leak_index, keys, text_rules=text_rules, detector=detector
    )
    return AnonymizeChunkResult(result.frame, result.stats, gate.as_dict())
