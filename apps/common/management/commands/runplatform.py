"""Runs web (ASGI: HTTP + /ws), a Celery worker and beat together in the foreground, after
syncing the housekeeping beat entries declared in settings.

Ctrl-C (or SIGTERM) stops all three gracefully; if one of them dies, the others are stopped too.
The children run in sessions of their own, so a terminal's Ctrl-C reaches only this process,
which sends each child one SIGTERM (a second signal would make uvicorn and Celery quit at once):
web closes WebSockets with 1012 and finishes requests within WEB_SHUTDOWN_GRACE_SECONDS; the
worker lets runs finish within EXECUTION_SHUTDOWN_GRACE_SECONDS, then hands them over.
"""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from apps.common.metrics_dir import metrics_dir_reset

# Beyond the children's own grace periods, before they are killed.
MARGIN_SECONDS = 10


class Command(BaseCommand):
    help = "Run web, worker and beat in the foreground until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")

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
        processes = {
            name: subprocess.Popen(command, start_new_session=True)
            for name, command in commands.items()
        }
        graces = {
            "web": settings.WEB_SHUTDOWN_GRACE_SECONDS,
            "worker": settings.EXECUTION_SHUTDOWN_GRACE_SECONDS,
            "beat": 0,
        }
        stopping = False

        def request_stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

        url = f"http://{host}:{port}/"
        self.stdout.write(self.style.SUCCESS(f"\nAutoGPT Platform is starting at {url}"))
        if settings.DEBUG:
            self.stdout.write(
                f"Demo login: {settings.DEMO_USER_EMAIL} / {settings.DEMO_USER_PASSWORD}\n"
                f"API docs: {url}api/docs/   Admin: {url}admin/   Ready: {url}health/ready\n"
                "Press Ctrl-C to stop.\n"
            )

        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with code {process.returncode}; stopping.")
                    exit_code = process.returncode or 1
                    stopping = True
            time.sleep(0.2)

        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        for name, process in processes.items():
            deadline = started + graces[name] + MARGIN_SECONDS
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(exit_code)
