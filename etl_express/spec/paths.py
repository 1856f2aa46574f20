"""JSON paths into a payload as the user wrote it, and pydantic errors turned into FieldErrors.

Pydantic's error locations carry things the user never wrote (the tag of a discriminated
union, ``function-after[...]``, ``[key]``). Walking the payload alongside the location tells a
key the user wrote from such an insertion, so paths point at the user's own text.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from etl_express.errors import FieldError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def key_part(key: str) -> str:
    """One mapping key as a path segment: `.name`, or `["odd key"]` when it is not a word."""
    if _IDENT.match(key):
        return f".{key}"
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'["{escaped}"]'


def join_path(base: str, *parts: str | int) -> str:
    """`join_path("$.fields", "email", "steps", 1)` → `$.fields.email.steps[1]`."""
    out = base
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else key_part(part)
    return out


def json_path(loc: Sequence[int | str], payload: Any, base: str = "$") -> str:
    parts = [base]
    node: Any = payload
    last = len(loc) - 1
    for index, item in enumerate(loc):
        if isinstance(item, int) and not isinstance(item, bool):
            parts.append(f"[{item}]")
            node = node[item] if isinstance(node, list) and 0 <= item < len(node) else None
            continue
        key = str(item)
        if isinstance(node, Mapping) and key in node:
            parts.append(key_part(key))
            node = node[key]
        elif _is_inserted(key, node, index == last):
            continue
        else:
            parts.append(key_part(key))
            node = None
    return "".join(parts)


def _is_inserted(key: str, node: Any, is_last: bool) -> bool:
    """True for location items pydantic adds that are not keys of the payload."""
    if key == "[key]" or key.startswith(("function-", "tagged-union[", "union[")):
        return True
    # A union tag sits where the node is a mapping whose tag value is this key.
    return (
        not is_last
        and isinstance(node, Mapping)
        and any(node.get(tag) == key for tag in ("op", "kind", "operator", "destination"))
    )


# Sentences for `pattern=` constraints, registered by the modules that define the patterns.
PATTERN_HINTS: dict[str, str] = {}
LOWER_IDENT_HINT = (
    "must be a lowercase identifier: a-z, 0-9 and '_', not starting with a digit, "
    "at most 63 characters"
)


def hinted(pattern: str, hint: str) -> str:
    """Register the sentence shown when a value does not match `pattern`; returns `pattern`."""
    PATTERN_HINTS[pattern] = hint
    return pattern


_MESSAGES: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a known field here (check the spelling)",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
}


def message_for(error: Mapping[str, Any]) -> str:
    etype = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if etype in _MESSAGES:
        return _MESSAGES[etype]
    if etype == "union_tag_invalid":
        return (
            f"unknown {ctx.get('discriminator', 'kind')} {ctx.get('tag')!r}; "
            f"expected one of {ctx.get('expected_tags')}"
        )
    if etype == "union_tag_not_found":
        return f"needs {ctx.get('discriminator', 'a kind')} to say what it is"
    if etype == "string_pattern_mismatch":
        return PATTERN_HINTS.get(str(ctx.get("pattern")), "has characters that are not allowed")
    if etype == "string_too_long":
        return f"is too long: at most {ctx.get('max_length')} characters"
    if etype == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else str(error["msg"])
    if etype == "too_long":
        return f"has too many items: at most {ctx.get('max_length')}"
    if etype == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s)"
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")


def _label(path: str) -> str:
    match = re.search(r'(?:\.([A-Za-z_][A-Za-z0-9_]*)|\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\])$', path)
    if not match:
        return "value"
    if match.group(3) is not None:
        return f"item {match.group(3)}"
    return match.group(1) or match.group(2)


@lru_cache(maxsize=64)
def vocabulary(model: type[BaseModel]) -> frozenset[str]:
    """Every field name (and alias) of `model` and the models nested in it."""
    names: set[str] = set()
    seen: set[type] = set()
    todo: list[Any] = [model]
    while todo:
        item = todo.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item in seen:
                continue
            seen.add(item)
            for name, info in item.model_fields.items():
                names.add(info.alias or name)
                todo.append(info.annotation)
        else:
            todo.extend(typing.get_args(item))
    return frozenset(names)


def _suggestion(key: str, known: frozenset[str] | None) -> str:
    if not known:
        return ""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def field_errors(
    exc: ValidationError, payload: Any, base: str = "$", model: type[BaseModel] | None = None
) -> list[FieldError]:
    """Every error of `exc` as a FieldError: a path into `payload` and a sentence.

    With `model`, an unknown field gets the closest known field name as a suggestion.
    """
    known = vocabulary(model) if model is not None else None
    out: list[FieldError] = []
    for error in exc.errors():
        loc = error["loc"]
        if error["type"] in ("union_tag_not_found", "union_tag_invalid"):
            loc = (*loc, str(error.get("ctx", {}).get("discriminator", "kind")).strip("'"))
        path = json_path(loc, payload, base)
        message = message_for(error)
        sep = ": " if message[:1].isupper() else " "
        label = "name" if "[key]" in loc else _label(path)
        if error["type"] == "extra_forbidden" and loc:
            hint = _suggestion(str(loc[-1]), known)
            message = f"is not a known field here{hint}" if hint else message
        out.append(FieldError(path, f"{label}{sep}{message}"))
    return dedupe(out)


def dedupe(errors: Iterable[FieldError]) -> list[FieldError]:
    seen: set[FieldError] = set()
    out: list[FieldError] = []
    for err in errors:
        if err not in seen:
            seen.add(err)
            out.append(err)
    return out
