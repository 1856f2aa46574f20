from __future__ import annotations

import yaml

from etl_express.registry.canonical import canonical_json, canonical_yaml, spec_sha256


def test_key_order_does_not_change_the_hash() -> None:
    a = {"b": 1, "a": {"y": [1, 2], "x": "é"}}
    b = {"a": {"x": "é", "y": [1, 2]}, "b": 1}
    assert canonical_json(a) == canonical_json(b) == '{"a":{"x":"é","y":[1,2]},"b":1}'
    assert spec_sha256(a) == spec_sha256(b)
    assert spec_sha256(a) != spec_sha256({**a, "b": 2})


def test_yaml_is_sorted_readable_and_round_trips() -> None:
    spec = {"query": "SELECT 1\nFROM t", "name": "Иван", "n": None, "list": [1, "x"]}
    text = canonical_yaml(spec)
    assert text.splitlines()[0] == "list:"
    assert "query: |-\n  SELECT 1\n  FROM t\n" in text
    assert "name: Иван" in text
    assert yaml.safe_load(text) == spec
