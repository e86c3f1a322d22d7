"""Events leave after the commit that makes them true (SPEC §8): a client that reads what an
event names, as soon as the event arrives, finds it."""

import threading
import time
from typing import Any

import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, connections

from apps.executions import services, worker
from apps.executions.models import GraphExecution, NodeExecution
from apps.graphs import services as graph_services
from apps.graphs.compile import graph_spec_from_payload
from apps.users.models import User
from tests.dashboard.helpers import make_graph, make_queued_run
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db(transaction=True)

COMMIT_DELAY_SECONDS = 0.5


class RowReadingSubscriber(threading.Thread):
    """Subscribed to every run's group on the channel layer's Redis, as the web process is; on
    the first node event it reads the run and the node execution the event names through a
    database connection of its own."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "asgi")
        self.pubsub = redis.Redis.from_url(settings.REDIS_URL).pubsub()
        self.pubsub.psubscribe(f"{prefix}__group__exec.*")
        self.run_id: str | None = None  # set once the run is created
        self.seen: dict[str, dict[str, bool]] = {}  # by run: rows found at its first node event

    def run(self) -> None:
        try:
            deadline = time.monotonic() + 10
            while not (self.run_id and self.run_id in self.seen) and time.monotonic() < deadline:
                received = self.pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                if received is not None:
                    self._read(received["data"])
        finally:
            self.pubsub.close()
            connections.close_all()

    def _read(self, data: bytes) -> None:
        batch = get_channel_layer().deserialize(data)
        for message in batch["messages"]:
            # Every run's group on this Redis (other tests' and processes' runs too): the first
            # node event of each run is checked, the test looks at its own run's.
            event = message["data"]
            if (
                message["method"] == "node_execution_event"
                and event["graph_exec_id"] not in self.seen
            ):
                self.seen[event["graph_exec_id"]] = {
                    "run": GraphExecution.objects.filter(pk=event["graph_exec_id"]).exists(),
                    "node_execution": NodeExecution.objects.filter(pk=event["id"]).exists(),
                }
                return


@pytest.fixture
def slow_commits() -> Any:
    """Every transaction that writes node executions takes longer to commit (a
    deferred constraint trigger sleeps at commit): a window in which an event sent before the
    commit arrives at a subscriber for certain."""
    if connection.vendor != "postgresql":
        pytest.skip("a deferred trigger that sleeps at commit is PostgreSQL's")
    table = NodeExecution._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS"
            f" $$ BEGIN PERFORM pg_sleep({COMMIT_DELAY_SECONDS}); RETURN NULL; END $$"
        )
        cursor.execute(
            f"CREATE CONSTRAINT TRIGGER test_slow_commit AFTER INSERT ON {table}"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_slow_commit()"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER test_slow_commit ON {table}")
        cursor.execute("DROP FUNCTION test_slow_commit()")


def test_the_entry_nodes_events_leave_after_the_run_is_committed(
    owner: User, slow_commits: None
) -> None:
    payload = echo_graph()
    version = graph_services.graph_create(
        user=owner,
        name=payload["name"],
        spec=graph_spec_from_payload(payload["nodes"], payload["links"]),
    )
    subscriber = RowReadingSubscriber()
    subscriber.start()
    execution = services.graph_execution_start(
        user=owner, graph_id=version.graph_id, inputs={"topic": "x"}, enqueue=False
    )
    subscriber.run_id = str(execution.id)
    subscriber.join(timeout=15)
    assert subscriber.seen.get(str(execution.id)) == {"run": True, "node_execution": True}


def test_a_runs_final_event_leaves_before_its_notification(owner: User) -> None:
    """The client waits for the final event; the run's notification, sent after the same
    commit, follows it."""
    prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "asgi")
    pubsub = redis.Redis.from_url(settings.REDIS_URL).pubsub()
    pubsub.subscribe(f"{prefix}__group__user.{owner.pk}")
    execution = make_queued_run(owner, make_graph(owner, echo_graph()), topic="x")
    pubsub.subscribe(f"{prefix}__group__exec.{execution.pk}")
    try:
        worker.graph_execution_run(graph_exec_id=execution.pk, owner="test:1:1")
        arrived = []
        deadline = time.monotonic() + 10
        while len(arrived) < 2 and time.monotonic() < deadline:
            received = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if received is None:
                continue
            for message in get_channel_layer().deserialize(received["data"])["messages"]:
                method, data = message["method"], message["data"]
                final = method == "graph_execution_event" and data["status"] == "completed"
                if final or method == "notification":
                    arrived.append(method)
    finally:
        pubsub.close()

    assert arrived == ["graph_execution_event", "notification"]
