"""Reading AWS requests: required and unknown fields, AWS-only fields, validation by the API models.

Why here and not in each operation: every operation checks its request the same way,
and the answer must be the same whichever front end sent it. AWS-only fields (IAM
roles, networking, EC2 launch settings) are removed with a warning naming them; fields
AWS does not have either are refused, as AWS refuses them ("is not a known field").
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from kubatch.api.common import ObjectName
from kubatch.service.context import Context
from kubatch.service.errors import ClientException, invalid

Request = dict[str, Any]

IAM = "IAM has no meaning on Kubernetes (use RBAC and serviceAccountName)"
NETWORK = "networking is the cluster's own"
INSTANCES = "kubatch does not launch instances; nodes come from the cluster"
LOGGING = "logs are the pods' logs (kubatch logs)"
ORCHESTRATION = "kubatch runs on the cluster it is installed in"


def require(request: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if request.get(name) in (None, "", [], {}):
            raise ClientException(f"{name}: is required")


def refuse_unknown(request: Mapping[str, Any], known: Iterable[str]) -> None:
    unknown = sorted(set(request) - set(known))
    if unknown:
        raise ClientException(f"{unknown[0]}: is not a known field of this operation")


def refuse(request: Mapping[str, Any], unsupported: Mapping[str, str]) -> None:
    """AWS fields kubatch cannot honour and must not ignore: ``{field: why}``."""
    for name, why in unsupported.items():
        if request.get(name) is not None:
            raise ClientException(f"{name}: not supported by kubatch ({why})")


def _drop(document: Any, parts: list[str], path: str, dropped: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        items = document.get(head[:-2]) if isinstance(document, dict) else None
        for index, item in enumerate(items if isinstance(items, list) else []):
            _drop(item, rest, f"{path}{head[:-2]}[{index}].", dropped)
    elif isinstance(document, dict) and head in document:
        if rest:
            _drop(document[head], rest, f"{path}{head}.", dropped)
        else:
            del document[head]
            dropped.append(path + head)


def drop_aws_only(ctx: Context, request: Request, ignored: Mapping[str, str]) -> Request:
    """A copy of ``request`` without the AWS-only fields of ``ignored`` (``{"a.b[].c": why}``), each warned about."""
    result = copy.deepcopy(request)
    for pattern, why in ignored.items():
        dropped: list[str] = []
        _drop(result, pattern.split("."), "", dropped)
        for path in dropped:
            ctx.warn(f"{path} is ignored: {why}")
    return result


def model_fields(model: type[BaseModel], *, excluding: Iterable[str] = ()) -> frozenset[str]:
    return frozenset(model.model_fields) - frozenset(excluding)


def validated(model: type[BaseModel], document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` checked by ``model``, as JSON with what was given (no defaults, no nulls)."""
    try:
        parsed = model.model_validate({key: value for key, value in document.items() if value is not None})
    except ValidationError as error:
        raise invalid(error) from None
    return parsed.model_dump(mode="json", exclude_unset=True, exclude_none=True)


def pick(request: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: request[name] for name in names if request.get(name) is not None}


_OBJECT_NAME = TypeAdapter(ObjectName)


def object_name(value: Any, *, field: str) -> str:
    """A new object's name: AWS allows more than Kubernetes does, so say what is allowed."""
    try:
        return _OBJECT_NAME.validate_python(value)
    except ValidationError:
        raise ClientException(
            f"{field}: {value!r} is not a valid name here: use lowercase letters, digits, '-' and '.', starting and "
            "ending with a letter or digit (a Kubernetes object name)") from None
