from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from apps.credits import signals as credits
        from apps.credits.models import CreditTransaction
        from apps.executions import signals as executions
        from apps.graphs import signals as graphs
        from apps.integrations import signals as integrations
        from apps.notifications import receivers
        from apps.schedules import signals as schedules
        from apps.store import signals as store

        for signal, receiver in (
            (executions.graph_execution_finished, receivers.on_graph_execution_finished),
            (executions.review_requested, receivers.on_review_requested),
            (credits.balance_low, receivers.on_balance_low),
            (credits.balance_zero, receivers.on_balance_zero),
            (store.submission_reviewed, receivers.on_submission_reviewed),
            (schedules.schedule_attempt_failed, receivers.on_schedule_attempt_failed),
            (integrations.credential_needs_reauth, receivers.on_credential_needs_reauth),
            (graphs.owner_notification_requested, receivers.on_owner_notification_requested),
        ):
            signal.connect(receiver, dispatch_uid=f"notifications.{receiver.__name__}")
        post_save.connect(
            receivers.on_credit_entry,
            sender=CreditTransaction,
            dispatch_uid="notifications.on_credit_entry",
        )
