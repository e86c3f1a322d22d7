import uuid
from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if mapping else None


@register.filter
def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


@register.filter
def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


@register.filter
def run_seconds(run: Any) -> float | None:
    if run.started_at and run.ended_at:
        return (run.ended_at - run.started_at).total_seconds()
    return None


@register.filter
def as_uuid(value: str | None) -> uuid.UUID | None:
    """A UUID from text in any of its forms (SQLite casts UUID columns to plain hex)."""
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
