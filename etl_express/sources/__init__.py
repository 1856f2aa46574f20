"""Source adapters: one module per kind, one protocol (`Source.batches()` → Arrow batches)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl_express.sources.base import Bound, IncrementalWindow, Source, SourceError

if TYPE_CHECKING:
    from etl_express.sources.csv import CsvSourceConfig
    from etl_express.sources.mysql import MySqlSourceConfig
    from etl_express.sources.parquet import ParquetSourceConfig
    from etl_express.sources.postgres import PostgresSourceConfig

    SourceConfig = PostgresSourceConfig | MySqlSourceConfig | CsvSourceConfig | ParquetSourceConfig

__all__ = ["Bound", "IncrementalWindow", "Source", "SourceError", "open_source"]


def open_source(config: SourceConfig) -> Source:
    """The adapter for a config object (imports only the driver that kind needs)."""
    from etl_express.sources.csv import CsvSource, CsvSourceConfig
    from etl_express.sources.mysql import MySqlSource, MySqlSourceConfig
    from etl_express.sources.parquet import ParquetSource, ParquetSourceConfig
    from etl_express.sources.postgres import PostgresSource, PostgresSourceConfig

    if isinstance(config, PostgresSourceConfig):
        return PostgresSource(config)
    if isinstance(config, MySqlSourceConfig):
        return MySqlSource(config)
    if isinstance(config, CsvSourceConfig):
        return CsvSource(config)
    if isinstance(config, ParquetSourceConfig):
        return ParquetSource(config)
    raise TypeError(f"no source adapter for {type(config).__name__}")
