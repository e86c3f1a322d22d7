"""Shape limits for JSON documents (SPEC §12): nesting depth and total container items."""

from typing import Any

from apps.common.exceptions import ValidationFailed


def check_json_limits(value: Any, *, max_depth: int, max_items: int, what: str = "JSON") -> None:
    """Raise ValidationFailed when `value` nests deeper than max_depth or holds more items.

    Iterative, so a hostile document cannot exhaust the Python stack.
    """
    items = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
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
