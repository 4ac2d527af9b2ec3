"""Click commands for the AWS Batch verbs, generated from one table of verbs and their flags.

Why a table: ``aws batch`` has a regular shape (kebab-case flags named after the
request's camelCase fields, structures in JSON or shorthand, lists space-separated),
so each verb is declared once as data and every verb parses, merges
``--cli-input-json``, calls the service and prints the same way. Flags come after
the verb, as with the AWS CLI; values on the command line win over
``--cli-input-json``. List operations fetch every page unless ``--max-results`` or
``--next-token`` asks for one page, as the AWS CLI does.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import click
from pydantic import BaseModel

from kubatch.api.structural import to_structural
from kubatch.cli.output import render
from kubatch.cli.runtime import Globals, global_options, run
from kubatch.cli.values import Kind, Schema, expand_lists, items, load, structure
from kubatch.service import Context, invoke

FollowUp = Callable[[Context, dict[str, Any], dict[str, Any], Globals], Awaitable[None]]


@dataclass(frozen=True)
class Flag:
    name: str
    kind: Kind = Kind.STRING
    help: str = ""
    aliases: tuple[str, ...] = ()
    schema: Schema | None = None  # for shorthand, when the verb's model does not describe the field

    @property
    def param(self) -> str:
        """click's name for the option's value."""
        return self.name.replace("-", "_")

    @property
    def key(self) -> str:
        """The request field: ``--job-queue`` is ``jobQueue``."""
        first, *rest = self.name.split("-")
        return first + "".join(part.capitalize() for part in rest)

    def option(self) -> click.Option:
        names = [f"--{self.name}", *(f"--{alias}" for alias in self.aliases)]
        help_text = self.help or self.kind.value
        if self.kind is Kind.BOOLEAN:
            return click.Option([f"{names[0]}/--no-{self.name}"], default=None, help=help_text)
        if self.kind is Kind.INTEGER:
            return click.Option(names, type=int, help=help_text)
        return click.Option(names, multiple=self.kind.is_list, help=help_text)


@dataclass(frozen=True)
class Verb:
    name: str
    help: str
    flags: tuple[Flag, ...]
    model: type[BaseModel] | None = None  # the spec model that describes the structured flags
    list_key: str | None = None  # paginated: the response's list
    extras: tuple[click.Option, ...] = ()  # kubatch-only options, handed to follow_up
    follow_up: FollowUp | None = None

    @property
    def operation(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("-"))

    @cached_property
    def schema(self) -> Schema:
        return to_structural(self.model.model_json_schema()) if self.model else {}

    def field_schema(self, flag: Flag) -> Schema:
        return flag.schema or (self.schema.get("properties") or {}).get(flag.key) or {}


def _value(verb: Verb, flag: Flag, raw: Any) -> Any:
    hint = f"--{flag.name}"
    if flag.kind.is_list:
        return items(raw, flag=hint, kind=flag.kind, schema=verb.field_schema(flag))
    if flag.kind in (Kind.MAP, Kind.STRUCTURE):
        return structure(raw, flag=hint, schema=verb.field_schema(flag))
    if flag.kind is Kind.STRING:
        return load(raw, flag=hint)
    return raw


def _input_json(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        document = json.loads(load(text, flag="--cli-input-json"))
    except ValueError as error:
        raise click.BadParameter(f"invalid JSON: {error}", param_hint="--cli-input-json") from None
    if not isinstance(document, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--cli-input-json")
    return document


def request_of(verb: Verb, values: dict[str, Any]) -> dict[str, Any]:
    """The AWS request: ``--cli-input-json`` with the flags given on the command line over it."""
    request = _input_json(values.pop("cli_input_json", None))
    for flag in verb.flags:
        raw = values.pop(flag.param, None)
        if raw not in (None, ()):
            request[flag.key] = _value(verb, flag, raw)
    return request


async def call(ctx: Context, verb: Verb, request: dict[str, Any]) -> dict[str, Any]:
    """The verb's response; every page of it unless the request asks for one."""
    response = await invoke(ctx, verb.operation, request)
    if verb.list_key is None or "maxResults" in request or "nextToken" in request:
        return response
    collected = list(response.get(verb.list_key, []))
    while response.get("nextToken"):
        response = await invoke(ctx, verb.operation, {**request, "nextToken": response["nextToken"]})
        collected += response.get(verb.list_key, [])
    return {verb.list_key: collected}


class AwsCommand(click.Command):
    """A click command that reads the AWS CLI's space-separated lists (``--jobs a b c``)."""

    def __init__(self, *args: Any, list_flags: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.list_flags = list_flags

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, expand_lists(args, self.list_flags))


def build(verb: Verb) -> click.Command:
    def callback(**values: Any) -> None:
        settings = Globals.take(values)
        extras = {option.name: values.pop(option.name) for option in verb.extras}
        request = request_of(verb, values)

        async def work(ctx: Context) -> None:
            response = await call(ctx, verb, request)
            if text := render(response, output=settings.output):
                click.echo(text)
            if verb.follow_up is not None:
                await verb.follow_up(ctx, response, extras, settings)

        run(settings, work)

    list_flags = {f"--{name}" for flag in verb.flags if flag.kind.is_list for name in (flag.name, *flag.aliases)}
    params = [flag.option() for flag in verb.flags]
    params.append(click.Option(["--cli-input-json"], help="the request as JSON, or file://path (flags win)"))
    return AwsCommand(verb.name, params=[*params, *verb.extras, *global_options()], callback=callback,
                      help=verb.help, list_flags=list_flags)
