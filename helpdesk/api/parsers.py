"""How request bodies are read (its own module: DRF imports it while its views are still loading)."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's, except for two bodies that are a 400 like any other malformed one, where DRF's let a 500 through:

    - JSON nested deeper than Python's recursion limit (``[[[[...]]]]``, a few hundred kilobytes): DRF let the
      RecursionError through.
    - A lone surrogate (``"\\ud800"``): JSON's escapes can spell one, but it is no character, and no UTF-8 text
      holds it: not the database's, nor the answer's (an error message that quotes the value, such as a choice
      refused, could not be written).
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        if holds_a_lone_surrogate(data):
            raise ParseError("JSON parse error - a string holds a lone surrogate (\\ud800-\\udfff), not a character.")
        return data


def holds_a_lone_surrogate(data: Any) -> bool:
    """Whether any string in parsed JSON (a key or a value, at any depth) holds a lone surrogate. Iterative, for
    JSON nested as deep as the parser allows."""
    waiting = [data]
    while waiting:
        item = waiting.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode()
                except UnicodeEncodeError:
                    return True
        elif isinstance(item, dict):
            waiting.extend(item.keys())
            waiting.extend(item.values())
        elif isinstance(item, list):
            waiting.extend(item)
    return False
