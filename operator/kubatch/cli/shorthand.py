"""The AWS CLI's shorthand syntax for structured flags: ``size=100``, ``a=b,c=d``, ``k=[x,y]``, ``k={a=1}``.

Why our own parser: the AWS CLI's lives inside awscli, which is not a dependency.
The grammar is the AWS CLI's documented one::

    keyvals  = keyval *("," keyval)
    keyval   = key "=" [values]
    values   = "[" [value *("," value)] "]" / "{" keyvals "}" / scalar *("," scalar)
    scalar   = 'single quoted' / "double quoted" / unquoted text

``a=x,y`` makes ``a`` the list ``["x", "y"]``: after a comma, text that is not followed
by ``key=`` continues the list. Scalars stay strings; the caller converts them with
the target model (``"100"`` becomes 100 where an integer is expected).
"""

from __future__ import annotations

import re
from typing import Any

_KEY = re.compile(r"\s*([A-Za-z0-9_.#/:-]+)\s*=")


class ShorthandError(ValueError):
    """The text is not valid shorthand; the message says where."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> ShorthandError:
        return ShorthandError(f"{what} at position {self.pos} of {self.text!r}")

    def peek(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.pos += 1

    def keyvals(self, closing: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while True:
            match = _KEY.match(self.text, self.pos)
            if match is None:
                raise self.fail("expected key=value")
            self.pos = match.end()
            result[match.group(1)] = self.values(closing)
            if self.peek() != ",":
                break
            self.pos += 1
        if self.peek() != closing:
            raise self.fail(f"expected {closing!r}" if closing else "unexpected text")
        return result

    def values(self, closing: str) -> Any:
        char = self.peek()
        if char == "[":
            return self.explicit_list()
        if char == "{":
            return self.hash()
        items = [self.scalar(",]}" if closing else ",")]
        while self.peek() == "," and self.pos + 1 < len(self.text) and not _KEY.match(self.text, self.pos + 1):
            self.pos += 1
            items.append(self.scalar(",]}" if closing else ","))
        return items[0] if len(items) == 1 else items

    def hash(self) -> dict[str, Any]:
        self.expect("{")
        result = self.keyvals("}")
        self.expect("}")
        return result

    def explicit_list(self) -> list[Any]:
        self.expect("[")
        items: list[Any] = []
        while self.peek() != "]":
            char = self.peek()
            items.append(self.hash() if char == "{" else self.explicit_list() if char == "[" else self.scalar(",]"))
            if self.peek() != ",":
                break
            self.pos += 1
        self.expect("]")
        return items

    def scalar(self, stops: str) -> str:
        char = self.peek()
        if char in ("'", '"'):
            end = self.text.find(char, self.pos + 1)
            if end < 0:
                raise self.fail("unterminated quote")
            value, self.pos = self.text[self.pos + 1:end], end + 1
            return value
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in stops:
            self.pos += 1
        return self.text[start:self.pos].strip()


def parse_shorthand(text: str) -> dict[str, Any]:
    """The structure ``text`` (AWS shorthand) describes."""
    return _Parser(text).keyvals("")


def parse_item(text: str) -> Any:
    """One element of a list flag: a structure (``a=1,b=2``) or a plain value (``x``)."""
    return parse_shorthand(text) if _KEY.match(text) else text
