"""`python manage.py benchmark`: measure this installation (it must be running: `make run`)."""

import json
import os
import secrets
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from apps.executions.benchmark import (
    Benchmark,
    CpuMeter,
    RedirectedError,
    cmdline,
    listening_pids,
    proc_stat,
)
from apps.executions.benchmark_lists import measure_lists
from apps.executions.models import (
    ExecutionEvent,
    GraphExecution,
    NodeExecution,
    NodeExecutionOutput,
)
from apps.executions.seed import SEED_EMAIL
from apps.users.models import APIKey, User
from apps.users.services import api_key_create, users_delete

# A table with more dead rows than this is vacuumed too (what runs write beyond executions:
# their notifications, say, which go with the benchmark's user).
DEAD_ROWS = 1000


# The tables every run writes.
RUN_MODELS = (GraphExecution, NodeExecution, NodeExecutionOutput, ExecutionEvent)


def _quoted(tables: set[str]) -> str:
    return ", ".join(connection.ops.quote_name(table) for table in sorted(tables))


def _vacuum() -> None:
    """Reclaim the dead rows of earlier runs in the tables every run writes, and in any table
    holding many: where autovacuum is off or behind, they slow each query down, and every
    benchmark would measure the ones before it. Run before measuring and after cleaning up;
    PostgreSQL only."""
    if connection.vendor != "postgresql":
        return
    tables = {model._meta.db_table for model in RUN_MODELS}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables"
            " WHERE schemaname = current_schema() AND n_dead_tup > %s",
            [DEAD_ROWS],
        )
        tables.update(row[0] for row in cursor.fetchall())
        cursor.execute(f"VACUUM (ANALYZE) {_quoted(tables)}")


def _settle() -> None:
    """After the warm-up runs, ANALYZE the tables they wrote. `_vacuum` left them empty, and
    the plans the platform's connections cache (the foreign-key checks of every commit
    included) would stay those of empty tables, sequential scans, until an ANALYZE: what
    autovacuum, or where it is off the platform's table upkeep (apps.common.upkeep), does
    within its interval of a platform's first use. Without this the figures would measure
    that interval, growing with every run."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {_quoted({model._meta.db_table for model in RUN_MODELS})}")


def _database_backends() -> list[int]:
    """The PostgreSQL backends serving this database, but the benchmark's own connection."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def server_processes(url: str, given: list[int]) -> list[int]:
    """The platform's processes whose CPU counts: those given, or else the one listening on the
    URL's port (on this machine) and, when `runplatform` started it, runplatform itself (its
    descendants, the worker and beat, are counted with it)."""
    if given:
        return given
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return []
    found = listening_pids(parts.port or (443 if parts.scheme == "https" else 80))
    roots = []
    for pid in found:
        stat = proc_stat(pid)
        parent = stat[0] if stat else 0
        roots.append(parent if parent and "runplatform" in cmdline(parent) else pid)
    return sorted(set(roots) - {os.getpid()})


class Command(BaseCommand):
    help = "Measure per-node overhead, end-to-end latency and throughput of a running platform."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the web process")
        parser.add_argument("--runs", type=int, default=200, help="latency runs (b)")
        parser.add_argument("--chain-runs", type=int, default=5, help="100-node runs (a)")
        parser.add_argument("--clients", type=int, default=8, help="concurrent clients (c)")
        parser.add_argument("--seconds", type=float, default=15.0, help="duration of (c)")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument(
            "--client-runs", type=int, default=3, help="client-side runs of each shape (a')"
        )
        parser.add_argument(
            "--long-chain", type=int, default=1000, help="nodes of the long chain (0: none)"
        )
        parser.add_argument(
            "--fan-out", type=int, default=200, help="branches of the fan-out (0: none)"
        )
        parser.add_argument(
            "--server-pid",
            type=int,
            action="append",
            default=[],
            help="a process of the platform whose CPU counts (with its descendants); repeat;"
            " default: the one listening on --url's port, or runplatform when it started it",
        )
        parser.add_argument(
            "--lists",
            action="store_true",
            help="instead: time the list endpoints and pages in-process over a seeded history"
            " (manage.py seed_history), p50/p95 and queries per request",
        )
        parser.add_argument(
            "--lists-user", default=SEED_EMAIL, help="whose history --lists reads (an email)"
        )
        parser.add_argument("--repeats", type=int, default=20, help="requests per list (--lists)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["lists"]:
            self._lists(options)
            return
        report = self._measure(options)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self._print(report)

    def _measure(self, options: dict[str, Any]) -> dict[str, Any]:
        _vacuum()
        # Rate limits apply to staff too: measure a platform started with RATE_LIMIT_USER raised
        # (README, "Measuring an installation"), or the figures measure the throttle.
        user = User.objects.create_user(
            f"benchmark-{secrets.token_hex(4)}@benchmark.invalid",
            secrets.token_urlsafe(16),
            name="Benchmark",
            is_staff=True,
        )
        try:
            _, key = api_key_create(
                user=user, name="benchmark", permissions=[p.value for p in APIKey.Permission]
            )
            quiet = options["json"]
            log = (lambda text: None) if quiet else (lambda text: self.stderr.write(text))
            pids = server_processes(str(options["url"]), list(options["server_pid"]))
            log(f"server processes measured: {pids or 'none found'} and the database backends")
            benchmark = Benchmark(
                base_url=str(options["url"]),
                api_key=key,
                log=log,
                cpu=CpuMeter(pids, _database_backends),
                settle=_settle,
            )
            report = benchmark.run(
                latency_runs=int(options["runs"]),
                clients=int(options["clients"]),
                seconds=float(options["seconds"]),
                chain_runs=int(options["chain_runs"]),
                client_runs=int(options["client_runs"]),
                long_chain=int(options["long_chain"]),
                fan_out=int(options["fan_out"]),
            ).as_dict()
        except RedirectedError as exc:
            raise CommandError(str(exc)) from None
        finally:
            # Runs a failed phase left going may still write: users_delete waits for them.
            users_delete(user_ids=[user.pk])
            _vacuum()
        return report

    def _print(self, report: dict[str, Any]) -> None:
        latency, throughput = report["e2e_3_node"], report["throughput"]
        rows = [
            ("per-node overhead (100-node chain), median", f"{report['per_node_overhead_ms']} ms"),
            ("3-node run, POST → final WS event, p50", f"{latency['p50_ms']} ms"),
            ("3-node run, POST → final WS event, p95", f"{latency['p95_ms']} ms"),
            ("3-node run, POST → final WS event, p99", f"{latency['p99_ms']} ms"),
            (
                f"sustained 3-node runs/s, {throughput['clients']} clients",
                f"{throughput['runs_per_second']} ({throughput['errors']} errors)",
            ),
        ]
        for name, figures in report["client_side"].items():
            if isinstance(figures, dict):
                rows.append(
                    (
                        f"client-side {name.replace('_', ' ')} ({figures['nodes']} nodes), median",
                        f"{figures['ms_median']} ms, {figures['per_node_ms']} ms per node",
                    )
                )
        cpu = report["cpu_per_run"]
        if cpu:
            rows.append(
                (
                    "server CPU per 3-node run (web + worker + PostgreSQL)",
                    f"{cpu['ms_per_run']} ms ({cpu['server_ms_per_run']} + "
                    f"{cpu['database_ms_per_run']} database)",
                )
            )
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            self.stdout.write(f"{label:<{width}}  {value}")
        for sample in throughput["error_samples"]:
            self.stdout.write(f"error: {sample}")

    def _lists(self, options: dict[str, Any]) -> None:
        user = User.objects.filter(email=str(options["lists_user"])).first()
        if user is None:
            raise CommandError(
                f"No user {options['lists_user']}: seed one with `manage.py seed_history` first."
            )
        quiet = options["json"]
        timings = measure_lists(
            user=user,
            repeats=max(1, int(options["repeats"])),
            log=(lambda text: None) if quiet else (lambda text: self.stderr.write(text)),
        )
        if quiet:
            self.stdout.write(json.dumps({t.name: t.as_dict() for t in timings}, indent=2))
            return
        width = max(len(t.name) for t in timings)
        self.stdout.write(f"{'list':<{width}}  status  queries   p50 ms   p95 ms")
        for t in timings:
            self.stdout.write(
                f"{t.name:<{width}}  {t.status:>6}  {t.queries:>7}  {t.p50_ms:>7}  {t.p95_ms:>7}"
            )
