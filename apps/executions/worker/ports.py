"""The Django side of the engine's ports for one run: the credentials each node uses, its
charges, the blocks' contexts and the stop flag. Objects, not closures: what they hold is the
run's, in plain sight."""

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, cast

from django.db import DatabaseError
from redis.exceptions import RedisError

from apps.common.exceptions import BudgetExceeded, InsufficientCredits
from apps.common.redis import get_redis
from apps.credits.services import Budget, credit_refund_charges
from apps.executions.engine import EngineNode, NodeExecutionRecord
from apps.executions.engine.types import BUDGET_EXCEEDED, INSUFFICIENT_CREDITS, BlockRun, Status
from apps.executions.models import GraphExecution
from apps.executions.reviews import DatabaseReviewDesk
from apps.executions.runtime import CANCEL_KEY, charge_usage
from apps.graphs.runnable import (
    Block,
    BlockInputError,
    CancelToken,
    ChargeRefused,
    Credentials,
    PlatformFault,
    block_context_build,
    block_cost_amount,
    block_credentials,
    block_time_charge,
    uses_own_credentials,
)
from apps.users.models import User

# Redis is asked about a stop at most this often per run, not on every engine step.
CANCEL_POLL_SECONDS = 0.1


def _block(node: EngineNode) -> Block:
    """The node's block: the engine knows it as a Runnable; compiled graphs hold Blocks."""
    return cast(Block, node.block)


class RunCredentials:
    """The credentials each node of a run uses, resolved once per node so that the charge (none
    with the user's own key) and the block's context agree. Used from the engine's coordinator
    thread only."""

    def __init__(
        self,
        *,
        user_id: uuid.UUID | str,
        selection: Mapping[str, Any],
        node_choices: Mapping[str, str] | None = None,
    ) -> None:
        self.user_id, self.selection = user_id, dict(selection or {})
        # The credential saved on a node (its metadata) applies unless the run picks another.
        self.node_choices = dict(node_choices or {})
        self._by_node: dict[str, Credentials] = {}

    def for_node(self, node: EngineNode) -> Credentials:
        if node.id not in self._by_node:
            selection = self.selection
            saved = self.node_choices.get(node.id)
            if saved and node.id not in selection:
                selection = {**selection, node.id: saved}
            self._by_node[node.id] = block_credentials(
                user_id=self.user_id, block=_block(node), selection=selection, node_id=node.id
            )
        return self._by_node[node.id]


class RunBudgets:
    """The caps on a run's spend (SPEC §17): its own `max_credits` and those of the runs it is a
    sub-agent of, each over the capped run and every sub-agent run below it (read at each
    charge: sub-agents start as the run goes)."""

    def __init__(self, execution: GraphExecution) -> None:
        self.capped: list[tuple[uuid.UUID, int]] = []
        run: GraphExecution | None = execution
        while run is not None:
            if run.max_credits is not None:
                self.capped.append((run.pk, run.max_credits))
            run = run.parent if run.parent_id else None

    def current(self) -> list[Budget]:
        return [Budget(max_credits=cap, runs=_run_tree(root)) for root, cap in self.capped]


def _run_tree(root: uuid.UUID) -> list[uuid.UUID]:
    """A run and every sub-agent run below it."""
    runs, frontier = [root], [root]
    while frontier:
        frontier = list(
            GraphExecution.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        runs.extend(frontier)
    return runs


def fails_before_work(block: Block, data: Mapping[str, Any], credentials: Credentials) -> bool:
    """Whether the block will fail before doing any work (SPEC §17, no charge without work):
    its input is invalid for it, or it needs a provider's credentials and has none it can use
    (the block then fails with the reason itself)."""
    try:
        block.parse_input(data)
    except BlockInputError:
        return True
    if block.credentials_provider is None:
        return False
    selected = credentials.get(block.credentials_provider)
    return selected is None or bool(selected.error)


def is_platform_fault(exc: BaseException) -> bool:
    """The engine's `is_platform_fault`: a block stopped by the platform's own services (the
    database, Redis, the file store: blocks.context.PlatformFault), not by its own logic or its
    provider (those fail on `error` with a FailureKind, or raise their own errors)."""
    return isinstance(exc, PlatformFault | DatabaseError | RedisError)


def _refusal(exc: InsufficientCredits | BudgetExceeded) -> str:
    code = BUDGET_EXCEEDED if isinstance(exc, BudgetExceeded) else INSUFFICIENT_CREDITS
    return f"{code}: {exc.message}"


class Charges:
    """The engine's credits ports (SPEC §9) for one run. `charge`: a node execution pays its
    block cost before it runs, as a USAGE entry keyed by the node execution id, so a resumed or
    redelivered run never pays twice; a refusal fails the node with INSUFFICIENT_CREDITS; a node
    that calls its provider with the user's own credentials pays no block cost, nor one that
    will fail before any work (`fails_before_work`: invalid input, no usable credential).
    `settle`: a SECOND-priced node pays its further seconds once it ended (key
    `node:<id>:time`); what the balance cannot cover is taken as far as it goes and the run
    stops dispatching. A charge that would pass the run's budget (RunBudgets) is refused alike
    with BUDGET_EXCEEDED. A node lost to a platform fault is refunded instead (`refund`)."""

    def __init__(
        self, *, execution: GraphExecution, graph_name: str, credentials: RunCredentials
    ) -> None:
        self.execution, self.graph_name, self.credentials = execution, graph_name, credentials
        self.budgets = RunBudgets(execution)

    def usage(self, node: EngineNode, *, amount: int, key: str) -> None:
        charge_usage(
            user_id=self.execution.user_id,
            amount=amount,
            key=key,
            description=self.graph_name,
            graph_exec_id=self.execution.id,
            metadata={"node_id": node.id, "block": node.block.name},
            budgets=self.budgets.current(),
        )

    def charge(
        self, node: EngineNode, record: NodeExecutionRecord, data: Mapping[str, Any]
    ) -> str | None:
        block, credentials = _block(node), self.credentials.for_node(node)
        amount = block_cost_amount(block, data)
        if amount <= 0 or uses_own_credentials(credentials):
            return None
        if fails_before_work(block, data, credentials):
            return None
        try:
            self.usage(node, amount=amount, key=f"node:{record.id}")
        except (InsufficientCredits, BudgetExceeded) as exc:
            return _refusal(exc)
        return None

    def settle(self, node: EngineNode, record: NodeExecutionRecord) -> str | None:
        if record.status == Status.FAILED and record.stats.get("platform_fault"):
            self.refund(record)
            return None
        owed = block_time_charge(_block(node), record.input_data, record.stats.get("wall_time", 0))
        if owed <= 0:
            return None
        key = f"node:{record.id}:time"
        try:
            self.usage(node, amount=owed, key=key)
        except (InsufficientCredits, BudgetExceeded) as exc:
            # The work is done: what the balance or the budget still allows is taken.
            room = self.room(exc)
            if room > 0:
                self.settle_part(node, amount=room, key=key)
            return _refusal(exc)
        return None

    def refund(self, record: NodeExecutionRecord) -> None:
        """SPEC §17: what the node paid comes back as REFUND entries keyed to its charges
        (`refund:<charge id>`): once, however often this is called."""
        refunds = credit_refund_charges(user_id=self.execution.user_id, key=f"node:{record.id}")
        if refunds:
            record.stats["refunded"] = sum(entry.amount for entry in refunds)

    @staticmethod
    def room(exc: InsufficientCredits | BudgetExceeded) -> int:
        if isinstance(exc, BudgetExceeded):
            return int(exc.details["max_credits"] - exc.details["spent_credits"])
        return int(exc.details["available_credits"])

    def settle_part(self, node: EngineNode, *, amount: int, key: str) -> None:
        """As much of a time charge as there is room for; less room by now is another try."""
        try:
            self.usage(node, amount=amount, key=key)
        except (InsufficientCredits, BudgetExceeded) as exc:
            room = self.room(exc)
            if 0 < room < amount:
                self.settle_part(node, amount=room, key=key)


class NodeMeter:
    """The Meter of one node execution (blocks.context.Meter): a further model call of an AI
    Agent pays the node's block cost again, keyed `node:<id>:<key>` so that a resumed run never
    pays a call twice; nothing with the user's own credentials."""

    def __init__(
        self, *, charges: Charges, node: EngineNode, record: NodeExecutionRecord, own: bool
    ) -> None:
        self.charges, self.node, self.record, self.own = charges, node, record, own

    def charge_again(self, key: str) -> None:
        amount = block_cost_amount(_block(self.node), self.record.input_data)
        if amount <= 0 or self.own:
            return
        try:
            self.charges.usage(self.node, amount=amount, key=f"node:{self.record.id}:{key}")
        except (InsufficientCredits, BudgetExceeded) as exc:
            raise ChargeRefused(_refusal(exc)) from None


class BlockRuns:
    """The engine's `block_run` port: a block's context for one node execution (credentials,
    meter, review desk, the sub-agents port, tools) and the means to stop it."""

    def __init__(
        self,
        *,
        user: User,
        execution: GraphExecution,
        charges: Charges,
        agents: Callable[[CancelToken], Any],
    ) -> None:
        self.user, self.execution, self.charges, self.agents = user, execution, charges, agents

    def __call__(
        self, node: EngineNode, record: NodeExecutionRecord, tools: Any = None
    ) -> BlockRun:
        token = CancelToken()
        selected = self.charges.credentials.for_node(node)
        desk = (
            DatabaseReviewDesk(execution=self.execution, node_id=node.id, node_exec_id=record.id)
            if _block(node).pauses
            else None
        )
        meter = NodeMeter(
            charges=self.charges, node=node, record=record, own=uses_own_credentials(selected)
        )
        context = block_context_build(
            user=self.user,
            graph_id=str(self.execution.graph_id),
            graph_version=self.execution.graph_version,
            graph_exec_id=str(self.execution.id),
            node_id=node.id,
            node_exec_id=record.id,
            cancel=token,
            agents=self.agents(token),
            credentials=selected,
            tools=tools,
            meter=meter,
            review=desk,
        )
        # SPEC §16: a run records which credential each node used (its id), never the secret.
        for used in context.credentials.values():
            if not used.error:
                context.stats["credential_id"] = used.id or "platform"
        return BlockRun(
            context=context,
            cancel=token.cancel,
            stats=lambda: dict(context.stats),
            suspended=lambda: desk is not None and desk.suspended,
        )


class CancelPoller:
    """The engine's `is_cancelled`: the run's Redis flag (any worker may have set it), or the
    parent's stop for a sub-agent run; Redis is asked at most every CANCEL_POLL_SECONDS."""

    def __init__(self, graph_exec_id: uuid.UUID, parent_cancel: CancelToken | None) -> None:
        self.key = CANCEL_KEY.format(graph_exec_id)
        self.parent_cancel = parent_cancel
        self.checked = 0.0
        self.cancelled = False

    def __call__(self) -> bool:
        if self.parent_cancel is not None and self.parent_cancel.is_cancelled:
            return True
        now = time.monotonic()
        if not self.cancelled and now - self.checked >= CANCEL_POLL_SECONDS:
            self.checked = now
            self.cancelled = bool(get_redis().exists(self.key))
        return self.cancelled
