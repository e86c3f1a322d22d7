from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "apps.common"

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        import autogpt.checks  # noqa: F401 - registers the production-safety checks
        from apps.common.logging import request_id_begin, request_id_end

        request_started.connect(request_id_begin, dispatch_uid="common.request_id_begin")
        request_finished.connect(request_id_end, dispatch_uid="common.request_id_end")
