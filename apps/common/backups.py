"""PostgreSQL backups (seed 01 §6.2): `pg_dump --format=custom`, verified by listing the archive
with `pg_restore --list`, old ones removed after BACKUP_RETENTION_DAYS; and the restore.

SQLite is refused with what to do instead: its database is one file that a copy (or sqlite3's
`.backup`) saves whole.
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db import connections

PREFIX = "autogpt_backup_"
SUFFIX = ".dump"
NAME = re.compile(rf"^{PREFIX}(\d{{8}}_\d{{6}}){re.escape(SUFFIX)}$")


class BackupError(Exception):
    """Anything that stops a backup or restore; the message says what to do."""


@dataclass(frozen=True)
class Archive:
    path: Path
    entries: int  # items pg_restore --list found in it
    tables: int  # of which table data


def _postgres(alias: str) -> dict:
    db = connections[alias].settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise BackupError(
            f"backup and restore work on PostgreSQL; this database is SQLite ({db['NAME']}). "
            "Stop the platform and copy that file with its -wal and -shm files, or run "
            f'`sqlite3 {db["NAME"]} ".backup /path/to/copy.sqlite3"` (safe while it runs); to '
            "restore, stop the platform and put the copy back in its place."
        )
    return db


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools "
            "(e.g. `apt-get install postgresql-client`), of the server's major version or newer."
        )
    return found


def _connection_args(db: dict) -> tuple[list[str], dict[str, str]]:
    args = ["--no-password", "--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _run(command: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()}")
    return done.stdout


def archive_verify(path: Path) -> Archive:
    """List the archive's table of contents; an unreadable or empty archive is an error."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    listing = _run([_tool("pg_restore"), "--list", str(path)])
    entries = [line for line in listing.splitlines() if line and not line.startswith(";")]
    if not entries:
        raise BackupError(f"{path} holds nothing to restore.")
    tables = sum(" TABLE DATA " in line for line in entries)
    return Archive(path=path, entries=len(entries), tables=tables)


def backup_create(*, directory: Path, alias: str = "default") -> Archive:
    """Dump the database to `<directory>/autogpt_backup_<UTC time>.dump`, verified. Written to
    a temporary name first, so a failed or partial dump never looks like a backup."""
    db = _postgres(alias)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
    target = directory / f"{PREFIX}{stamp}{SUFFIX}"
    partial = target.with_suffix(".partial")
    args, env = _connection_args(db)
    try:
        _run(
            [_tool("pg_dump"), "--format=custom", "--compress=9", "--file", str(partial), *args],
            env,
        )
        archive_verify(partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return archive_verify(target)


def backup_prune(
    *, directory: Path, retention_days: int, now: datetime | None = None
) -> list[Path]:
    """Delete backups older than `retention_days` (by the time in their name); never the
    newest one, whatever its age."""
    now = now or datetime.now(UTC)
    backups = sorted(
        (datetime.strptime(match[1], "%Y%m%d_%H%M%S").replace(tzinfo=UTC), path)
        for path in directory.glob(f"{PREFIX}*{SUFFIX}")
        if (match := NAME.match(path.name))
    )
    cutoff = now - timedelta(days=retention_days)
    removed = []
    for taken, path in backups[:-1]:
        if taken < cutoff:
            path.unlink()
            removed.append(path)
    return removed


def backup_restore(*, path: Path, alias: str = "default") -> Archive:
    """Restore an archive over the database in one transaction (its objects are dropped and
    recreated; a failure changes nothing). Stop web, workers and beat first."""
    db = _postgres(alias)
    archive = archive_verify(path)
    args, env = _connection_args(db)
    connections[alias].close()
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *args,
            str(path),
        ],
        env,
    )
    return archive
