"""`python manage.py backup`: a verified pg_dump archive, and old ones removed."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.common.backups import BackupError, backup_create, backup_prune


class Command(BaseCommand):
    help = "Back the PostgreSQL database up (pg_dump, custom format), verify it, prune old ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", default=str(settings.BACKUP_DIR), help="where backups go")
        parser.add_argument(
            "--retention-days",
            type=int,
            default=settings.BACKUP_RETENTION_DAYS,
            help="delete backups older than this (the newest is always kept)",
        )

    def handle(self, *args: object, dir: str, retention_days: int, **options: object) -> None:
        directory = Path(dir)
        try:
            archive = backup_create(directory=directory)
            removed = backup_prune(directory=directory, retention_days=retention_days)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Backup written and verified: {archive.path} "
            f"({archive.entries} entries, {archive.tables} tables of data)"
        )
        for path in removed:
            self.stdout.write(f"Removed (older than {retention_days} days): {path}")
