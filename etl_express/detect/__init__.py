"""Free-text PII detection (Russian and English): ``detect_texts`` returns ``Span`` lists.

Heavy libraries (Presidio, spaCy, natasha) load on first use, never at import.
"""

from __future__ import annotations

from etl_express.detect.runner import detect_texts
from etl_express.detect.spans import Span

__all__ = ["Span", "detect_texts"]
