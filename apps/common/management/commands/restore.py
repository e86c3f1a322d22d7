"""`python manage.py restore <archive>`: put a backup back over the PostgreSQL database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.common.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a `manage.py backup` archive over the database, in one transaction. "
        "Stop web, workers and beat first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="a .dump file written by `manage.py backup`")
        parser.add_argument(
            "--yes", action="store_true", help="replace the database's contents without asking"
        )

    def handle(self, *args: object, archive: str, yes: bool, **options: object) -> None:
        if not yes:
            answer = input(f"Replace everything in the database with {archive}? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError("Nothing restored.")
        try:
            restored = backup_restore(path=Path(archive))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Restored {restored.path} ({restored.entries} entries).")
