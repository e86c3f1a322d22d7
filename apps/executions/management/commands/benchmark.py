"""`python manage.py benchmark`: measure this installation (it must be running: `make run`)."""

import json
import secrets

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from apps.executions.benchmark import Benchmark
from apps.executions.benchmark_lists import measure_lists
from apps.executions.models import GraphExecution, NodeExecution, NodeExecutionOutput
from apps.executions.seed import SEED_EMAIL
from apps.users.models import APIKey, User
from apps.users.services import api_key_create

# A table with more dead rows than this is vacuumed too (what runs write beyond executions:
# their notifications, say, which go with the benchmark's user).
DEAD_ROWS = 1000


def _vacuum() -> None:
    """Reclaim the dead rows of earlier runs in the tables every run writes, and in any table
    holding many: where autovacuum is off or behind, they slow each query down, and every
    benchmark would measure the ones before it. Run before measuring and after cleaning up;
    PostgreSQL only."""
    if connection.vendor != "postgresql":
        return
    models = (GraphExecution, NodeExecution, NodeExecutionOutput)
    tables = {model._meta.db_table for model in models}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables"
            " WHERE schemaname = current_schema() AND n_dead_tup > %s",
            [DEAD_ROWS],
        )
        tables.update(row[0] for row in cursor.fetchall())
        names = ", ".join(connection.ops.quote_name(table) for table in sorted(tables))
        cursor.execute(f"VACUUM (ANALYZE) {names}")


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
            "--lists",
            action="store_true",
            help="instead: time the list endpoints and pages in-process over a seeded history"
            " (manage.py seed_history), p50/p95 and queries per request",
        )
        parser.add_argument(
            "--lists-user", default=SEED_EMAIL, help="whose history --lists reads (an email)"
        )
        parser.add_argument("--repeats", type=int, default=20, help="requests per list (--lists)")

    def handle(self, *args: object, **options: object) -> None:
        if options["lists"]:
            self._lists(options)
            return
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
            benchmark = Benchmark(
                base_url=str(options["url"]),
                api_key=key,
                log=(lambda text: None) if quiet else (lambda text: self.stderr.write(text)),
            )
            report = benchmark.run(
                latency_runs=int(options["runs"]),
                clients=int(options["clients"]),
                seconds=float(options["seconds"]),
                chain_runs=int(options["chain_runs"]),
            ).as_dict()
        finally:
            user.delete()
            _vacuum()
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
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
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            self.stdout.write(f"{label:<{width}}  {value}")
        for sample in throughput["error_samples"]:
            self.stdout.write(f"error: {sample}")

    def _lists(self, options: dict[str, object]) -> None:
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
