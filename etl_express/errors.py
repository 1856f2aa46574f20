"""Errors users see. Raised once, rendered by the API, the CLI and the UI in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a payload.

    `path` is a JSON path into the payload as the user wrote it (``$.steps[2].pattern``),
    `message` a sentence that says what is wrong and, where possible, how to fix it.
    """

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class EtlxError(Exception):
    """Base class of every error ETL-Express shows to a user."""


class ValidationFailed(EtlxError):
    """A payload (script, task, rule, setting) was rejected; nothing was written."""

    def __init__(self, errors: list[FieldError]) -> None:
        if not errors:
            raise ValueError("ValidationFailed needs at least one FieldError")
        self.errors = errors
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))


# The brief's name for the same thing; kept so both spellings read naturally at call sites.
ScriptValidationError = ValidationFailed


class NotFound(EtlxError):
    """The object named by the request does not exist."""


class Conflict(EtlxError):
    """The request clashes with the current state (duplicate name, wrong batch state, ...)."""


class Forbidden(EtlxError):
    """The actor may not do this (role, review policy)."""


class ConfigError(EtlxError):
    """The service is configured wrongly; the message says which setting to fix."""
