"""What apps.executions needs of graphs, in one place: the one module it imports from graphs.

- `runnable_version(user=…, graph_id=…, version=…, inputs=…, credentials_inputs=…)`: a run
  start's check: the version the user may run, compiled (RunnableGraph), validated against the
  run's inputs. `compiled_version(graph_id, version)` is the same compiled version for the worker,
  which holds a run already allowed (cached per process: versions never change).
- RunnableGraph carries the row, the spec, the nodes as the engine runs them (RunnableNode has
  EngineNode's fields), the node rows, the time limit, the named sub-agents, the credentials
  chosen on nodes, and the cost estimate of a run.
- The block-running port the worker hands the engine: credentials, the block context, prices,
  the cancel token and review decisions of SPEC §4/§9 (blocks take what they need from it).
- The graph list's run statistics are recorded by executions: it installs them with
  `run_statistics_install` (graphs serves `GET /api/graphs`).

Also here: the graph rows executions references (Graph for its row lock and the delete signal,
`graph_deleting` sent before a graph's deletion collects its runs, GraphVersion for a shared run's
name, Node for node execution rows), graph_get/preset_get for its views and socket,
graph_version_resolve for a sub-agent resolved as its creator would, and graph_list under the
statistics, graph_version_granted for a retry (a version the user may still read). Not here:
the API serializers executions' own API nests (graphs.api.serializers) and the blocks its
benchmark builds graphs of.

Nothing is defined here: each name lives in the module that owns it.
"""

from apps.graphs.blocks.base import Block, BlockInputError
from apps.graphs.blocks.context import CancelToken, ChargeRefused, PlatformFault, ReviewDecision
from apps.graphs.blocks.registry import get_block
from apps.graphs.compile import (
    CREDENTIALS_METADATA_KEY,
    MAX_TIME_LIMIT_SECONDS,
    RunnableGraph,
    RunnableNode,
    sub_agent_key,
)
from apps.graphs.costs import block_cost_amount, block_time_charge
from apps.graphs.models import Graph, GraphVersion, Node
from apps.graphs.runtime import (
    Credentials,
    block_context_build,
    block_credentials,
    block_execute,
    uses_own_credentials,
)
from apps.graphs.selectors import (
    compiled_version,
    graph_get,
    graph_list,
    graph_version_granted,
    graph_version_resolve,
    preset_get,
    run_statistics_install,
    runnable_version,
)
from apps.graphs.signals import graph_deleting

__all__ = [
    "CREDENTIALS_METADATA_KEY",
    "MAX_TIME_LIMIT_SECONDS",
    "Block",
    "BlockInputError",
    "CancelToken",
    "ChargeRefused",
    "Credentials",
    "Graph",
    "GraphVersion",
    "Node",
    "PlatformFault",
    "ReviewDecision",
    "RunnableGraph",
    "RunnableNode",
    "block_context_build",
    "block_cost_amount",
    "block_credentials",
    "block_execute",
    "block_time_charge",
    "compiled_version",
    "get_block",
    "graph_deleting",
    "graph_get",
    "graph_list",
    "graph_version_granted",
    "graph_version_resolve",
    "preset_get",
    "run_statistics_install",
    "runnable_version",
    "sub_agent_key",
    "uses_own_credentials",
]
