"""AWS Batch's two error codes, and how validation and API-server errors become them.

Why only two: AWS Batch answers every failed call with ``ClientException`` (HTTP 400:
the request is wrong, or names something that does not exist) or ``ServerException``
(HTTP 500). Front ends print or serialise ``code`` and ``message``; the message is one
line and names the field at fault, e.g. ``arrayProperties.size: must be at most 10000``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ValidationError


class BatchError(Exception):
    """A failed operation: ``code`` is AWS's error code, ``http_status`` its HTTP status."""

    code: ClassVar[str]
    http_status: ClassVar[int]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ClientException(BatchError):
    code = "ClientException"
    http_status = 400


class NoSuchObject(ClientException):
    """A ClientException saying that what a request names does not exist (bulk operations skip those, as AWS does)."""


class ServerException(BatchError):
    code = "ServerException"
    http_status = 500


def field_path(loc: tuple[Any, ...]) -> str:
    """``("dependsOn", 0, "type")`` as ``dependsOn[0].type``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _problem(error: dict[str, Any]) -> str:
    context = error.get("ctx") or {}
    kind = error["type"]
    if kind == "value_error":  # an object rule: its message names the fields
        return str(context.get("error", error["msg"]))
    phrases = {
        "missing": "is required",
        "extra_forbidden": "is not a known field",
        "greater_than_equal": f"must be at least {context.get('ge')}",
        "less_than_equal": f"must be at most {context.get('le')}",
        "literal_error": f"must be one of {context.get('expected')}",
        "string_pattern_mismatch": f"{error.get('input')!r} does not match {context.get('pattern')}",
    }
    return phrases.get(kind) or error["msg"][0].lower() + error["msg"][1:]


def invalid(error: ValidationError, *, prefix: str = "") -> ClientException:
    """A ClientException naming each invalid field of a request, on one line."""
    problems = []
    for item in error.errors():
        path = field_path(tuple(part for part in (prefix, *item["loc"]) if part != ""))
        message = _problem(item)
        problems.append(message if item["type"] == "value_error" or not path else f"{path}: {message}")
    return ClientException("; ".join(dict.fromkeys(problems)))
