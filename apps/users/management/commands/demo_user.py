from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.users.models import User


class Command(BaseCommand):
    help = "Create the demo staff account of the local default (DEBUG only)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG:
            raise CommandError("The demo account exists only with DEBUG on.")
        email = settings.DEMO_USER_EMAIL
        if User.objects.filter(email=email).exists():
            return
        User.objects.create_superuser(email, settings.DEMO_USER_PASSWORD, name="Demo")
        self.stdout.write(f"Created demo account {email}.")
