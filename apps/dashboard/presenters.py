"""Plain functions that shape rows for templates: block names, node statuses, the timeline,
truncated values and the usage chart. No queries here."""

import datetime
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from apps.graphs.blocks.registry import get_block
from apps.graphs.spec import GraphSpec
from apps.integrations.providers import PROVIDERS

MAX_VALUE_CHARS = 2000
CHART_WIDTH = 640
CHART_HEIGHT = 180
CHART_PAD = 28


def block_names_of(spec: GraphSpec) -> dict[str, str]:
    """Node key → its block's name (the block id when the block is unknown)."""
    return {
        node.key: (block.name if (block := get_block(node.block_id)) else node.block_id)
        for node in spec.nodes
    }


def credential_providers_of(spec: GraphSpec) -> list[str]:
    """The providers whose credentials the graph's blocks use, sorted."""
    providers = {
        block.credentials_provider
        for node in spec.nodes
        if (block := get_block(node.block_id)) and block.credentials_provider
    }
    return sorted(providers)


def provider_title(name: str) -> str:
    """A provider as people know it ("OpenAI-compatible API"), not its code name."""
    provider = PROVIDERS.get(name)
    return provider.title if provider else name


# How a node with several executions is shown: the first status present in this order wins,
# so a node still working shows as working and a failure is never hidden by a later success.
_NODE_STATUS_ORDER = ("running", "review", "queued", "incomplete", "failed", "timeout", "cancelled")


def node_status(statuses: Iterable[str]) -> str:
    seen = set(statuses)
    for status in _NODE_STATUS_ORDER:
        if status in seen:
            return status
    return "completed" if seen else "idle"


def node_statuses(node_executions: Sequence[Any]) -> dict[str, str]:
    by_node: dict[str, list[str]] = {}
    for node_execution in node_executions:
        by_node.setdefault(node_execution.node.key, []).append(node_execution.status)
    return {key: node_status(statuses) for key, statuses in by_node.items()}


def shown_value(value: Any, limit: int = MAX_VALUE_CHARS) -> dict[str, Any]:
    """A value as indented JSON, cut at `limit` characters with the cut size stated."""
    text = value if isinstance(value, str) else json.dumps(value, indent=2, default=str)
    if len(text) <= limit:
        return {"text": text, "cut": 0}
    return {"text": text[:limit], "cut": len(text) - limit}


@dataclass(frozen=True)
class TimelineRow:
    id: str
    node_key: str
    block_name: str
    status: str
    sequence: int
    seconds: float | None
    offset_pct: float
    width_pct: float
    inputs: list[tuple[str, dict[str, Any]]]
    outputs: list[tuple[str, dict[str, Any]]]
    error: str
    reused: bool  # taken as it was from the run this one retries (SPEC §17): not run here


def _reused(ne: Any) -> bool:
    return bool(isinstance(ne.stats, dict) and ne.stats.get("reused_from"))


def timeline(
    node_executions: Sequence[Any], block_names: dict[str, str], now: datetime.datetime
) -> list[TimelineRow]:
    """Rows in sequence order with bars placed on the run's span so far (percent of its
    length); a node still running reaches `now`. An execution a retry reused ran in the run
    before: it has no bar here."""

    def start_of(ne: Any) -> datetime.datetime | None:
        return None if _reused(ne) else ne.started_at or ne.queued_at

    def end_of(ne: Any) -> datetime.datetime | None:
        return None if _reused(ne) else ne.ended_at or (now if ne.started_at else None)

    starts = [moment for ne in node_executions if (moment := start_of(ne))]
    ends = [moment for ne in node_executions if (moment := end_of(ne))]
    origin = min(starts, default=None)
    span = (max(ends) - origin).total_seconds() if origin and ends else 0.0
    rows = []
    for ne in node_executions:
        start, end = start_of(ne), end_of(ne)
        offset = (start - origin).total_seconds() if start and origin else 0.0
        length = (end - ne.started_at).total_seconds() if end and ne.started_at else 0.0
        rows.append(
            TimelineRow(
                id=str(ne.id),
                node_key=ne.node.key,
                block_name=block_names.get(ne.node.key, ne.node.block_id),
                status=ne.status,
                sequence=ne.sequence,
                seconds=length if ne.ended_at and ne.started_at else None,
                offset_pct=round(100 * offset / span, 2) if span else 0.0,
                width_pct=max(round(100 * length / span, 2), 1.0) if span else 100.0,
                inputs=[(pin, shown_value(value)) for pin, value in ne.input_data.items()],
                outputs=[(o.pin, shown_value(o.value)) for o in ne.outputs.all()],
                error=ne.error,
                reused=_reused(ne),
            )
        )
    return rows


@dataclass(frozen=True)
class UsageChart:
    points: str
    area: str
    bars: list[dict[str, Any]]
    peak: int
    total: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT


def usage_chart(days: Sequence[tuple[Any, int]]) -> UsageChart:
    """A line over daily usage for an inline SVG; `bars` are hover targets with their labels."""
    peak = max((amount for _, amount in days), default=0)
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    step = inner_w / max(len(days) - 1, 1)
    coords = []
    bars = []
    for index, (day, amount) in enumerate(days):
        x = CHART_PAD + index * step
        y = CHART_PAD + inner_h - (inner_h * amount / peak if peak else 0)
        coords.append(f"{x:.1f},{y:.1f}")
        bars.append(
            {"x": round(x - step / 2, 1), "w": round(step, 1), "day": day, "amount": amount}
        )
    base = CHART_PAD + inner_h
    area = (
        f"{CHART_PAD:.1f},{base:.1f} " + " ".join(coords) + f" {CHART_PAD + inner_w:.1f},{base:.1f}"
        if coords
        else ""
    )
    return UsageChart(
        points=" ".join(coords),
        area=area,
        bars=bars,
        peak=peak,
        total=sum(amount for _, amount in days),
    )


# --- the block catalogue ----------------------------------------------------------------------


@dataclass(frozen=True)
class PinRow:
    name: str
    kind: str
    description: str
    required: bool = False
    secret: bool = False
    advanced: bool = False


def _pin_kind(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """A pin's JSON Schema type as a person reads it: `text`, `list of number`, `one of a, b`."""
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/"):
        schema = {**defs.get(ref.removeprefix("#/$defs/"), {}), **schema}
    if "enum" in schema:
        return "one of " + ", ".join(str(value) for value in schema["enum"])
    options = [option for option in schema.get("anyOf", []) if option.get("type") != "null"]
    if options:
        kinds = list(dict.fromkeys(_pin_kind(option, defs) for option in options))
        if set(kinds) == {"whole number", "number"}:
            return "number"
        return " or ".join(kinds)
    names = {"string": "text", "integer": "whole number", "number": "number", "boolean": "yes/no"}
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items") or {}
        return f"list of {_pin_kind(items, defs)}" if items else "list"
    if kind == "object":
        return "object"
    return names.get(kind, "any value") if isinstance(kind, str) else "any value"


def pin_rows(schema: dict[str, Any]) -> list[PinRow]:
    required = set(schema.get("required", []))
    defs = schema.get("$defs", {})
    return [
        PinRow(
            name=name,
            kind=_pin_kind(pin, defs),
            description=pin.get("description", ""),
            required=name in required,
            secret=bool(pin.get("secret")),
            advanced=bool(pin.get("advanced")),
        )
        for name, pin in schema.get("properties", {}).items()
    ]


def cost_text(costs: Iterable[Any]) -> str:
    """A block's cost rules in words: `free`, `3 credits a run`, `1 credit a second when model is
    gpt-4o; 5 credits a run`."""
    per = {"RUN": "a run", "SECOND": "a second", "BYTE": "a byte of input"}
    parts = []
    for cost in costs:
        text = f"{cost.amount} credit{'' if cost.amount == 1 else 's'} {per[cost.unit.value]}"
        if cost.filter:
            text += " when " + ", ".join(f"{k} is {v}" for k, v in cost.filter.items())
        parts.append(text)
    return "; ".join(parts) or "free"
