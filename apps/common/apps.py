from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "apps.common"

    def ready(self) -> None:
        import autogpt.checks  # noqa: F401 - registers the production-safety checks
