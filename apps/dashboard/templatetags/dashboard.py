import json
import uuid
from functools import cache
from typing import Any

from django import template
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

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


@cache
def _built(path: str) -> bool:
    return finders.find(path) is not None


@register.simple_tag
def island_script(path: str) -> str:
    """The <script> of a JavaScript island (frontend/<name>, built into static/ by `make
    install`), or nothing when it was not built: the page then works without it."""
    if not _built(path):
        return ""
    return format_html('<script type="module" src="{}"></script>', static(path))


@register.filter
def inputs_summary(inputs: dict[str, Any] | None) -> str:
    """Run inputs as a person reads them: `topic: penguins · count: 3` (JSON for lists and
    objects), or "no inputs"."""
    if not inputs:
        return "no inputs"
    parts = []
    for name, value in inputs.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{name}: {text}")
    return " · ".join(parts)


@register.filter
def as_uuid(value: str | None) -> uuid.UUID | None:
    """A UUID from text in any of its forms (SQLite casts UUID columns to plain hex)."""
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


_NOTIFICATION_PAGES = {
    "agent_run": ("dashboard:run", "execution_id"),
    "block_execution_failed": ("dashboard:run", "execution_id"),
    "continuous_agent_error": ("dashboard:agent", "graph_id"),
    "agent_approved": ("dashboard:submissions", None),
    "agent_rejected": ("dashboard:submissions", None),
    "low_balance": ("dashboard:credits", None),
    "zero_balance": ("dashboard:credits", None),
    "refund_processed": ("dashboard:credits", None),
}


@register.filter
def notification_url(notification: Any) -> str:
    """The page a notification is about (its run, agent, submissions or credits), or ""."""
    url_name, key = _NOTIFICATION_PAGES.get(notification.type, (None, None))
    if url_name is None:
        return ""
    if key is None:
        return reverse(url_name)
    found = as_uuid((notification.data or {}).get(key))
    return reverse(url_name, args=[found]) if found else ""
