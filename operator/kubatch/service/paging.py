"""``maxResults`` / ``nextToken`` pagination over lists the service sorts itself.

Why keyset tokens: the token holds the sort key of the last item returned, not an
offset, so jobs submitted or deleted between two pages neither repeat nor vanish from
the pages still to come. The token is opaque to clients (base64 of JSON).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from kubatch.service.errors import ClientException

T = TypeVar("T")
SortKey = list[Any]


def _encode(key: SortKey) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode(token: str) -> SortKey:
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = None
    if not isinstance(key, list):
        raise ClientException("nextToken: is not a token returned by this operation")
    return key


def page_size(request: Mapping[str, Any], *, limit: int) -> int:
    """The request's maxResults (``limit`` when absent), checked."""
    size = request.get("maxResults")
    if size is None:
        size = limit
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= limit:
        raise ClientException(f"maxResults: must be between 1 and {limit}")
    return size


def token_key(request: Mapping[str, Any]) -> SortKey | None:
    """The sort key the request's nextToken holds (None without one): pages continue strictly after it."""
    token = request.get("nextToken")
    return _decode(token) if token else None


def page(items: Sequence[T], *, request: Mapping[str, Any], key: Callable[[T], SortKey],
         limit: int) -> tuple[list[T], str | None]:
    """The page of ``items`` (sorted by ``key``) the request's maxResults and nextToken ask for, and the next token.

    ``limit`` is the operation's largest page, also used when maxResults is absent.
    """
    size = page_size(request, limit=limit)
    ordered = sorted(items, key=key)
    after = token_key(request)
    if after is not None:
        try:
            ordered = [item for item in ordered if key(item) > after]
        except TypeError:
            raise ClientException("nextToken: is not a token returned by this operation") from None
    chosen = ordered[:size]
    return chosen, (_encode(key(chosen[-1])) if len(ordered) > size else None)
