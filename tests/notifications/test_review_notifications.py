"""A human review waiting (SPEC §15): the owner's notification, in-app and by email, links to
the run page."""

import uuid

import pytest

from apps.executions import signals
from apps.notifications import services, tasks
from apps.notifications.models import Notification
from apps.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_tasks(monkeypatch) -> None:
    """The receiver's task body runs in this process, as the worker would run it (Celery's
    eager mode would close the test's database connection after the task)."""

    def run_here(args: list, **options: object) -> None:
        user_id, type, data, dedupe_key = args
        services.notification_send(user_id=user_id, type=type, data=data, dedupe_key=dedupe_key)

    monkeypatch.setattr(tasks.notify, "apply_async", run_here)


def test_it_notifies_the_owner_with_a_link_to_the_run(
    owner: User, mailoutbox: list, eager_tasks
) -> None:
    review_id, run_id = uuid.uuid4(), uuid.uuid4()
    for _ in range(2):  # a repeated signal delivers nothing twice
        signals.review_requested.send(
            None,
            review_id=review_id,
            user_id=owner.pk,
            graph_exec_id=run_id,
            graph_name="Newsletter",
            message="Send this draft?",
        )
    notification = Notification.objects.get(user=owner)
    assert notification.type == "review_requested"
    assert notification.title == "Newsletter waits for your review"
    link = f"http://127.0.0.1:8000/runs/{run_id}"
    assert notification.message == f"Send this draft? Review it: {link}"
    assert notification.data["review_id"] == str(review_id)
    [email] = mailoutbox
    assert email.subject == "Newsletter waits for your review"
    assert link in email.body


def test_with_its_preference_off_it_is_in_app_only(
    owner: User, mailoutbox: list, eager_tasks
) -> None:
    User.objects.filter(pk=owner.pk).update(notify_on_review_requested=False)
    signals.review_requested.send(
        None,
        review_id=uuid.uuid4(),
        user_id=owner.pk,
        graph_exec_id=uuid.uuid4(),
        graph_name="Newsletter",
        message="",
    )
    notification = Notification.objects.get(user=owner)
    assert notification.email_status == "off"
    assert notification.message.startswith("A run needs your decision. Review it: http")
    assert mailoutbox == []
