from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "apps.users"

    def ready(self) -> None:
        import apps.users.api.schema  # noqa: F401 - registers the OpenAPI auth extension
