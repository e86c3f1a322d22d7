"""Limits for JSON documents (SPEC §12): nesting depth, total container items, integers of at
most 64 bits, and text the database can store."""

import re
from collections.abc import Iterable
from typing import Any

from apps.common.exceptions import ValidationFailed
from apps.common.numbers import INT64_MAX, INT64_MIN, in_int64

# NUL, which PostgreSQL text and jsonb cannot hold, and halves of surrogate pairs, which UTF-8
# cannot encode (json.loads joins a "\ud83d\ude00" pair into one character; a lone half stays).
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """JSON data (or text) with each NUL and surrogate half in its strings replaced by U+FFFD:
    for what blocks produce, which must be kept even where it cannot be stored as it is."""
    if isinstance(value, str):
        return UNSTORABLE_TEXT.sub("\ufffd", value)
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    return value


def _check_text(text: str, what: str) -> None:
    if UNSTORABLE_TEXT.search(text):
        raise ValidationFailed(
            f"{what} holds text that cannot be stored: a NUL character (\\u0000) or half of a"
            " surrogate pair (\\ud800-\\udfff)."
        )


def check_json_limits(value: Any, *, max_depth: int, max_items: int, what: str = "JSON") -> None:
    """Raise ValidationFailed when `value` nests deeper than max_depth, holds more items, an
    integer beyond 64 bits, or a string (a key or a value) the database cannot store.

    Iterative, so a hostile document cannot exhaust the Python stack.
    """
    items = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
            for key in node:
                if isinstance(key, str):
                    _check_text(key, what)
        elif isinstance(node, list):
            children = node
        elif isinstance(node, str):
            _check_text(node, what)
            continue
        elif isinstance(node, int) and not in_int64(node):
            # Events travel as msgpack and counts as bigint: neither carries more than 64 bits.
            raise ValidationFailed(
                f"{what} holds an integer outside the 64-bit range ({INT64_MIN} to {INT64_MAX}).",
                details={"min_integer": INT64_MIN, "max_integer": INT64_MAX},
            )
        else:
            continue
        if depth > max_depth:
            raise ValidationFailed(
                f"{what} is nested too deeply (more than {max_depth} levels).",
                details={"max_depth": max_depth},
            )
        items += len(node)
        if items > max_items:
            raise ValidationFailed(
                f"{what} holds too many items (more than {max_items}).",
                details={"max_items": max_items},
            )
        stack.extend((child, depth + 1) for child in children)
