from django.core.management.base import BaseCommand

from apps.integrations.services import credentials_rotate


class Command(BaseCommand):
    help = "Encrypt every stored credential again under the first ENCRYPTION_KEY."

    def handle(self, *args, **options) -> None:
        count = credentials_rotate()
        self.stdout.write(f"re-encrypted {count} credential(s)")
