"""What executions tell the layers above (notifications listens)."""

from django.dispatch import Signal

# Sent inside the transaction that ends a run (its writes commit with the final status).
# sender=None; kwargs: execution_id, user_id, graph_id, graph_version, graph_name,
# status (terminal), node_error_count, cost, duration_seconds, parent_id (None at top level)
graph_execution_finished = Signal()

# Sent after the commit that files a human review (SPEC §15). sender=None; kwargs: review_id,
# user_id, graph_exec_id, graph_name, message
review_requested = Signal()
