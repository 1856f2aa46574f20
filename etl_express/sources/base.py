"""What every source adapter offers: a stream of Arrow record batches of a bounded size.

A source never holds more than about one chunk in memory; the extract stage writes each chunk
to the staging store as soon as it is complete.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import pyarrow as pa

from etl_express.errors import EtlxError

# Values an incremental window may be bounded by. Strings are deliberately absent: a bound is a
# typed value from Airflow's data interval (or a number), never text a user typed.
Bound = dt.datetime | dt.date | int | Decimal

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class SourceError(EtlxError):
    """A source could not be read (connection lost, query rejected, bad file, timeout)."""


@dataclass(frozen=True)
class IncrementalWindow:
    """Rows whose `column` lies in [lower, upper); either bound may be open (None)."""

    column: str
    lower: Bound | None = None
    upper: Bound | None = None

    def __post_init__(self) -> None:
        if not _IDENTIFIER.match(self.column):
            raise ValueError(f"incremental column {self.column!r} is not a plain column name")
        for bound in (self.lower, self.upper):
            if bound is not None and not isinstance(bound, dt.date | int | Decimal):
                raise TypeError("incremental bounds must be datetime, date, int or Decimal")
            if isinstance(bound, bool):
                raise TypeError("incremental bounds must not be booleans")


class Source(Protocol):
    """A readable source. `batches()` yields record batches of at most `chunk_rows` rows."""

    chunk_rows: int

    def batches(self) -> Iterator[pa.RecordBatch]: ...
