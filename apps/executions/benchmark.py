"""Measures an installation end to end through its public surface (REST + /ws), SPEC §6 targets.

(a) per-node overhead: server-side wall time of a 100-node chain of trivial nodes, minus that of
    a 2-node graph, per node; (b) latency of a 3-node run from `POST …/execute` to its terminal
    `graph_execution_event` on a WebSocket; (c) sustained 3-node runs/s with N concurrent
    clients. It creates its own staff user, key and graphs and deletes them afterwards.
"""

import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPSConnection
from typing import Any
from urllib.parse import urlsplit

from websockets.sync.client import ClientConnection, connect

from apps.graphs.blocks.library.basic import AgentInputBlock, AgentOutputBlock, StoreValueBlock

TERMINAL = {"completed", "failed", "cancelled", "timeout"}
# Less than a server's keep-alive timeout (uvicorn's is 5 s).
IDLE_SECONDS = 2.0


def chain_graph(length: int) -> dict[str, Any]:
    """input → `length` Store Value nodes → output: trivial nodes, so what is measured is us."""
    nodes = [{"id": "in", "block_id": AgentInputBlock.id, "input_default": {"name": "x"}}]
    links = []
    previous, pin = "in", "result"
    for index in range(length):
        key = f"n{index}"
        nodes.append({"id": key, "block_id": StoreValueBlock.id})
        links.append(
            {"source_id": previous, "source_name": pin, "sink_id": key, "sink_name": "input"}
        )
        previous, pin = key, "output"
    nodes.append({"id": "out", "block_id": AgentOutputBlock.id, "input_default": {"name": "y"}})
    links.append(
        {"source_id": previous, "source_name": pin, "sink_id": "out", "sink_name": "value"}
    )
    return {"name": f"benchmark chain of {length}", "nodes": nodes, "links": links}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Http:
    """One keep-alive HTTP/1.1 connection per client. The benchmark shares the machine with the
    platform it measures, so its own cost per request counts: http.client's is a fraction of a
    full-featured client's."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float = 30) -> None:
        parts = urlsplit(base_url)
        kind = HTTPSConnection if parts.scheme == "https" else HTTPConnection
        self.connection = kind(parts.hostname or "localhost", parts.port, timeout=timeout)
        self.prefix = parts.path.rstrip("/")
        self.headers = {**headers, "Content-Type": "application/json"}
        self.used = 0.0

    def request(self, method: str, path: str, payload: Any = None) -> Any:
        if time.monotonic() - self.used > IDLE_SECONDS:
            self.connection.close()  # the server may have closed it; the next request reopens
        self.used = time.monotonic()
        body = None if payload is None else json.dumps(payload)
        self.connection.request(method, self.prefix + path, body=body, headers=self.headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {response.status} {data[:300]!r}")
        return json.loads(data) if data else None

    def __enter__(self) -> "Http":
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


class FinalEvents:
    """A WebSocket subscribed to graphs' runs; waiters get each run's terminal event. Its
    listening thread ends when the socket closes."""

    def __init__(self, socket: ClientConnection, graph_ids: list[str]) -> None:
        self.socket = socket
        for graph_id in graph_ids:
            self.socket.send(
                json.dumps({"method": "subscribe_graph_executions", "data": {"graph_id": graph_id}})
            )
            ack = json.loads(self.socket.recv(timeout=10))
            if not ack.get("success"):
                raise RuntimeError(f"could not subscribe: {ack}")
        self.done: dict[str, tuple[float, dict[str, Any]]] = {}
        self.waiting: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        try:
            for raw in self.socket:
                arrived = time.perf_counter()
                message = json.loads(raw)
                data = message.get("data") or {}
                if message.get("method") != "graph_execution_event":
                    continue
                if data.get("status") not in TERMINAL:
                    continue
                with self.lock:
                    self.done.setdefault(data["id"], (arrived, data))
                    event = self.waiting.get(data["id"])
                if event is not None:
                    event.set()
        except Exception:
            return

    def expect(self, graph_exec_id: str) -> threading.Event:
        with self.lock:
            event = self.waiting.setdefault(graph_exec_id, threading.Event())
            if graph_exec_id in self.done:
                event.set()
        return event

    def wait(self, graph_exec_id: str, timeout: float) -> tuple[float, dict[str, Any]]:
        if not self.expect(graph_exec_id).wait(timeout):
            raise TimeoutError(f"no final event for {graph_exec_id} within {timeout} s")
        with self.lock:
            self.waiting.pop(graph_exec_id, None)
            return self.done.pop(graph_exec_id)


@dataclass
class Report:
    per_node_ms: float = 0.0
    chain_run_ms: list[float] = field(default_factory=list)
    base_run_ms: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    throughput_runs: int = 0
    throughput_seconds: float = 0.0
    throughput_errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    clients: int = 0

    def as_dict(self) -> dict[str, Any]:
        latency = self.latency_ms
        return {
            "per_node_overhead_ms": round(self.per_node_ms, 3),
            "chain_100_run_ms_median": round(statistics.median(self.chain_run_ms), 2),
            "base_2_node_run_ms_median": round(statistics.median(self.base_run_ms), 2),
            "e2e_3_node": {
                "runs": len(latency),
                "p50_ms": round(percentile(latency, 0.50), 2),
                "p95_ms": round(percentile(latency, 0.95), 2),
                "p99_ms": round(percentile(latency, 0.99), 2),
            },
            "throughput": {
                "clients": self.clients,
                "seconds": round(self.throughput_seconds, 2),
                "runs": self.throughput_runs,
                "runs_per_second": round(self.throughput_runs / self.throughput_seconds, 1),
                "errors": self.throughput_errors,
                "error_samples": self.error_samples,
            },
        }


class Benchmark:
    def __init__(self, *, base_url: str, api_key: str, log: Callable[[str], None]) -> None:
        self.base_url = base_url.rstrip("/")
        self.ws_url = "ws" + self.base_url.removeprefix("http")
        self.api_key = api_key
        self.log = log
        self.headers = {"X-API-Key": api_key}

    def _client(self) -> Http:
        return Http(self.base_url, self.headers)

    def _graph(self, client: Http, payload: dict[str, Any]) -> str:
        return client.request("POST", "/api/graphs", payload)["id"]

    def _start(self, client: Http, graph_id: str) -> str:
        return client.request("POST", f"/api/graphs/{graph_id}/execute", {"inputs": {"x": 1}})["id"]

    def _server_ms(self, data: dict[str, Any]) -> float:
        return float(data["stats"]["wall_time"]) * 1000

    def run(self, *, latency_runs: int, clients: int, seconds: float, chain_runs: int) -> Report:
        report = Report(clients=clients)
        with self._client() as client:
            chain = self._graph(client, chain_graph(100))
            base = self._graph(client, chain_graph(0))
            small = self._graph(client, chain_graph(1))
            url = f"{self.ws_url}/ws?token={self.api_key}"
            try:
                with connect(url, max_size=None, compression=None) as socket:
                    events = FinalEvents(socket, [chain, base, small])
                    self._per_node(report, client, events, chain, base, chain_runs)
                    self._latency(report, client, events, small, latency_runs)
                    self.log(f"(c) throughput: {clients} clients for {seconds:g} s")
                    self._throughput(report, events, small, clients, seconds)
            finally:
                for graph_id in (chain, base, small):
                    client.request("DELETE", f"/api/graphs/{graph_id}")
        return report

    def _per_node(
        self, report: Report, client: Http, events: FinalEvents, chain: str, base: str, runs: int
    ) -> None:
        self.log(f"(a) per-node overhead: {runs} runs of a 102-node and a 2-node graph")
        for _ in range(runs):
            for graph_id, bucket in ((chain, report.chain_run_ms), (base, report.base_run_ms)):
                _, data = events.wait(self._start(client, graph_id), timeout=120)
                if data["status"] != "completed":
                    raise RuntimeError(f"benchmark run ended {data['status']}: {data}")
                bucket.append(self._server_ms(data))
        chain_ms, base_ms = (
            statistics.median(report.chain_run_ms),
            statistics.median(report.base_run_ms),
        )
        report.per_node_ms = (chain_ms - base_ms) / 100

    def _latency(
        self, report: Report, client: Http, events: FinalEvents, graph_id: str, runs: int
    ) -> None:
        self.log(f"(b) end-to-end latency: {runs} runs of a 3-node graph")
        for _ in range(5):  # warm-up: connections, compiled graphs, worker caches
            events.wait(self._start(client, graph_id), timeout=60)
        for _ in range(runs):
            started = time.perf_counter()
            arrived, data = events.wait(self._start(client, graph_id), timeout=60)
            if data["status"] != "completed":
                raise RuntimeError(f"benchmark run ended {data['status']}")
            report.latency_ms.append((arrived - started) * 1000)

    def _throughput(
        self, report: Report, events: FinalEvents, graph_id: str, clients: int, seconds: float
    ) -> None:
        lock = threading.Lock()
        deadline = time.perf_counter() + seconds

        def loop() -> None:
            with self._client() as client:
                while time.perf_counter() < deadline:
                    problem = None
                    try:
                        _, data = events.wait(self._start(client, graph_id), timeout=60)
                        if data["status"] != "completed":
                            problem = f"run ended {data['status']}: {data.get('error_message')}"
                    except Exception as exc:  # every failure counts as an error, with its cause
                        problem = f"{type(exc).__name__}: {exc}"
                    with lock:
                        if problem is None:
                            report.throughput_runs += 1
                        else:
                            report.throughput_errors += 1
                            if len(report.error_samples) < 5:
                                report.error_samples.append(problem[:300])

        started = time.perf_counter()
        threads = [threading.Thread(target=loop) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        report.throughput_seconds = time.perf_counter() - started
