"""Runs web (ASGI: HTTP + /ws), a Celery worker and beat together in the foreground, after
syncing the housekeeping beat entries declared in settings.

Ctrl-C (or SIGTERM) stops all three; if one of them dies, the others are stopped too.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

GRACE_SECONDS = 15


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
        metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        for stale in metrics_dir.glob("*.db"):
            stale.unlink()
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
        processes = {name: subprocess.Popen(command) for name, command in commands.items()}
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
        deadline = time.monotonic() + GRACE_SECONDS
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(exit_code)
