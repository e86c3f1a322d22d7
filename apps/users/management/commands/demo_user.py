from django.conf import settings
from django.core.management.base import BaseCommand

from apps.users.models import User


class Command(BaseCommand):
    help = "Create the demo staff account of the local default (DEBUG only; skipped otherwise)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG:
            # `make run` calls this on every start: with production settings there is no demo
            # account (its password is public), and the platform starts without one.
            self.stdout.write("DEBUG is off: no demo account (sign up, or createsuperuser).")
            return
        email = settings.DEMO_USER_EMAIL
        if User.objects.filter(email=email).exists():
            return
        User.objects.create_superuser(email, settings.DEMO_USER_PASSWORD, name="Demo")
        self.stdout.write(f"Created demo account {email}.")
