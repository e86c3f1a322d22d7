"""`python manage.py reset_metrics`: empty PROMETHEUS_MULTIPROC_DIR before processes start."""

import os

from django.core.management.base import BaseCommand

from apps.common.metrics_dir import metrics_dir_reset


class Command(BaseCommand):
    help = (
        "Delete metric files left by earlier processes. Run it once as a process group starts "
        "(a container's start-up), never while processes write there."
    )

    def handle(self, *args: object, **options: object) -> None:
        removed = metrics_dir_reset()
        self.stdout.write(
            f"{os.environ['PROMETHEUS_MULTIPROC_DIR']}: {removed} stale files removed."
        )
