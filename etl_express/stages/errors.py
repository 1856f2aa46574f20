"""Stage failures as users see them: stage, chunk and a message that holds no row data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from etl_express.errors import EtlxError


class StageError(EtlxError):
    """A stage failed on a chunk. The message is safe to show and to log (no values)."""

    def __init__(self, stage: str, chunk: int | None, message: str) -> None:
        self.stage = stage
        self.chunk = chunk
        self.message = message
        where = f"stage {stage}" + (f", chunk {chunk}" if chunk is not None else "")
        super().__init__(f"{where}: {message}")

    def as_dict(self) -> dict[str, object]:
        return {"stage": self.stage, "chunk": self.chunk, "message": self.message}


class SafeMessageError(EtlxError):
    """Raised inside stages with a message written to contain no row data."""


@contextmanager
def stage_errors(stage: str, chunk: int | None) -> Iterator[None]:
    """Turn any failure inside a stage into a StageError.

    Messages of our own errors (EtlxError) are written without values and pass through.
    Library messages often quote offending values (polars/arrow cast errors print them), so
    only the exception type survives, and the original is not chained (`from None`) so that
    tracebacks in task logs carry no row data either.
    """
    try:
        yield
    except StageError:
        raise
    except EtlxError as exc:
        raise StageError(stage, chunk, str(exc)) from None
    except MemoryError:
        raise StageError(stage, chunk, "out of memory; lower the chunk size") from None
    except Exception as exc:
        raise StageError(
            stage, chunk, f"{type(exc).__name__} (details withheld: they may contain row data)"
        ) from None
