"""What graphs tell the layers above (webhooks, executions listen)."""

from django.dispatch import Signal

# sender=None; kwargs: graph_id (UUID), version (int, now the active one), user_id (the owner).
# Sent when a version becomes active: a new save, an import or fork, or a switch of versions.
graph_version_activated = Signal()

# A block (Notify Owner) asks for a notification to its run's owner; kwargs: user_id, title,
# message, level, graph_id, graph_exec_id. The receiver delivers it and returns its id.
owner_notification_requested = Signal()

# Sent inside graph_delete's transaction, before the graph and everything under it (its runs
# included) are collected for deletion; kwargs: graph_id (UUID).
graph_deleting = Signal()
