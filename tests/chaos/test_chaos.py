"""The chaos suite (`make chaos`; a bounded run in `.ci/run`): real web, workers, beat and a
Redis of the test's own, under a load of multi-node runs whose side-effecting node calls a
counting HTTP server. Each phase starts CHAOS_RUNS runs, lets a quarter finish, then kills a
worker (SIGKILL), or the Redis server, or the test database's PostgreSQL backends, and then
asserts: every run terminal and none stuck, no node completed twice and no side effect of a
node that had completed repeated, the ledger equal to the charges expected, and every
WebSocket client holding every run's final event. The counts are printed (run with -s).
"""

import json
import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import connection

from apps.credits.models import CreditTransaction
from apps.credits.services import credit_grant
from apps.executions.models import GraphExecution, NodeExecution
from apps.graphs.blocks.library.basic import StoreValueBlock
from apps.users.models import APIKey, User
from apps.users.services import api_key_create
from tests.chaos.platform import (
    TERMINAL,
    CountingServer,
    OwnRedis,
    SocketClient,
    beat,
    manage,
    web,
    worker,
)
from tests.graphs.graphs import DELAY, INPUT, OUTPUT, STORE, WEB_REQUEST, link, node
from tests.processes import free_port, wait_for

RUNS = int(os.environ.get("CHAOS_RUNS", "0"))
DEADLINE = float(os.environ.get("CHAOS_DEADLINE_SECONDS", "120"))
CLIENTS = 3
PRICE = 3  # credits per Store Value execution (BLOCK_COST_OVERRIDES)

pytestmark = [
    pytest.mark.skipif(not RUNS, reason="the chaos suite runs with `make chaos` (CHAOS_RUNS)"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


def _graph(count_url: str) -> dict:
    """in → store (priced) → side (POSTs the run's topic to the counter) → wait → out."""
    return {
        "name": "Chaos",
        "nodes": [
            node("in", INPUT, name="topic"),
            node("store", STORE),
            node("side", WEB_REQUEST, url=count_url, method="POST"),
            node("wait", DELAY, seconds=0.3),
            node("out", OUTPUT, name="answer"),
        ],
        "links": [
            link("in", "result", "store", "input"),
            link("store", "output", "side", "body"),
            link("side", "response", "wait", "data"),
            link("wait", "output", "out", "value"),
        ],
    }


class Chaos:
    def __init__(self, tmp_path, owner: User) -> None:
        self.tmp_path = tmp_path
        self.redis = OwnRedis(tmp_path).start()
        self.counter = CountingServer().start()
        self.env = {
            "REDIS_URL": self.redis.url,
            "CELERY_BROKER_URL": os.environ.get("CHAOS_BROKER_URL", ""),  # "": the Redis above
            "EXECUTION_LEASE_SECONDS": "3",
            "WATCHDOG_INTERVAL_SECONDS": "5",
            "WATCHDOG_QUEUED_SECONDS": "5",
            "EXECUTION_MAX_RUNNING_PER_GRAPH": "1000",
            "RATE_LIMIT_USER": "1000000/minute",
            "BLOCK_COST_OVERRIDES": json.dumps(
                {StoreValueBlock.id: [{"amount": PRICE, "unit": "RUN", "filter": {}}]}
            ),
        }
        manage("sync_housekeeping", env=self.env)  # beat's watchdog every 5 s
        port = free_port()
        self.web = web(self.env, port).start()
        self.url, self.ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
        self.beat = beat(self.env, tmp_path).start()
        self.workers = [worker(self.env, "chaos-a"), worker(self.env, "chaos-b")]
        credit_grant(user_id=owner.pk, amount=10**7, reason="chaos", granted_by="chaos")
        _, key = api_key_create(
            user=owner, name="chaos", permissions=[p.value for p in APIKey.Permission]
        )
        self.http = httpx.Client(
            base_url=self.url,
            headers={"X-API-Key": key},
            timeout=30,
            # Idle connections are dropped before uvicorn's keep-alive timeout (5 s) closes them:
            # a phase waits about that long between its last request and the next phase's first,
            # and a request sent on a connection the server is closing gets no answer.
            limits=httpx.Limits(keepalive_expiry=2),
        )
        wait_for(self._web_up, timeout=60, what="the chaos web process")
        self.graph_id = self.http.post("/api/graphs", json=_graph(self.counter.url)).json()["id"]
        self.clients = [
            SocketClient(self.ws_url, key, self.graph_id).start() for _ in range(CLIENTS)
        ]

    def _web_up(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        for client in getattr(self, "clients", []):
            client.stop()
        for process in [*self.workers, self.beat, self.web]:
            process.stop()
        self.redis.stop()
        self.counter.stop()

    # --- one phase ------------------------------------------------------------------------

    def _start(self, topic: str) -> str:
        path = f"/api/graphs/{self.graph_id}/execute"
        response = self.http.post(path, json={"inputs": {"topic": topic}})
        assert response.status_code == 200, response.text
        return response.json()["id"]

    def phase(self, name: str, fault) -> dict[str, object]:
        topics = [f"{name}-{n}" for n in range(RUNS)]
        with ThreadPoolExecutor(4) as pool:
            runs = dict(zip(pool.map(self._start, topics), topics, strict=True))
        ids = list(runs)
        runs_of = GraphExecution.objects.filter(pk__in=ids)
        wait_for(
            lambda: runs_of.filter(status="completed").count() >= RUNS // 4,
            timeout=DEADLINE,
            what=f"{name}: a quarter of the runs to complete before the fault",
        )
        done_before = {
            str(run)
            for run in NodeExecution.objects.filter(
                graph_execution_id__in=ids, node__key="side", status="completed"
            ).values_list("graph_execution_id", flat=True)
        }
        in_flight = runs_of.exclude(status__in=TERMINAL).count()
        fault()
        started = time.monotonic()
        wait_for(
            lambda: not runs_of.exclude(status__in=TERMINAL).exists(),
            timeout=DEADLINE,
            what=f"{name}: every run to end after the fault",
        )
        recovered = time.monotonic() - started
        wait_for(
            lambda: all(set(ids) <= set(client.finals) for client in self.clients),
            timeout=DEADLINE,
            what=f"{name}: every WebSocket client to get every final event",
        )
        return self._check(name, runs, done_before, in_flight, recovered)

    def _check(self, name, runs, done_before, in_flight, recovered) -> dict[str, object]:
        ids = list(runs)
        statuses = Counter(
            GraphExecution.objects.filter(pk__in=ids).values_list("status", flat=True)
        )
        completed_twice = (
            NodeExecution.objects.filter(graph_execution_id__in=ids, status="completed")
            .values_list("graph_execution_id", "node__key")
            .order_by()
        )
        per_node = Counter(completed_twice)
        hits = self.counter.snapshot()
        repeated = [runs[run] for run in done_before if hits[runs[run]] != 1]
        charged = CreditTransaction.objects.filter(graph_exec_id__in=ids, type="USAGE")
        stores = NodeExecution.objects.filter(
            graph_execution_id__in=ids, node__key="store", status="completed"
        ).count()
        ledger = -sum(charged.values_list("amount", flat=True))
        counts = {
            "phase": name,
            "runs": len(ids),
            "in_flight_at_fault": in_flight,
            "statuses": dict(statuses),
            "stuck": sum(n for s, n in statuses.items() if s not in TERMINAL),
            "nodes_completed_twice": sum(1 for n in per_node.values() if n > 1),
            "side_effects": sum(hits[runs[run]] for run in ids),
            "side_effects_done_before_fault": len(done_before),
            "repeated_after_completion": len(repeated),
            "ledger": ledger,
            "expected_charges": PRICE * stores,
            "ws_clients_with_every_final": sum(
                1 for client in self.clients if set(ids) <= set(client.finals)
            ),
            "ws_reconnects": sum(client.reconnects for client in self.clients),
            "recovery_seconds": round(recovered, 1),
        }
        print(f"\nchaos {json.dumps(counts)}", flush=True)
        assert counts["stuck"] == 0
        assert statuses == {"completed": len(ids)}, counts
        assert counts["nodes_completed_twice"] == 0, counts
        assert repeated == [], counts
        assert all(hits[runs[run]] >= 1 for run in ids), counts
        assert stores == len(ids), counts
        assert ledger == PRICE * len(ids), counts
        assert charged.count() == len(ids), counts  # one USAGE entry per run: none twice
        assert counts["ws_clients_with_every_final"] == CLIENTS, counts
        return counts

    # --- faults ---------------------------------------------------------------------------

    def kill_worker(self) -> None:
        self.workers[0].kill()  # SIGKILL to the worker and its pool processes
        self.workers[0] = worker(self.env, "chaos-a2")

    def kill_redis(self) -> None:
        self.redis.kill()
        time.sleep(2)  # everything that talks to Redis fails meanwhile
        self.redis.start()  # empty: queued messages, flags and heartbeats are gone

    def terminate_database_backends(self) -> None:
        with connection.cursor() as cursor:  # only this test database's, never others'
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


def test_it_keeps_every_run_whole_through_worker_redis_and_database_faults(
    tmp_path, owner: User
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the chaos suite runs on PostgreSQL (DATABASE_URL): it terminates backends")
    chaos = Chaos(tmp_path, owner)
    try:
        results = [
            chaos.phase("worker-sigkill", chaos.kill_worker),
            chaos.phase("redis-killed", chaos.kill_redis),
            chaos.phase("postgres-backends-terminated", chaos.terminate_database_backends),
        ]
    finally:
        chaos.stop()
    total = sum(result["runs"] for result in results)
    print(f"chaos total: {total} runs through {len(results)} faults, all completed", flush=True)
    assert total >= 100
