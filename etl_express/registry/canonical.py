"""Canonical text of a spec: one spelling per value, so equal specs hash and diff as equal."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml


def canonical_json(spec: Any) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 kept (Cyrillic stays readable)."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def spec_sha256(spec: Any) -> str:
    return hashlib.sha256(canonical_json(spec).encode("utf-8")).hexdigest()


def canonical_yaml(spec: Any) -> str:
    """Block-style YAML with sorted keys; multi-line strings (SQL) as literal blocks."""
    return yaml.dump(
        spec,
        Dumper=_LiteralDumper,
        sort_keys=True,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def canonical_pretty_json(spec: Any) -> str:
    return json.dumps(spec, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


class _LiteralDumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str)
