"""Building blocks shared by the five kinds: the model base classes and object rules.

The models are the one source of truth for the CRDs, so every check that needs only
the object is declared here once and enforced twice: the API server runs it as CEL
(`x-kubernetes-validations`), and pydantic runs the same `Rule` in Python, so the CLI
and the operator reject a bad object with the same message before it reaches the
API server. Field names are AWS Batch's camelCase JSON names, used as the Python
attribute names as well: one spelling everywhere (CEL, kubectl, Python) and
`model_dump()` can never emit a name the API server would prune.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from kubatch.kinds import API_VERSION, GROUP, VERSION, Kind  # noqa: F401  (`kubatch.api` re-exports them)

CATEGORY = "kubatch"


Reason = Literal["FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired"]
"""How the API server words a failed rule: `Invalid value`, `Forbidden` or `Required value`.

FieldValueDuplicate is left out on purpose: the API server prints only `Duplicate value:
"object"` for it and drops the rule's message, so the user would not learn what is wrong.
"""


@dataclass(frozen=True)
class Rule:
    """One check: a CEL rule for the API server and its Python twin.

    `check` receives the validated model (or, for a field rule, the field's value) and
    returns True when it is valid. Transition rules (those comparing with `oldSelf`) have
    no Python twin: a single object cannot tell what it was before, so `check` is None
    for them.

    A model lists its rules in `rules`; the API server then reports a failure at the
    model's own path unless `field_path` (a relative path such as `.minvCpus`) names the
    one field the rule is about, and `reason` says how (`Invalid value`, `Forbidden`,
    `Required value`). A rule placed in a field's `Annotated[...]` is that field's own:
    `self` is the field's value and the failure is reported at the field.
    """

    cel: str
    message: str
    check: Callable[[Any], bool] | None = None
    field_path: str | None = None
    reason: Reason | None = None

    def as_schema(self) -> dict[str, str]:
        schema = {"rule": self.cel, "message": self.message}
        if self.field_path is not None:
            schema["fieldPath"] = self.field_path
        if self.reason is not None:
            schema["reason"] = self.reason
        return schema

    # As `Annotated[...]` metadata: the rule of one field, checked after the field's own constraints.
    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema = handler(source)
        check = self.check
        if check is None:
            return schema

        def validate(value: Any) -> Any:
            if not check(value):
                raise ValueError(self.message)
            return value

        return core_schema.no_info_after_validator_function(validate, schema)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("x-kubernetes-validations", []).append(self.as_schema())
        return json_schema


def _add_rules(schema: dict[str, Any], model: type[BaseModel]) -> None:
    rules: tuple[Rule, ...] = getattr(model, "rules", ())
    if rules:
        schema["x-kubernetes-validations"] = [rule.as_schema() for rule in rules]


class KubeModel(BaseModel):
    """A part of a spec: unknown fields are errors, as with `kubectl apply`'s strict validation."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_add_rules)

    rules: ClassVar[tuple[Rule, ...]] = ()

    @model_validator(mode="after")
    def _check_rules(self) -> KubeModel:
        for rule in self.rules:
            if rule.check is not None and not rule.check(self):
                raise ValueError(rule.message)
        return self


class StatusModel(KubeModel):
    """The root of a status: keeps unknown keys, where the operator keeps its bookkeeping."""

    model_config = ConfigDict(extra="allow")


class ObjectMeta(BaseModel):
    """The part of Kubernetes object metadata kubatch reads; other keys are kept as they are."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    generation: int | None = None
    resourceVersion: str | None = None
    creationTimestamp: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class PrinterColumn:
    """A column of `kubectl get`."""

    name: str
    jsonPath: str
    type: Literal["string", "integer", "number", "boolean", "date"] = "string"
    description: str = ""

    def as_crd(self) -> dict[str, str]:
        column = {"name": self.name, "type": self.type, "jsonPath": self.jsonPath}
        if self.description:
            column["description"] = self.description
        return column


AGE = PrinterColumn("Age", ".metadata.creationTimestamp", "date")


@dataclass(frozen=True)
class CrdNames:
    """How a kind is registered: its names and scope (from `kubatch.kinds`) and `kubectl get` columns."""

    kind: Kind
    columns: tuple[PrinterColumn, ...]
    selectableFields: tuple[str, ...] = ()

    @property
    def plural(self) -> str:
        return self.kind.plural

    @property
    def singular(self) -> str:
        return self.kind.name.lower()

    @property
    def shortNames(self) -> tuple[str, ...]:
        return self.kind.short_names

    @property
    def scope(self) -> Literal["Cluster", "Namespaced"]:
        return self.kind.scope


class Resource(BaseModel):
    """A whole kubatch object as the API server returns it (`Kind.model_validate(body)`)."""

    model_config = ConfigDict(extra="forbid")

    crd: ClassVar[CrdNames]

    apiVersion: Literal[API_VERSION] = API_VERSION  # type: ignore[valid-type]
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
