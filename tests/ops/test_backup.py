"""`manage.py backup` / `restore` against the real PostgreSQL; SQLite gets a clear refusal."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from apps.common.backups import archive_verify, backup_prune
from apps.executions.models import GraphExecution, NodeExecution
from apps.executions.services import graph_execution_start
from apps.graphs.compile import graph_spec_from_payload
from apps.graphs.models import Graph, GraphVersion
from apps.graphs.services import graph_create
from apps.users.models import User
from tests.graphs.graphs import echo_graph

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="backups are pg_dump archives")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_backup_drop_restore_round_trips_graphs_and_runs(owner: User, tmp_path: Path) -> None:
    payload = echo_graph()
    version = graph_create(
        user=owner,
        name=payload["name"],
        spec=graph_spec_from_payload(payload["nodes"], payload["links"]),
    )
    run = graph_execution_start(
        user=owner, graph_id=version.graph_id, inputs={"topic": "otters"}, enqueue=False
    )
    node_runs = set(NodeExecution.objects.filter(graph_execution=run).values_list("pk", flat=True))
    assert node_runs

    call_command("backup", dir=str(tmp_path))
    (archive,) = tmp_path.glob("autogpt_backup_*.dump")
    listed = archive_verify(archive)
    assert listed.tables > 10

    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE")
        cursor.execute("CREATE SCHEMA public")
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        assert cursor.fetchone() == (0,)

    call_command("restore", str(archive), yes=True)
    assert Graph.objects.filter(pk=version.graph_id, user=owner).exists()
    restored = GraphVersion.objects.get(graph_id=version.graph_id, version=1)
    assert [node.key for node in restored.nodes.order_by("position")] == ["in", "print", "out"]
    again = GraphExecution.objects.get(pk=run.pk)
    assert again.inputs == {"topic": "otters"}
    assert again.status == "queued"
    assert set(again.node_executions.values_list("pk", flat=True)) == node_runs
    assert User.objects.get(pk=owner.pk).email == "alice@example.com"


@postgres_only
@pytest.mark.django_db
def test_restore_refuses_what_is_not_an_archive(tmp_path: Path) -> None:
    junk = tmp_path / "autogpt_backup_20260101_000000.dump"
    junk.write_bytes(b"not an archive")
    with pytest.raises(CommandError, match="pg_restore failed"):
        call_command("restore", str(junk), yes=True)
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "missing.dump"), yes=True)


@pytest.mark.skipif(ON_POSTGRES, reason="the refusal is for SQLite")
@pytest.mark.django_db
def test_backup_on_sqlite_says_what_to_do_instead(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"SQLite .*sqlite3 .*\.backup"):
        call_command("backup", dir=str(tmp_path))
    with pytest.raises(CommandError, match="SQLite"):
        call_command("restore", str(tmp_path / "x.dump"), yes=True)
    assert list(tmp_path.iterdir()) == []


def test_pruning_removes_old_backups_but_never_the_newest(tmp_path: Path) -> None:
    names = [
        "autogpt_backup_20260101_000000.dump",
        "autogpt_backup_20260301_000000.dump",
        "autogpt_backup_20260320_120000.dump",
        "unrelated_20200101_000000.dump",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    now = datetime(2026, 3, 25, tzinfo=UTC)
    removed = backup_prune(directory=tmp_path, retention_days=10, now=now)
    assert [path.name for path in removed] == names[:2]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(names[2:])
    # Long past the retention, the newest backup still stays.
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert backup_prune(directory=tmp_path, retention_days=10, now=later) == []
