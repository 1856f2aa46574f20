from __future__ import annotations

import pytest

from etl_express.api.routers.scripts import _name_errors, _spec_path, in_body
from etl_express.errors import FieldError, ValidationFailed


def test_spec_errors_are_rooted_at_spec_and_envelope_errors_stay() -> None:
    assert _spec_path("$.query") == "$.spec.query"
    assert _spec_path("$.fields.email.steps[1].pattern") == "$.spec.fields.email.steps[1].pattern"
    assert _spec_path("$") == "$.spec"
    assert _spec_path("$.name") == "$.name"
    assert _spec_path("$.kind") == "$.kind"


def test_in_body_reports_extra_and_service_errors_together() -> None:
    def refuse() -> None:
        raise ValidationFailed([FieldError("$.query", "not a SELECT")])

    with pytest.raises(ValidationFailed) as caught:
        in_body(refuse, [FieldError("$.name", "bad name")])
    assert [e.path for e in caught.value.errors] == ["$.name", "$.spec.query"]


def test_in_body_raises_extra_errors_even_when_the_call_passes() -> None:
    with pytest.raises(ValidationFailed):
        in_body(lambda: 1, [FieldError("$.name", "bad name")])
    assert in_body(lambda: 1) == 1


@pytest.mark.parametrize(
    ("name", "ok"), [("customers_v1", True), ("a.b-c", True), ("bad name!", False), ("-x", False)]
)
def test_script_names(name: str, ok: bool) -> None:
    assert (_name_errors(name) == []) is ok
