"""The five kinds of script a user writes."""

from __future__ import annotations

from enum import StrEnum


class ScriptKind(StrEnum):
    extraction = "extraction"
    field_rules = "field_rules"
    transformation = "transformation"
    anonymization = "anonymization"
    upload = "upload"

    @property
    def label(self) -> str:
        """How the kind reads in a sentence ("field rules")."""
        return self.value.replace("_", " ")
