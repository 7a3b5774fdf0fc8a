"""How request bodies are read (its own module: DRF imports it while its views are still loading)."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's, except that JSON nested deeper than Python's recursion limit (``[[[[...]]]]``, a few hundred
    kilobytes) is a 400 like any other malformed body; DRF let the RecursionError through as a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
