from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "apps.credits"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_save

        from apps.credits.receivers import grant_signup_credits

        post_save.connect(
            grant_signup_credits, sender=settings.AUTH_USER_MODEL, dispatch_uid="signup-credits"
        )
