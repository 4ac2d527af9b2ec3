"""The JSON schema → structural schema conversion, on small models built for the purpose."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import Field, ValidationError

from kubatch.api.base import KubeModel, Rule, StatusModel
from kubatch.api.structural import to_structural


class Inner(KubeModel):
    """Inner docstring."""

    rules = (
        Rule("self.low <= self.high", "low must not exceed high", lambda m: m.low <= m.high),
        Rule("self.low == oldSelf.low", "low is immutable"),
        Rule("self.high > 0", "high must be positive", lambda m: m.high > 0, field_path=".high",
             reason="FieldValueInvalid"),
    )

    low: int = Field(ge=0, description="Low.")
    high: int = Field(le=10, description="High.")


class Outer(KubeModel):
    """Outer docstring."""

    inner: Inner | None = Field(default=None, description="The field's own description.")
    items: list[Inner] = Field(default_factory=list, max_length=3, description="Items.")
    loose: dict[str, Any] | None = Field(default=None, description="Anything.")
    labels: dict[str, str] | None = Field(default=None, max_length=5, description="Labels.")
    anything: Any = Field(default=None, description="Any value.")
    fixed: Literal["ONLY"] = Field(default="ONLY", description="A single value.")
    odd: Annotated[int, Field(ge=1), Rule("self % 2 == 1", "odd must be odd", lambda v: v % 2 == 1)] | None = Field(
        default=None, description="An odd number."
    )


class Bookkeeping(StatusModel):
    """A status."""

    phase: str | None = Field(default=None, description="Phase.")


SCHEMA = to_structural(Outer.model_json_schema())


def test_references_are_inlined_and_the_field_description_wins() -> None:
    inner = SCHEMA["properties"]["inner"]
    assert inner["type"] == "object"
    assert inner["description"] == "The field's own description."
    assert inner["properties"]["low"] == {"description": "Low.", "minimum": 0, "type": "integer"}
    assert SCHEMA["properties"]["items"]["items"]["description"] == "Inner docstring."


def test_optional_loses_its_null_branch_and_null_default() -> None:
    assert "anyOf" not in SCHEMA["properties"]["inner"]
    assert "default" not in SCHEMA["properties"]["inner"]
    assert SCHEMA["properties"]["fixed"]["default"] == "ONLY"


def test_rules_become_cel_validations_in_order() -> None:
    assert SCHEMA["properties"]["inner"]["x-kubernetes-validations"] == [
        {"rule": "self.low <= self.high", "message": "low must not exceed high"},
        {"rule": "self.low == oldSelf.low", "message": "low is immutable"},
        {"rule": "self.high > 0", "message": "high must be positive", "fieldPath": ".high",
         "reason": "FieldValueInvalid"},
    ]


def test_a_rule_in_a_fields_annotation_is_that_fields_own() -> None:
    assert SCHEMA["properties"]["odd"] == {
        "description": "An odd number.",
        "minimum": 1,
        "type": "integer",
        "x-kubernetes-validations": [{"rule": "self % 2 == 1", "message": "odd must be odd"}],
    }
    Outer(odd=3)
    with pytest.raises(ValidationError, match="odd must be odd") as caught:
        Outer(odd=4)
    assert caught.value.errors()[0]["loc"] == ("odd",)
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        Outer(odd=-1)


def test_python_runs_the_rules_that_need_no_old_object() -> None:
    Inner(low=1, high=1)
    with pytest.raises(ValidationError, match="low must not exceed high"):
        Inner(low=2, high=1)
    with pytest.raises(ValidationError, match="high must be positive"):
        Inner(low=0, high=0)


def test_free_form_values_preserve_unknown_fields() -> None:
    assert SCHEMA["properties"]["loose"] == {
        "description": "Anything.",
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
    }
    assert SCHEMA["properties"]["anything"] == {
        "description": "Any value.",
        "x-kubernetes-preserve-unknown-fields": True,
    }
    assert SCHEMA["properties"]["labels"]["additionalProperties"] == {"type": "string"}


def test_const_becomes_enum_and_titles_go() -> None:
    assert SCHEMA["properties"]["fixed"]["enum"] == ["ONLY"]
    assert "title" not in str(SCHEMA)


def test_extra_forbid_leaves_no_additional_properties() -> None:
    assert "additionalProperties" not in SCHEMA


def test_status_models_keep_unknown_keys_next_to_declared_ones() -> None:
    schema = to_structural(Bookkeeping.model_json_schema())
    assert schema["x-kubernetes-preserve-unknown-fields"] is True
    assert "phase" in schema["properties"]
    assert Bookkeeping.model_validate({"phase": "x", "kopf": {"a": 1}}).model_extra == {"kopf": {"a": 1}}


class WithSet(KubeModel):
    names: set[str]


class WithUnion(KubeModel):
    value: int | str


@pytest.mark.parametrize("model", [WithSet, WithUnion])
def test_what_kubernetes_cannot_express_fails_at_generation(model: type[KubeModel]) -> None:
    with pytest.raises(ValueError, match="structural"):
        to_structural(model.model_json_schema())
