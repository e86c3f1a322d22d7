"""Paying fairly (SPEC §17), through a real worker: a node that fails before its block does any
work (no usable credential, an input invalid for its block) is not charged; a node lost to a
fault of the platform is refunded, once, with a REFUND keyed to its charge."""

import json
import uuid
from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from apps.credits import selectors, services
from apps.credits.models import CreditTransaction
from apps.executions import services as run_services
from apps.executions import worker as run_worker
from apps.executions.models import GraphExecution, NodeExecution
from apps.graphs.blocks.library.ai import AITextGeneratorBlock
from apps.graphs.blocks.library.basic import StoreValueBlock
from apps.graphs.blocks.library.files import ReadFileBlock
from apps.graphs.blocks.library.maths import CalculatorBlock
from apps.integrations.models import UploadedFile
from apps.integrations.selectors import STORAGE_ALIAS
from apps.notifications.models import Notification, NotificationType
from apps.users.models import User
from tests.graphs.graphs import echo_graph
from tests.processes import WorkerProcess, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
PRICE = 10


@pytest.fixture(scope="module")
def fair_worker(django_db_setup, django_db_blocker):
    prices = {
        CalculatorBlock.id: [{"amount": PRICE, "unit": "RUN", "filter": {}}],
        StoreValueBlock.id: [{"amount": PRICE, "unit": "RUN", "filter": {}}],
        ReadFileBlock.id: [{"amount": PRICE, "unit": "RUN", "filter": {}}],
    }
    # No platform key for the AI blocks: a node without credentials of its own has none.
    env = {"BLOCK_COST_OVERRIDES": json.dumps(prices), "OPENAI_API_KEY": ""}
    process = WorkerProcess(hostname="fair", env=env).start()
    yield process
    process.stop()


def _run(client: APIClient, payload: dict) -> GraphExecution:
    graph = client.post("/api/graphs", payload, format="json")
    assert graph.status_code == 201, graph.content
    run = client.post(f"/api/graphs/{graph.json()['id']}/execute", {}, format="json").json()
    wait_for(
        lambda: GraphExecution.objects.filter(
            pk=run["id"], status__in=["completed", "failed"]
        ).exists(),
        timeout=30,
        what="the run to end",
    )
    return GraphExecution.objects.get(pk=run["id"])


def _refund_notices_handled(owner: User, count: int) -> None:
    """Each refund tells its owner (a `notify` task the module's worker runs, email and all):
    waited for, so no task of this test is still writing when the next one empties the
    database (a TRUNCATE then deadlocked with the task's transaction)."""
    notices = Notification.objects.filter(user=owner, type=NotificationType.REFUND_PROCESSED)
    wait_for(
        lambda: notices.exclude(email_status=Notification.Email.NONE).count() == count,
        timeout=30,
        what=f"{count} refund notices",
    )


def _node(execution: GraphExecution, key: str) -> NodeExecution:
    return NodeExecution.objects.get(graph_execution=execution, node__key=key)


def test_a_node_failing_for_a_missing_credential_is_not_charged(
    fair_worker, owner: User, owner_client: APIClient
) -> None:
    assert AITextGeneratorBlock.costs  # priced with the platform's key
    before = selectors.credit_balance_get(user_id=owner.pk)
    payload = {
        "name": "No key",
        "nodes": [{"id": "ai", "block_id": AITextGeneratorBlock.id,
                   "input_default": {"prompt": "Say hi"}}],
        "links": [],
    }  # fmt: skip
    execution = _run(owner_client, payload)
    assert execution.status == "completed"
    assert execution.has_errors
    failed = _node(execution, "ai")
    assert failed.status == "failed"
    assert "credentials" in failed.error.lower()
    assert not CreditTransaction.objects.filter(graph_exec_id=execution.pk).exists()
    assert selectors.credit_balance_get(user_id=owner.pk) == before


def test_a_node_given_an_input_invalid_for_its_block_is_not_charged(
    fair_worker, owner: User, owner_client: APIClient
) -> None:
    before = selectors.credit_balance_get(user_id=owner.pk)
    payload = {
        "name": "Bad operand",
        "nodes": [
            {"id": "word", "block_id": StoreValueBlock.id, "input_default": {"input": "otter"}},
            {"id": "sum", "block_id": CalculatorBlock.id, "input_default": {"b": 1}},
        ],
        "links": [{"source_id": "word", "source_name": "output", "sink_id": "sum",
                   "sink_name": "a"}],
    }  # fmt: skip
    execution = _run(owner_client, payload)
    assert _node(execution, "word").status == "completed"
    assert _node(execution, "sum").status == "failed"
    entries = CreditTransaction.objects.filter(graph_exec_id=execution.pk)
    # The Store Value node worked and paid; the calculator never did.
    assert list(entries.values_list("amount", "metadata__node_id")) == [(-PRICE, "word")]
    assert selectors.credit_balance_get(user_id=owner.pk) == before - PRICE


def test_a_node_lost_to_a_platform_fault_is_refunded_once(
    fair_worker, owner: User, owner_client: APIClient
) -> None:
    before = selectors.credit_balance_get(user_id=owner.pk)
    upload = owner_client.post(
        "/api/files/upload",
        {"file": SimpleUploadedFile("notes.txt", b"otters")},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    # The platform loses the file it holds for the user: its row stays, its content is gone.
    row = UploadedFile.objects.get(pk=upload.json()["id"])
    storages[STORAGE_ALIAS].delete(row.storage_name)
    payload = {
        "name": "Lost file",
        "nodes": [{"id": "read", "block_id": ReadFileBlock.id,
                   "input_default": {"file": upload.json()["reference"]}}],
        "links": [],
    }  # fmt: skip
    execution = _run(owner_client, payload)
    node = _node(execution, "read")
    assert node.status == "failed"
    assert node.error.startswith("PlatformFault")
    assert node.stats["platform_fault"] is True
    assert node.stats["refunded"] == PRICE
    [charge] = CreditTransaction.objects.filter(graph_exec_id=execution.pk, type="USAGE")
    assert (charge.transaction_key, charge.amount) == (f"node:{node.pk}", -PRICE)
    [refund] = CreditTransaction.objects.filter(graph_exec_id=execution.pk, type="REFUND")
    assert (refund.transaction_key, refund.amount) == (f"refund:{charge.pk}", PRICE)
    assert refund.metadata["refund_of"] == str(charge.pk)
    assert selectors.credit_balance_get(user_id=owner.pk) == before
    assert execution.stats["cost"] == 0
    # A retried refund (a finish run again) finds it made: no second entry.
    again = services.credit_refund_charges(user_id=owner.pk, key=f"node:{node.pk}")
    assert [entry.pk for entry in again] == [refund.pk]
    assert CreditTransaction.objects.filter(graph_exec_id=execution.pk).count() == 2
    assert selectors.credit_balance_get(user_id=owner.pk) == before
    _refund_notices_handled(owner, 1)


def test_a_blocks_own_failure_is_not_refunded(
    fair_worker, owner: User, owner_client: APIClient
) -> None:
    payload = {
        "name": "No such file",
        "nodes": [{"id": "read", "block_id": ReadFileBlock.id,
                   "input_default": {"file": "file:00000000-0000-0000-0000-000000000000"}}],
        "links": [],
    }  # fmt: skip
    execution = _run(owner_client, payload)
    node = _node(execution, "read")
    assert node.status == "failed"
    assert "platform_fault" not in node.stats
    types = CreditTransaction.objects.filter(graph_exec_id=execution.pk).values_list("type")
    assert list(types) == [("USAGE",)]


def test_a_run_given_up_refunds_what_its_unfinished_nodes_paid(
    fair_worker, owner: User, owner_client: APIClient
) -> None:
    """SPEC §17: a run given up after its attempts (its workers kept dying) gives back what its
    node executions that never finished paid, once; what finished stays paid."""
    graph = owner_client.post("/api/graphs", echo_graph(), format="json").json()
    run = run_services.graph_execution_start(
        user=owner, graph_id=graph["id"], inputs={"topic": "x"}, enqueue=False
    )
    lost = NodeExecution.objects.get(graph_execution=run)  # the entry node's, now running
    NodeExecution.objects.filter(pk=lost.pk).update(status="running")
    done = NodeExecution.objects.create(
        graph_execution=run, node=lost.node, sequence=1, status="completed"
    )
    never_written = uuid.uuid4()  # charged, then its worker died before the row was committed
    before = selectors.credit_balance_get(user_id=owner.pk)
    for key in (
        f"node:{done.pk}",
        f"node:{lost.pk}",
        f"node:{lost.pk}:call-2",
        f"node:{never_written}",
    ):
        services.credit_apply(
            user_id=owner.pk, amount=-PRICE, type="USAGE", transaction_key=key,
            graph_exec_id=run.pk, description="test charge",
        )  # fmt: skip
    GraphExecution.objects.filter(pk=run.pk).update(
        status="running",
        attempts=3,
        lease_owner="gone-host:1",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert run_worker.execution_watchdog()["failed"] == 1
    refunds = CreditTransaction.objects.filter(graph_exec_id=run.pk, type="REFUND")
    assert refunds.count() == 3
    assert selectors.credit_balance_get(user_id=owner.pk) == before - PRICE  # `done` stays paid
    assert NodeExecution.objects.get(pk=lost.pk).status == "cancelled"
    run_worker.execution_watchdog()  # the run is over: nothing more is refunded
    assert CreditTransaction.objects.filter(graph_exec_id=run.pk, type="REFUND").count() == 3
    _refund_notices_handled(owner, 3)
