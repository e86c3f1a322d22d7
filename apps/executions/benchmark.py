"""Measures an installation end to end through its public surface (REST + /ws), SPEC §6 targets.

(a) per-node overhead: server-side wall time of a 100-node chain of trivial nodes, minus that of
    a 2-node graph, per node; (a') the same seen by the client, from its `POST …/execute` to the
    terminal `graph_execution_event` on its WebSocket, on chains of 100 and 1,000 nodes and a
    fan-out of 200 two-node branches; (b) latency of a 3-node run, POST → terminal event;
    (c) sustained 3-node runs/s with N concurrent clients, and the server CPU each run cost
    over that phase (from /proc: web, worker and PostgreSQL processes). It creates its own
    staff user, key and graphs and deletes them afterwards.
"""

import json
import os
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


def fan_out_graph(branches: int) -> dict[str, Any]:
    """input → `branches` parallel branches of two Store Value nodes each: as many nodes as a
    chain of twice as many, run side by side."""
    nodes = [{"id": "in", "block_id": AgentInputBlock.id, "input_default": {"name": "x"}}]
    links = []
    for index in range(branches):
        first, second = f"a{index}", f"b{index}"
        nodes += [
            {"id": first, "block_id": StoreValueBlock.id},
            {"id": second, "block_id": StoreValueBlock.id},
        ]
        links += [
            {"source_id": "in", "source_name": "result", "sink_id": first, "sink_name": "input"},
            {"source_id": first, "source_name": "output", "sink_id": second, "sink_name": "input"},
        ]
    return {"name": f"benchmark fan-out of {branches}", "nodes": nodes, "links": links}


class RedirectedError(RuntimeError):
    """The platform answered a redirect: said plainly rather than failing on an empty body."""


def redirect_message(method: str, url: str, status: int, location: str) -> str:
    hint = ""
    if url.startswith("http://") and location.startswith("https://"):
        hint = (
            " The platform redirects plain HTTP to HTTPS: with DEBUG=false, SECURE_SSL_REDIRECT"
            " is on. Measure it over HTTPS (--url https://…), through the proxy that terminates"
            " TLS, or start it with SECURE_SSL_REDIRECT=false for the benchmark."
        )
    return f"{method} {url} answered {status}, a redirect to {location or '(no Location)'}.{hint}"


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
        self.base_url = base_url.rstrip("/")
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
        if 300 <= response.status < 400:
            raise RedirectedError(
                redirect_message(
                    method,
                    self.base_url + path,
                    response.status,
                    response.getheader("Location") or "",
                )
            )
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


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used: user + system) of a process, from /proc; None once it
    is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(roots: list[int]) -> set[int]:
    """The processes and all their descendants (a Celery worker's pool, runplatform's
    children)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := proc_stat(int(entry))) is not None:
            parents[int(entry)] = stat[0]
    found = {pid for pid in roots if pid in parents}
    grew = True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def listening_pids(port: int) -> list[int]:
    """The processes holding a listening TCP socket on `port` (this machine only)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            links = {
                os.readlink(f"/proc/{entry}/fd/{fd}") for fd in os.listdir(f"/proc/{entry}/fd")
            }
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            pids.append(int(entry))
    return pids


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


class CpuMeter:
    """CPU seconds used by the server's processes over a span: `server_pids` and their
    descendants, plus the database backends `database_pids()` names at the start and the end
    (one that appeared in between is counted whole)."""

    def __init__(
        self, server_pids: list[int], database_pids: Callable[[], list[int]] | None = None
    ) -> None:
        self.server_pids = server_pids
        self.database_pids = database_pids or (lambda: [])
        self.before: dict[int, float] = {}
        self.start_pids: set[int] = set()

    def _sample(self, pids: set[int]) -> dict[int, float]:
        return {pid: stat[1] for pid in pids if (stat := proc_stat(pid)) is not None}

    def _pids(self) -> tuple[set[int], set[int]]:
        return process_tree(self.server_pids), set(self.database_pids())

    def start(self) -> None:
        server, database = self._pids()
        self.start_pids = server | database
        self.before = self._sample(self.start_pids)

    def stop(self) -> dict[str, Any]:
        server, database = self._pids()
        after = self._sample(server | database | self.start_pids)
        used = {pid: after[pid] - self.before.get(pid, 0.0) for pid in after}
        return {
            "server_seconds": round(sum(v for p, v in used.items() if p not in database), 3),
            "database_seconds": round(sum(v for p, v in used.items() if p in database), 3),
            "processes": len(used),
        }


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
    # client-side, POST → final event, per graph: {"chain 100": [ms, …], …}
    client_ms: dict[str, list[float]] = field(default_factory=dict)
    client_nodes: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, Any] | None = None

    def _client_figures(self) -> dict[str, Any]:
        if not self.client_ms:
            return {}
        base = statistics.median(self.client_ms["chain 0"])
        figures: dict[str, Any] = {"base_2_node_ms_median": round(base, 2)}
        for name, values in self.client_ms.items():
            if name == "chain 0":
                continue
            median = statistics.median(values)
            figures[name.replace(" ", "_")] = {
                "runs": len(values),
                "ms_median": round(median, 2),
                "nodes": self.client_nodes[name],
                "per_node_ms": round((median - base) / (self.client_nodes[name] - 2), 3),
            }
        return figures

    def _cpu_figures(self) -> dict[str, Any] | None:
        if self.cpu is None or not self.throughput_runs:
            return None
        total = self.cpu["server_seconds"] + self.cpu["database_seconds"]
        return {
            **self.cpu,
            "ms_per_run": round(total * 1000 / self.throughput_runs, 2),
            "server_ms_per_run": round(self.cpu["server_seconds"] * 1000 / self.throughput_runs, 2),
            "database_ms_per_run": round(
                self.cpu["database_seconds"] * 1000 / self.throughput_runs, 2
            ),
        }

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
            "client_side": self._client_figures(),
            "cpu_per_run": self._cpu_figures(),
        }


class Benchmark:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        log: Callable[[str], None],
        cpu: CpuMeter | None = None,
        settle: Callable[[], object] | None = None,
    ) -> None:
        self.cpu = cpu
        self.settle = settle
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

    def run(
        self,
        *,
        latency_runs: int,
        clients: int,
        seconds: float,
        chain_runs: int,
        client_runs: int = 3,
        long_chain: int = 1000,
        fan_out: int = 200,
    ) -> Report:
        report = Report(clients=clients)
        with self._client() as client:
            created: list[str] = []
            try:
                chain = self._graph(client, chain_graph(100))
                created.append(chain)
                base = self._graph(client, chain_graph(0))
                created.append(base)
                small = self._graph(client, chain_graph(1))
                created.append(small)
                shapes = {"chain 100": chain_graph(100)}
                if long_chain:
                    shapes[f"chain {long_chain}"] = chain_graph(max(long_chain - 2, 0))
                if fan_out:
                    shapes[f"fan-out {fan_out}"] = fan_out_graph(fan_out)
                graphs = {"chain 0": base, "chain 100": chain}
                for name, payload in shapes.items():
                    if name not in graphs:
                        graphs[name] = self._graph(client, payload)
                        created.append(graphs[name])
                    report.client_nodes[name] = len(payload["nodes"])
                url = f"{self.ws_url}/ws?token={self.api_key}"
                with connect(url, max_size=None, compression=None) as socket:
                    events = FinalEvents(socket, created)
                    self._warm_up(client, events, graphs)
                    self._per_node(report, client, events, chain, base, chain_runs)
                    self._client_side(report, client, events, graphs, client_runs)
                    self._latency(report, client, events, small, latency_runs)
                    self.log(f"(c) throughput: {clients} clients for {seconds:g} s")
                    if self.cpu is not None:
                        self.cpu.start()
                    self._throughput(report, events, small, clients, seconds)
                    if self.cpu is not None:
                        report.cpu = self.cpu.stop()
            finally:
                for graph_id in created:
                    client.request("DELETE", f"/api/graphs/{graph_id}")
        return report

    def _warm_up(self, client: Http, events: FinalEvents, graphs: dict[str, str]) -> None:
        """One unmeasured run of each shape (a graph's first run compiles it in the web and the
        worker), then `settle` (the command's: ANALYZE the tables those runs wrote)."""
        self.log(f"warm-up: one run each of {', '.join(graphs)}")
        for graph_id in graphs.values():
            events.wait(self._start(client, graph_id), timeout=300)
        if self.settle is not None:
            self.settle()

    def _client_side(
        self,
        report: Report,
        client: Http,
        events: FinalEvents,
        graphs: dict[str, str],
        runs: int,
    ) -> None:
        """(a') POST → final event as the client sees it, per graph shape, `runs` times each
        (interleaved, so a burst of load from elsewhere spreads over all of them)."""
        if runs <= 0:
            return
        self.log(f"(a') client-side: {runs} runs each of {', '.join(graphs)}")
        for name in graphs:
            report.client_ms[name] = []
        for _ in range(runs):
            for name, graph_id in graphs.items():
                started = time.perf_counter()
                arrived, data = events.wait(self._start(client, graph_id), timeout=300)
                if data["status"] != "completed":
                    raise RuntimeError(f"benchmark run of {name} ended {data['status']}: {data}")
                report.client_ms[name].append((arrived - started) * 1000)

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
