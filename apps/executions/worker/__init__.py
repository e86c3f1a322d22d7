"""The worker side of executions: a run held by this worker (`session.RunSession`), its lease
(`lease`), its engine ports (`ports`), its end (`ending`) and the watchdog (`watchdog`)."""

from apps.executions.worker.session import RunSession, graph_execution_run
from apps.executions.worker.watchdog import execution_rescue, execution_watchdog

__all__ = ["RunSession", "execution_rescue", "execution_watchdog", "graph_execution_run"]
