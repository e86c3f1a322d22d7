"""What running a block costs (SPEC §9): the block's own rules, or the operator's override.

A rule applies when every key of its filter equals the node's input; the first that applies
wins. RUN charges its amount; BYTE its amount per byte of input (as JSON); SECOND its amount for
the first started second before the block runs, and each further started second once it ends.
"""

import json
import math
from collections.abc import Mapping
from functools import cache
from typing import Any

from django.conf import settings

from apps.graphs.blocks.base import Block, BlockCost, CostUnit


@cache
def _overrides(raw: str) -> dict[str, tuple[BlockCost, ...]]:
    return {
        block_id: tuple(
            BlockCost(
                amount=int(rule["amount"]),
                unit=CostUnit(rule.get("unit", "RUN")),
                filter=dict(rule.get("filter") or {}),
            )
            for rule in rules
        )
        for block_id, rules in json.loads(raw).items()
    }


def block_costs(block: Block) -> tuple[BlockCost, ...]:
    overrides = _overrides(json.dumps(settings.BLOCK_COST_OVERRIDES, sort_keys=True))
    return overrides.get(block.id, block.costs)


def block_cost_rule(block: Block, input_data: Mapping[str, Any]) -> BlockCost | None:
    return next((rule for rule in block_costs(block) if rule.matches(input_data)), None)


def block_time_charge(block: Block, input_data: Mapping[str, Any], wall_time: float) -> int:
    """What a SECOND-priced execution owes after it ran, beyond the second paid up front."""
    cost = block_cost_rule(block, input_data)
    if cost is None or cost.unit != CostUnit.SECOND:
        return 0
    return cost.amount * (max(1, math.ceil(wall_time)) - 1)


def block_cost_amount(block: Block, input_data: Mapping[str, Any]) -> int:
    """Credits to charge before `block` runs on `input_data` (0 when it is free)."""
    cost = block_cost_rule(block, input_data)
    if cost is None:
        return 0
    if cost.unit == CostUnit.BYTE:
        size = len(json.dumps(dict(input_data), default=str).encode())
        return cost.amount * size
    return cost.amount
