"""Celery bootstrap: settings come from Django's (CELERY_*), tasks from every app's tasks.py."""

import os
import sys
import threading

from celery import Celery
from celery.signals import (
    beat_init,
    celeryd_after_setup,
    task_postrun,
    task_prerun,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
    worker_shutting_down,
)
from kombu import Queue

from autogpt.heap import freeze_startup_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autogpt.settings")

app = Celery("autogpt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (
    Queue("default"),
    Queue("executions"),
    Queue("executions.resume"),
    Queue("notifications"),
)
app.autodiscover_tasks()
# Celery's Django fixup closes every database connection before and after each task unless this
# is set, so every run paid for a new PostgreSQL connection (a server process forked per task).
# Connections are kept instead and handled as Django handles them between web requests.
app.conf.CELERY_DB_REUSE_MAX = sys.maxsize


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(**kwargs) -> None:
    # Drops connections older than DB_CONN_MAX_AGE and ones left unusable by an error.
    from django.db import close_old_connections

    close_old_connections()


@celeryd_after_setup.connect
def _take_resumed_runs(sender: str, instance, **kwargs) -> None:
    """A worker that takes runs takes resumed ones too, from their own queue
    (apps.executions.lifecycle.RESUME_QUEUE), whatever its -Q list says."""
    queues = instance.app.amqp.queues
    if "executions" in queues.consume_from:
        queues.select_add("executions.resume")


_heartbeat_stop = threading.Event()


def _beat_heartbeat(hostname: str) -> None:
    from django.conf import settings

    from apps.common.heartbeat import worker_heartbeat_record

    while not _heartbeat_stop.is_set():
        worker_heartbeat_record(hostname=hostname)
        _heartbeat_stop.wait(settings.WORKER_HEARTBEAT_SECONDS)


@worker_ready.connect
@worker_process_init.connect  # a prefork pool process
def _freeze_startup_heap(**kwargs) -> None:
    freeze_startup_heap()


@beat_init.connect
def _freeze_beat_heap(**kwargs) -> None:
    freeze_startup_heap(blocks=False)


@worker_ready.connect
def _start_heartbeat(sender, **kwargs) -> None:
    threading.Thread(
        target=_beat_heartbeat, args=(sender.hostname,), name="worker-heartbeat", daemon=True
    ).start()


@worker_shutdown.connect
def _stop_heartbeat(**kwargs) -> None:
    _heartbeat_stop.set()


@worker_shutting_down.connect
def _start_drain(sig: str = "", how: str = "", **kwargs) -> None:
    """SIGTERM (warm shutdown): running runs get EXECUTION_SHUTDOWN_GRACE_SECONDS to finish,
    then are handed over (apps/executions/drain.py)."""
    if how != "Warm":
        return
    from django.conf import settings

    from apps.executions.drain import drain_start

    # This runs inside a signal handler: the Redis call goes to a thread of its own so it
    # cannot wait on a connection-pool lock the interrupted code holds.
    threading.Thread(
        target=drain_start,
        kwargs={"grace_seconds": settings.EXECUTION_SHUTDOWN_GRACE_SECONDS},
        name="drain",
    ).start()


@worker_process_shutdown.connect
def _forget_process_metrics(pid: int | None = None, **kwargs) -> None:
    # A pool process that exits must stop counting in live gauges (autogpt_active_executions).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid or os.getpid())
