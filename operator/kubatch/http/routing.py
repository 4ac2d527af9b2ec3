"""Which AWS Batch operation an HTTP request calls, and the request members its URL carries.

Why a table and not aiohttp routes: the operations, their methods and URI templates are
botocore's (``kubatch.http.model``, generated from its Batch service model), so a
request is matched against exactly what AWS clients send. Most operations are
``POST /v1/<operation>`` with a JSON body; the tagging operations put the resource ARN
in the path (percent-encoded, ``/`` included) and UntagResource its tag keys in the
query string, which ``Route.members`` moves into the request dict the service takes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

_LABEL = re.compile(r"\{(?P<name>[A-Za-z0-9_]+)(?P<greedy>\+?)\}")


@dataclass(frozen=True)
class QueryMember:
    """A request member sent in the query string: its name there, and whether it repeats (a list)."""

    name: str
    repeated: bool = False


@dataclass(frozen=True)
class Route:
    """One operation's HTTP binding, as botocore's model gives it."""

    method: str
    uri: str
    labels: Mapping[str, str] = field(default_factory=dict)
    """Request members in the path: ``{member: label name in uri}``."""
    query: Mapping[str, QueryMember] = field(default_factory=dict)
    """Request members in the query string."""

    def pattern(self) -> re.Pattern[str]:
        """A regex for the (still percent-encoded) path, one group per label."""
        path = self.uri.split("?", 1)[0]
        parts, last = [], 0
        for match in _LABEL.finditer(path):
            parts.append(re.escape(path[last:match.start()]))
            parts.append(f"(?P<{match['name']}>{'.+' if match['greedy'] else '[^/]+'})")
            last = match.end()
        parts.append(re.escape(path[last:]))
        return re.compile("^" + "".join(parts) + "/?$")

    def members(self, match: re.Match[str], query: str) -> dict[str, object]:
        """The request members this route's path and query string carry."""
        found: dict[str, object] = {member: unquote(match[label]) for member, label in self.labels.items()}
        pairs = parse_qsl(query, keep_blank_values=True)
        for member, where in self.query.items():
            values = [value for key, value in pairs if key == where.name]
            if values:
                found[member] = values if where.repeated else values[-1]
        return found


class NoRoute(LookupError):
    """No operation is served at this method and path."""


class Router:
    """Finds the operation of a method and raw path among ``routes``."""

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self._table: Sequence[tuple[str, Route, re.Pattern[str]]] = [
            (operation, route, route.pattern()) for operation, route in sorted(routes.items())
        ]

    def resolve(self, method: str, raw_path: str, query: str = "") -> tuple[str, dict[str, object]]:
        """``(operation, members from the URL)``; ``NoRoute`` when nothing matches."""
        for operation, route, pattern in self._table:
            if route.method == method.upper() and (match := pattern.match(raw_path)):
                return operation, route.members(match, query)
        raise NoRoute(f"no AWS Batch operation is served at {method.upper()} {unquote(raw_path)}")
