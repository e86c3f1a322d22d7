"""What users tell the layers above (executions listen)."""

from django.dispatch import Signal

# Sent inside users_delete's transaction, before the users and everything under them (graphs,
# runs, the ledger) are collected for deletion; kwargs: user_ids (a list of primary keys).
users_deleting = Signal()
