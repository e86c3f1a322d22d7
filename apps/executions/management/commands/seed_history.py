"""`python manage.py seed_history`: one user with a large run history, to measure the list
endpoints at scale (`benchmark --lists`). Refuses to seed twice; `--reset` deletes it."""

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.common.exceptions import Conflict
from apps.executions.seed import SEED_EMAIL, seed_history, seed_history_reset


class Command(BaseCommand):
    help = "Seed one user with 100,000 runs and 1,000,000 node executions over 30 days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--runs", type=int, default=100_000)
        parser.add_argument("--node-executions", type=int, default=1_000_000)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--graphs", type=int, default=20)
        parser.add_argument(
            "--big-run-nodes", type=int, default=1000, help="node executions of the one big run"
        )
        parser.add_argument(
            "--reset", action="store_true", help=f"delete {SEED_EMAIL}'s history and stop"
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["reset"]:
            deleted = seed_history_reset()
            self.stdout.write(f"Deleted {SEED_EMAIL} and {deleted} runs.")
            return
        try:
            report = seed_history(
                runs=int(options["runs"]),
                node_executions=int(options["node_executions"]),
                days=int(options["days"]),
                graphs=int(options["graphs"]),
                big_run_nodes=int(options["big_run_nodes"]),
                log=lambda text: self.stderr.write(text),
            )
        except (Conflict, ValueError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from None
        if options["json"]:
            self.stdout.write(json.dumps(asdict(report), indent=2))
        else:
            self.stdout.write(
                f"Seeded {report.user_email}: {report.graphs} graphs, {report.runs} runs,"
                f" {report.node_executions} node executions, {report.outputs} outputs"
                f" in {report.seconds} s; the big run is {report.big_run_id}."
            )
