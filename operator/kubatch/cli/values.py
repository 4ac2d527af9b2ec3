"""Flag values the AWS CLI way: JSON or shorthand for structures, space-separated lists, ``file://``.

Why conversion needs the model: shorthand values are text, and the AWS CLI uses its
service model to know that ``command=echo`` is a one-element list. kubatch's pydantic
models play that part: ``conform`` wraps a lone value in a list where the model's
schema expects an array; the service's validation then turns ``"100"`` into 100.
JSON values are taken exactly as written.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

import click

from kubatch.cli.shorthand import ShorthandError, parse_item, parse_shorthand

Schema = dict[str, Any]
FILE_PREFIX = "file://"


class Kind(Enum):
    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    STRINGS = "list of strings"
    MAP = "map"
    STRUCTURE = "structure"
    STRUCTURES = "list of structures"

    @property
    def is_list(self) -> bool:
        return self in (Kind.STRINGS, Kind.STRUCTURES)


def load(text: str, *, flag: str) -> str:
    """The value itself, or the content of the file a ``file://path`` value names."""
    if not text.startswith(FILE_PREFIX):
        return text
    try:
        return Path(text.removeprefix(FILE_PREFIX)).expanduser().read_text()
    except OSError as error:
        raise click.BadParameter(f"cannot read {text}: {error.strerror}", param_hint=flag) from None


def _json(text: str, *, flag: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise click.BadParameter(f"invalid JSON: {error}", param_hint=flag) from None


def conform(value: Any, schema: Schema) -> Any:
    """``value`` (parsed shorthand) shaped like ``schema`` (structural): lone values become one-element lists."""
    if schema.get("type") == "array":
        items = value if isinstance(value, list) else [value]
        return [conform(item, schema.get("items") or {}) for item in items]
    if schema.get("type") == "object" and isinstance(value, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties") or {}
        return {key: conform(item, properties.get(key, extra)) for key, item in value.items()}
    return value


def structure(text: str, *, flag: str, schema: Schema) -> Any:
    """A structure or map flag: JSON when it starts with ``{`` or ``[``, shorthand otherwise."""
    text = load(text, flag=flag)
    if text.lstrip().startswith(("{", "[")):
        return _json(text, flag=flag)
    try:
        return conform(parse_shorthand(text), schema)
    except ShorthandError as error:
        raise click.BadParameter(f"invalid shorthand: {error}", param_hint=flag) from None


def items(texts: tuple[str, ...], *, flag: str, kind: Kind, schema: Schema) -> list[Any]:
    """A list flag: one JSON list, or items each in JSON or shorthand (strings may also be comma-separated)."""
    texts = tuple(load(text, flag=flag) for text in texts)
    if len(texts) == 1 and texts[0].lstrip().startswith("["):
        return _json(texts[0], flag=flag)
    if kind is Kind.STRINGS:
        return [part.strip() for text in texts for part in text.split(",") if part.strip()]
    result = []
    for text in texts:
        try:
            item = _json(text, flag=flag) if text.lstrip().startswith("{") else parse_item(text)
        except ShorthandError as error:
            raise click.BadParameter(f"invalid shorthand: {error}", param_hint=flag) from None
        result.append(conform(item, schema.get("items") or {}))
    return result


def expand_lists(args: list[str], list_flags: set[str]) -> list[str]:
    """``--jobs a b`` as ``--jobs a --jobs b``: the AWS CLI's space-separated lists, for click."""
    result: list[str] = []
    current: str | None = None
    awaiting_first = False
    for index, arg in enumerate(args):
        if arg == "--":
            return result + args[index:]
        if arg.startswith("-") and len(arg) > 1:
            name = arg.split("=", 1)[0]
            current = name if name in list_flags else None
            awaiting_first = current is not None and "=" not in arg
        elif current is not None and not awaiting_first:
            result.append(current)
        else:
            awaiting_first = False
        result.append(arg)
    return result
