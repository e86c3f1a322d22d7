"""GraphRunCount and the triggers that keep it (issue 23: the graph list's run statistics
scanned the user's whole history). One trigger per change of a run, so no code path that
inserts, updates or deletes runs can miss it. A deleted run that was the newest, or a run whose
creation time is changed (tests, imports), makes the newest be looked up again (an index scan)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


RUNS = "executions_graphexecution"
COUNTS = "executions_graphruncount"
FINISHED = "('completed', 'failed', 'timeout')"
NEWEST = (
    f"(SELECT max(created_at) FROM {RUNS} WHERE user_id = OLD.user_id"
    " AND graph_id = OLD.graph_id AND NOT is_deleted)"
)

POSTGRESQL = [
    f"""
CREATE FUNCTION graph_run_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d_runs int := 0;
    d_finished int := 0;
    d_completed int := 0;
    moved boolean := TG_OP = 'UPDATE' AND OLD.created_at <> NEW.created_at;
BEGIN
    IF TG_OP <> 'INSERT' AND NOT OLD.is_deleted THEN
        d_runs := -1;
        d_finished := -(OLD.status IN {FINISHED})::int;
        d_completed := -(OLD.status = 'completed')::int;
    END IF;
    IF TG_OP <> 'DELETE' AND NOT NEW.is_deleted THEN
        d_runs := d_runs + 1;
        d_finished := d_finished + (NEW.status IN {FINISHED})::int;
        d_completed := d_completed + (NEW.status = 'completed')::int;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {COUNTS} AS c (user_id, graph_id, runs, finished, completed, last_run_at)
        VALUES (NEW.user_id, NEW.graph_id, d_runs, d_finished, d_completed,
                CASE WHEN NEW.is_deleted THEN NULL ELSE NEW.created_at END)
        ON CONFLICT (user_id, graph_id) DO UPDATE SET
            runs = c.runs + EXCLUDED.runs,
            finished = c.finished + EXCLUDED.finished,
            completed = c.completed + EXCLUDED.completed,
            last_run_at = GREATEST(c.last_run_at, EXCLUDED.last_run_at);
    ELSIF d_runs <> 0 OR d_finished <> 0 OR d_completed <> 0 OR moved THEN
        UPDATE {COUNTS} c SET
            runs = c.runs + d_runs,
            finished = c.finished + d_finished,
            completed = c.completed + d_completed,
            last_run_at = CASE
                WHEN moved AND NOT NEW.is_deleted THEN {NEWEST}
                WHEN d_runs > 0 THEN GREATEST(c.last_run_at, NEW.created_at)
                WHEN d_runs < 0 AND OLD.created_at >= c.last_run_at THEN {NEWEST}
                ELSE c.last_run_at END
        WHERE c.user_id = OLD.user_id AND c.graph_id = OLD.graph_id;
    END IF;
    RETURN NULL;
END $$
""",
    f"CREATE TRIGGER graph_run_count_insert AFTER INSERT ON {RUNS}"
    " FOR EACH ROW EXECUTE FUNCTION graph_run_count()",
    f"CREATE TRIGGER graph_run_count_update AFTER UPDATE OF status, is_deleted, created_at"
    f" ON {RUNS} FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status"
    " OR OLD.is_deleted IS DISTINCT FROM NEW.is_deleted OR OLD.created_at <> NEW.created_at)"
    " EXECUTE FUNCTION graph_run_count()",
    f"CREATE TRIGGER graph_run_count_delete AFTER DELETE ON {RUNS}"
    " FOR EACH ROW EXECUTE FUNCTION graph_run_count()",
]
POSTGRESQL_REVERSE = ["DROP FUNCTION graph_run_count() CASCADE"]

SQLITE = [
    f"""
CREATE TRIGGER graph_run_count_insert AFTER INSERT ON {RUNS} WHEN NOT NEW.is_deleted BEGIN
    INSERT OR IGNORE INTO {COUNTS} (user_id, graph_id, runs, finished, completed)
    VALUES (NEW.user_id, NEW.graph_id, 0, 0, 0);
    UPDATE {COUNTS} SET
        runs = runs + 1,
        finished = finished + (NEW.status IN {FINISHED}),
        completed = completed + (NEW.status = 'completed'),
        last_run_at = max(coalesce(last_run_at, NEW.created_at), NEW.created_at)
    WHERE user_id = NEW.user_id AND graph_id = NEW.graph_id;
END
""",
    f"""
CREATE TRIGGER graph_run_count_update AFTER UPDATE OF status, is_deleted, created_at ON {RUNS}
WHEN OLD.status IS NOT NEW.status OR OLD.is_deleted IS NOT NEW.is_deleted
    OR OLD.created_at IS NOT NEW.created_at BEGIN
    INSERT OR IGNORE INTO {COUNTS} (user_id, graph_id, runs, finished, completed)
    SELECT NEW.user_id, NEW.graph_id, 0, 0, 0 WHERE NOT NEW.is_deleted;
    UPDATE {COUNTS} SET
        runs = runs + (NOT NEW.is_deleted) - (NOT OLD.is_deleted),
        finished = finished + (NOT NEW.is_deleted AND NEW.status IN {FINISHED})
            - (NOT OLD.is_deleted AND OLD.status IN {FINISHED}),
        completed = completed + (NOT NEW.is_deleted AND NEW.status = 'completed')
            - (NOT OLD.is_deleted AND OLD.status = 'completed'),
        last_run_at = CASE
            WHEN OLD.created_at IS NOT NEW.created_at AND NOT NEW.is_deleted THEN {NEWEST}
            WHEN NEW.is_deleted AND NOT OLD.is_deleted AND OLD.created_at >= last_run_at
                THEN {NEWEST}
            WHEN OLD.is_deleted AND NOT NEW.is_deleted
                THEN max(coalesce(last_run_at, NEW.created_at), NEW.created_at)
            ELSE last_run_at END
    WHERE user_id = OLD.user_id AND graph_id = OLD.graph_id;
END
""",
    f"""
CREATE TRIGGER graph_run_count_delete AFTER DELETE ON {RUNS} WHEN NOT OLD.is_deleted BEGIN
    UPDATE {COUNTS} SET
        runs = runs - 1,
        finished = finished - (OLD.status IN {FINISHED}),
        completed = completed - (OLD.status = 'completed'),
        last_run_at = CASE WHEN OLD.created_at >= last_run_at THEN {NEWEST} ELSE last_run_at END
    WHERE user_id = OLD.user_id AND graph_id = OLD.graph_id;
END
""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER graph_run_count_{change}" for change in ("insert", "update", "delete")
]

# The runs already there.
BACKFILL = f"""
INSERT INTO {COUNTS} (user_id, graph_id, runs, finished, completed, last_run_at)
SELECT user_id, graph_id, count(*),
       sum(CASE WHEN status IN {FINISHED} THEN 1 ELSE 0 END),
       sum(CASE WHEN status = 'completed' THEN 1 ELSE 0 END),
       max(created_at)
FROM {RUNS} WHERE NOT is_deleted GROUP BY user_id, graph_id
"""


def install(apps, schema_editor) -> None:
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in [*(POSTGRESQL if postgresql else SQLITE), BACKFILL]:
        schema_editor.execute(statement)


def uninstall(apps, schema_editor) -> None:
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRESQL_REVERSE if postgresql else SQLITE_REVERSE:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('executions', '0007_retry_of'),
        ('graphs', '0002_graph_time_limit'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='GraphRunCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('runs', models.IntegerField(default=0)),
                ('finished', models.IntegerField(default=0)),
                ('completed', models.IntegerField(default=0)),
                ('last_run_at', models.DateTimeField(null=True)),
                ('graph', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='graphs.graph')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('user', 'graph'), name='graph_run_count_user_graph')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
