"""The API's request parser: JSON, refused with a 400 when it cannot be used, never a 500.

DRF's ``JSONParser`` turns malformed JSON into a 400 but lets ``RecursionError`` through: a body
such as ``[[[[...]]]]`` nested a few thousand levels deep made every POST answer an HTML 500.
Every request body of this API is a flat object, so ``JSONParser`` here also refuses anything
nested deeper than ``MAX_DEPTH`` (``code: "parse_error"``), which keeps deep structures away from
everything that walks the data afterwards (serializers, the idempotency fingerprint).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

__all__ = ["MAX_DEPTH", "JSONParser", "nesting_depth"]

#: The deepest nesting a request body may have (an object holding a list is 2).
MAX_DEPTH = 32

TOO_DEEP = _("JSON parse error: the body is nested too deeply.")


def nesting_depth(data: Any, *, limit: int = MAX_DEPTH) -> int:
    """How deeply ``data`` nests lists and dicts, counted without recursion and only up to
    ``limit + 1`` (a deeper body is refused whatever its real depth)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


class JSONParser(parsers.JSONParser):
    """DRF's ``JSONParser``, answering 400 for a body nested too deeply."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(TOO_DEEP) from error
        if nesting_depth(data) > MAX_DEPTH:
            raise ParseError(TOO_DEEP)
        return data
