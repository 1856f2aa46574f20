"""Anonymization rules: what happens to each column of a frame.

A rules document (YAML or JSON) names, per structured column, one operator with typed
parameters, per free-text column the entities to detect and an operator per entity, and the
quasi-identifiers the privacy report measures k-anonymity over::

    columns:
      email: {operator: pseudonym, prefix: "em_"}
      full_name: {operator: fake, kind: person_name, locale: ru_RU, token_column: person_id}
      birth_date: {operator: generalize, kind: date, to: year}
    text_columns:
      comment:
        language: ru
        entities:
          PERSON: {operator: redact}
          PHONE_NUMBER: {operator: mask, keep_last: 2}
    quasi_identifiers: [birth_date, city]

Keys never appear here: pseudonym and encryption keys come from a `KeyRing` (see keys.py).
`parse_rules` turns pydantic errors into `ValidationFailed` with JSON paths into the document
as written (``$.columns.email.keep_first``).
"""

from __future__ import annotations

from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from etl_express.errors import FieldError, ValidationFailed

# Entity labels the detector knows (privacy-corpus README); text rules may only name these.
TEXT_ENTITIES: frozenset[str] = frozenset(
    {
        "PERSON",
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "RU_INN",
        "RU_SNILS",
        "RU_PASSPORT",
        "RU_OMS",
        "RU_OGRN",
        "CREDIT_CARD",
        "IBAN_CODE",
        "LOCATION",
        "DATE_OF_BIRTH",
        "IP_ADDRESS",
    }
)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnRule(_Rule):
    """Fields every column operator shares."""

    personal: bool | None = Field(
        None,
        description="Column holds personal data (its original values must not survive). "
        "Default: true for every operator except keep and generalize.",
    )

    @property
    def is_personal(self) -> bool:
        return True if self.personal is None else self.personal


class KeepRule(ColumnRule):
    operator: Literal["keep"] = "keep"

    @property
    def is_personal(self) -> bool:
        return bool(self.personal)

    @model_validator(mode="after")
    def _not_personal(self) -> KeepRule:
        if self.personal:
            raise ValueError("a column marked personal cannot use operator keep: it would leak")
        return self


class DropRule(ColumnRule):
    operator: Literal["drop"]


class NullifyRule(ColumnRule):
    operator: Literal["nullify"]


class MaskRule(ColumnRule):
    """Replace characters by `char`, keeping the first/last N and any `preserve` characters."""

    operator: Literal["mask"]
    keep_first: int = Field(0, ge=0, le=64)
    keep_last: int = Field(0, ge=0, le=64)
    char: str = Field("*", min_length=1, max_length=1)
    preserve: str = Field(
        "", max_length=32, description="Characters left as they are, e.g. ' -()@' for layout."
    )


class RedactRule(ColumnRule):
    operator: Literal["redact"]
    value: str = Field("<REDACTED>", max_length=256)


class PseudonymRule(ColumnRule):
    """Keyed HMAC-SHA256 token: same input and key give the same token in every task and run."""

    operator: Literal["pseudonym"]
    prefix: str = Field("", max_length=32, pattern=r"^[A-Za-z0-9_:\-]*$")
    alphabet: Literal["hex", "base32"] = "hex"
    length: int = Field(16, ge=8, le=64)

    @model_validator(mode="after")
    def _length_fits(self) -> PseudonymRule:
        if self.alphabet == "base32" and self.length > 24:
            raise ValueError("length: base32 tokens are at most 24 characters (120 bits)")
        return self


class FakeKind(StrEnum):
    person_name = "person_name"
    first_name = "first_name"
    last_name = "last_name"
    email = "email"
    phone = "phone"
    address = "address"
    city = "city"
    inn10 = "inn10"
    inn12 = "inn12"
    snils = "snils"


class FakeRule(ColumnRule):
    """Deterministic realistic fake derived from the HMAC of the value (not per-value Faker)."""

    operator: Literal["fake"]
    kind: FakeKind
    locale: Literal["ru_RU", "en_US"] = "ru_RU"
    token_column: str | None = Field(
        None,
        min_length=1,
        max_length=63,
        description="Also write the pseudonym token of the original value to this new column "
        "(join key: small name pools collide, tokens do not).",
    )


class _GeneralizeBase(ColumnRule):
    """Generalized values are coarser forms of the originals and may equal some original by
    design (a year's 1 January is someone's birthday), so the exact-match leak check does not
    apply to them; k-anonymity over the quasi-identifiers judges them instead. `personal:
    true` opts a column back into the leak check."""

    @property
    def is_personal(self) -> bool:
        return bool(self.personal)


class GeneralizeDate(_GeneralizeBase):
    operator: Literal["generalize"]
    kind: Literal["date"]
    to: Literal["month", "year"] = "month"
    formats: list[str] = Field(
        default_factory=lambda: ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y"],
        min_length=1,
        description="strptime formats tried in order when the column holds text.",
    )


class GeneralizeAge(_GeneralizeBase):
    operator: Literal["generalize"]
    kind: Literal["age"]
    bands: list[int] = Field(
        default_factory=lambda: [18, 25, 35, 45, 55, 65], min_length=1, max_length=64
    )

    @field_validator("bands")
    @classmethod
    def _ascending(cls, bands: list[int]) -> list[int]:
        if any(b < 0 for b in bands) or any(a >= b for a, b in pairwise(bands)):
            raise ValueError("bands must be non-negative and strictly ascending")
        return bands


class GeneralizeNumber(_GeneralizeBase):
    operator: Literal["generalize"]
    kind: Literal["number"]
    width: float = Field(gt=0, description="Width of each range, e.g. 1000 → '35000-36000'.")


class GeneralizeAddress(_GeneralizeBase):
    operator: Literal["generalize"]
    kind: Literal["address"]
    to: Literal["city", "region"] = "city"


GeneralizeRule = Annotated[
    GeneralizeDate | GeneralizeAge | GeneralizeNumber | GeneralizeAddress,
    Field(discriminator="kind"),
]


class EncryptRule(ColumnRule):
    """Reversible AES-SIV encryption (see encryption.py); decrypt needs the key and a role."""

    operator: Literal["encrypt"]


OperatorRule = Annotated[
    KeepRule
    | DropRule
    | NullifyRule
    | MaskRule
    | RedactRule
    | PseudonymRule
    | FakeRule
    | GeneralizeRule
    | EncryptRule,
    Field(discriminator="operator"),
]


# Operators for spans found in free text.
class TextRedact(_Rule):
    operator: Literal["redact"]
    value: str | None = Field(None, max_length=256, description="Default: '<ENTITY>'.")


class TextPseudonym(_Rule):
    operator: Literal["pseudonym"]
    prefix: str | None = Field(
        None, max_length=32, pattern=r"^[A-Za-z0-9_:\-]*$", description="Default: 'ENTITY_'."
    )
    length: int = Field(12, ge=8, le=64)


class TextMask(_Rule):
    operator: Literal["mask"]
    keep_first: int = Field(0, ge=0, le=64)
    keep_last: int = Field(0, ge=0, le=64)
    char: str = Field("*", min_length=1, max_length=1)
    preserve: str = Field("", max_length=32)


class TextFake(_Rule):
    operator: Literal["fake"]
    locale: Literal["ru_RU", "en_US"] | None = Field(
        None, description="Default: the text column's language (auto → per text)."
    )


TextOperatorRule = Annotated[
    TextRedact | TextPseudonym | TextMask | TextFake, Field(discriminator="operator")
]

# Which fake kind stands in for an entity found in text.
FAKE_KIND_FOR_ENTITY: dict[str, FakeKind] = {
    "PERSON": FakeKind.person_name,
    "EMAIL_ADDRESS": FakeKind.email,
    "PHONE_NUMBER": FakeKind.phone,
    "LOCATION": FakeKind.city,
    "RU_INN": FakeKind.inn12,
    "RU_SNILS": FakeKind.snils,
}


class TextColumnRule(_Rule):
    language: Literal["ru", "en", "auto"] = "auto"
    entities: dict[str, TextOperatorRule] = Field(min_length=1)
    score_threshold: float = Field(0.5, ge=0.0, le=1.0)
    mode: Literal["full", "patterns"] = "full"

    @field_validator("entities")
    @classmethod
    def _known_entities(cls, entities: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(entities) - TEXT_ENTITIES)
        if unknown:
            raise ValueError(
                f"unknown entity {unknown[0]!r}; known: {', '.join(sorted(TEXT_ENTITIES))}"
            )
        for entity, rule in entities.items():
            if isinstance(rule, TextFake) and entity not in FAKE_KIND_FOR_ENTITY:
                raise ValueError(
                    f"{entity}: operator fake is not available for this entity "
                    f"(only {', '.join(sorted(FAKE_KIND_FOR_ENTITY))}); use redact or pseudonym"
                )
        return entities


class AnonymizationRules(_Rule):
    columns: dict[str, OperatorRule] = Field(default_factory=dict)
    text_columns: dict[str, TextColumnRule] = Field(default_factory=dict)
    quasi_identifiers: list[str] = Field(default_factory=list, max_length=32)
    unlisted_columns: Literal["keep", "drop", "error"] = Field(
        "keep", description="What happens to frame columns the rules do not mention."
    )

    @field_validator("text_columns")
    @classmethod
    def _not_also_structured(
        cls, text_columns: dict[str, TextColumnRule], info: ValidationInfo
    ) -> dict[str, TextColumnRule]:
        both = sorted(set(info.data.get("columns", {})) & set(text_columns))
        if both:
            raise ValueError(f"column {both[0]!r} is in both columns and text_columns")
        return text_columns

    @field_validator("quasi_identifiers")
    @classmethod
    def _quasi_identifiers_kept(cls, names: list[str], info: ValidationInfo) -> list[str]:
        if len(set(names)) != len(names):
            raise ValueError("a column is listed twice")
        columns = info.data.get("columns", {})
        for name in names:
            if isinstance(columns.get(name), DropRule | NullifyRule):
                raise ValueError(f"{name!r} is dropped or nullified by its rule")
        return names

    @field_validator("columns")
    @classmethod
    def _token_columns_new(cls, columns: dict[str, OperatorRule]) -> dict[str, OperatorRule]:
        tokens = [r.token_column for r in columns.values() if isinstance(r, FakeRule)]
        named = [t for t in tokens if t]
        if any(t in columns for t in named) or len(set(named)) != len(named):
            raise ValueError("token_column names must be new, distinct column names")
        return columns

    def personal_columns(self) -> list[str]:
        """Columns whose original values must not survive (the leak check's set)."""
        return [n for n, r in self.columns.items() if r.is_personal]


def parse_rules(payload: Any) -> AnonymizationRules:
    """Validate a rules document; errors carry JSON paths into the document as written."""
    if not isinstance(payload, dict):
        raise ValidationFailed([FieldError("$", "anonymization rules must be a mapping")])
    try:
        return AnonymizationRules.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailed(_field_errors(exc, payload)) from None


def load_rules_file(path: str | Path) -> AnonymizationRules:
    """Read rules from a YAML or JSON file (YAML is a superset of JSON)."""
    import yaml

    try:
        payload = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValidationFailed([FieldError("$", f"{path}: not valid YAML: {exc}")]) from None
    return parse_rules(payload)


def _field_errors(exc: ValidationError, payload: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    for err in exc.errors():
        path = json_path(err["loc"], payload)
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "union_tag_invalid":
            ctx = err.get("ctx", {})
            field = str(ctx.get("discriminator", "tag")).strip("'")
            message = (
                f"unknown {field} {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
            )
        elif err["type"] == "union_tag_not_found":
            field = str(err.get("ctx", {}).get("discriminator", "operator")).strip("'")
            path = f"{path}.{field}"
            message = "field required (it selects the operator and its parameters)"
        errors.append(FieldError(path, message))
    return errors


def json_path(loc: tuple[int | str, ...], payload: Any) -> str:
    """JSON path of a pydantic error location, skipping the union tags pydantic inserts.

    Discriminated unions add the tag value ("mask") to `loc`; walking the payload tells a tag
    (absent from the document) from a key (present), so a column named "mask" still works.
    """
    parts = ["$"]
    node = payload
    for item in loc:
        if isinstance(node, dict) and isinstance(item, str):
            if item in node:
                parts.append(f".{item}" if item.isidentifier() else f"[{item!r}]")
                node = node[item]
            elif _is_tag_position(node, item):
                continue
            else:
                parts.append(f".{item}" if item.isidentifier() else f"[{item!r}]")
                node = None
        elif isinstance(item, int):
            parts.append(f"[{item}]")
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(f".{item}")
            node = None
    return "".join(parts)


def _is_tag_position(node: dict[str, Any], item: str) -> bool:
    return node.get("operator") == item or node.get("kind") == item
