"""Turn a pydantic JSON schema into a Kubernetes structural OpenAPI v3 schema.

pydantic emits JSON Schema 2020-12 (`$defs`/`$ref`, `anyOf` with null for optional
fields, titles, `const`); the API server accepts only structural schemas: every node
typed, no references, no `anyOf` for optionality, `additionalProperties` never next
to `properties`. The conversion keeps what Kubernetes understands and refuses
anything it does not know, so a model change that cannot be expressed fails here,
at generation time, rather than at `kubectl apply`.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_KEPT = frozenset(
    {
        "type",
        "description",
        "required",
        "enum",
        "default",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "format",
    }
)
_DROPPED = frozenset({"title", "examples"})
_UNTYPED_KEYS = _DROPPED | {"description", "default"}
_PRESERVE = "x-kubernetes-preserve-unknown-fields"


def to_structural(schema: Schema) -> Schema:
    """The structural form of `schema` (a `model_json_schema()` result)."""
    return _convert(schema, schema.get("$defs", {}))


def _convert(node: Schema, defs: dict[str, Schema]) -> Schema:
    node = _resolve(node, defs)
    out: Schema = {}
    for key, value in node.items():
        if key in _DROPPED or key == "$defs" or (key == "default" and value is None):
            continue
        if key == "properties":
            out["properties"] = {name: _convert(sub, defs) for name, sub in value.items()}
        elif key == "items":
            out["items"] = _convert(value, defs)
        elif key == "additionalProperties":
            if isinstance(value, dict) and value:
                out["additionalProperties"] = _convert(value, defs)
            elif value is True or value == {}:
                out[_PRESERVE] = True
        elif key == "const":
            out["enum"] = [value]
        elif key in _KEPT or key.startswith("x-kubernetes-"):
            out[key] = value
        else:
            raise ValueError(f"JSON schema keyword {key!r} has no structural equivalent: {node}")
    if "type" not in out and not out.get(_PRESERVE):
        if set(node) - _UNTYPED_KEYS:
            raise ValueError(f"schema node without a type: {node}")
        out[_PRESERVE] = True  # `Any`: keep whatever the user wrote
    return dict(sorted(out.items()))  # keywords in a stable order (field order lives in `properties`)


def _resolve(node: Schema, defs: dict[str, Schema]) -> Schema:
    """Inline `$ref` and drop the null branch of optional fields; the node's own keys win."""
    if "$ref" in node:
        target = defs[node["$ref"].removeprefix("#/$defs/")]
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return {**_resolve(target, defs), **rest}
    if "anyOf" in node:
        branches = [b for b in node["anyOf"] if b != {"type": "null"}]
        if len(branches) != 1:
            raise ValueError(f"unions are not structural; only Optional[X] is supported: {node}")
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        return {**_resolve(branches[0], defs), **rest}
    return node
