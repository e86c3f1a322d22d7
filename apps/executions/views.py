"""`/metrics`: every process's metrics (multiprocess mode) plus the run backlog."""

from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from apps.executions.models import ExecutionStatus, GraphExecution


class QueueDepthCollector:
    """Runs waiting for a worker, read from the database (whatever the broker is)."""

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "autogpt_queue_depth", "Graph executions queued and not yet running", labels=["queue"]
        )
        queued = GraphExecution.objects.filter(status=ExecutionStatus.QUEUED).count()
        depth.add_metric(["executions"], queued)
        yield depth


class SharedDirCollector:
    """Every container's directory under METRICS_SHARED_DIR, added up as one."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def collect(self) -> Iterator[Metric]:
        files = [str(path) for path in self.root.glob("*/*.db")]
        return iter(MultiProcessCollector.merge(files, accumulate=True))


def metrics(request: HttpRequest) -> HttpResponse:
    registry = CollectorRegistry()
    if settings.METRICS_SHARED_DIR:
        registry.register(SharedDirCollector(settings.METRICS_SHARED_DIR))
    else:
        MultiProcessCollector(registry)
    registry.register(QueueDepthCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
