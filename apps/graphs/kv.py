"""The database-backed KeyValueStore handed to blocks through their context."""

from typing import Any

from apps.graphs.models import KeyValue

SCOPES = ("agent", "user")


class DatabaseKeyValueStore:
    def __init__(self, *, user_id: str, graph_id: str | None) -> None:
        self.user_id = user_id
        self.graph_id = graph_id

    def _scope(self, scope: str) -> str:
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
        # Without a graph (a block run on its own) "agent" values are private to such runs.
        return f"graph:{self.graph_id or '-'}" if scope == "agent" else ""

    def get(self, key: str, *, scope: str) -> Any:
        row = KeyValue.objects.filter(
            user_id=self.user_id, scope=self._scope(scope), key=key
        ).first()
        return None if row is None else row.value

    def set(self, key: str, value: Any, *, scope: str) -> None:
        KeyValue.objects.update_or_create(
            user_id=self.user_id, scope=self._scope(scope), key=key, defaults={"value": value}
        )
