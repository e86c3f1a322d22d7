"""Runs web (ASGI: HTTP + /ws), a Celery worker and beat together in the foreground, after
syncing the housekeeping beat entries declared in settings.

Once Django has synced the entries, the process execs into apps.common.supervise (plain Python,
none of Django's memory), which starts the three. Ctrl-C (or SIGTERM) stops all three
gracefully; if one of them dies, the others are stopped too. The children run in sessions of
their own, so a terminal's Ctrl-C reaches only the supervisor, which sends each child one
SIGTERM: web closes WebSockets with 1012 and finishes requests within
WEB_SHUTDOWN_GRACE_SECONDS; the worker lets runs finish within EXECUTION_SHUTDOWN_GRACE_SECONDS,
then hands them over.
"""

import json
import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from apps.common.metrics_dir import metrics_dir_reset


class Command(BaseCommand):
    help = "Run web, worker and beat in the foreground until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--concurrency", type=int, default=2, help="runs the worker takes at once"
        )

    def handle(
        self, *args: object, host: str, port: int, concurrency: int, **options: object
    ) -> None:
        # Metric files of earlier runs would be added to this run's figures.
        metrics_dir_reset()
        # Beat reads its entries from the database: bring the housekeeping ones up to date.
        call_command("sync_housekeeping")
        python = sys.executable
        commands = {
            "web": [
                python,
                "-m",
                "uvicorn",
                "autogpt.asgi:application",
                "--host",
                host,
                "--port",
                str(port),
                "--no-access-log",
                # Events are small JSON frames: compressing each costs more CPU than it saves.
                "--ws-per-message-deflate",
                "false",
                "--timeout-graceful-shutdown",
                str(settings.WEB_SHUTDOWN_GRACE_SECONDS),
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "autogpt",
                "worker",
                "-l",
                "INFO",
                "-Q",
                "executions,default,notifications",
                "--concurrency",
                str(concurrency),
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "autogpt",
                "beat",
                "-l",
                "INFO",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
            ],
        }
        graces = {
            "web": settings.WEB_SHUTDOWN_GRACE_SECONDS,
            "worker": settings.EXECUTION_SHUTDOWN_GRACE_SECONDS,
            "beat": 0,
        }
        children = {
            name: {"command": command, "grace": graces[name]} for name, command in commands.items()
        }
        url = f"http://{host}:{port}/"
        self.stdout.write(self.style.SUCCESS(f"\nAutoGPT Platform is starting at {url}"))
        if settings.DEBUG:
            self.stdout.write(
                f"Demo login: {settings.DEMO_USER_EMAIL} / {settings.DEMO_USER_PASSWORD}\n"
                f"API docs: {url}api/docs/   Admin: {url}admin/   Ready: {url}health/ready\n"
                "Press Ctrl-C to stop.\n"
            )

        self.stdout.flush()
        connections.close_all()
        # The supervising needs none of Django: this process becomes apps.common.supervise
        # (same pid, so a service manager or a terminal keeps talking to it).
        os.execv(  # noqa: S606  # our own interpreter and module, no shell
            python, [python, "-m", "apps.common.supervise", "runplatform", json.dumps(children)]
        )
