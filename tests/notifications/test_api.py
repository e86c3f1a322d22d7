"""`GET /api/notifications`, mark read, read-all, and the signed unsubscribe link."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.notifications import services
from apps.notifications.models import Notification
from apps.users.models import User

pytestmark = pytest.mark.django_db


def _send(user: User, type: str = "zero_balance", key: str = "1", **data: object) -> Notification:
    notification = services.notification_send(user_id=user.pk, type=type, data=data, dedupe_key=key)
    assert notification is not None
    return notification


def test_list_mark_read_and_read_all(owner: User, owner_client: APIClient, other_user: User):
    first, second, third = (_send(owner, key=str(n)) for n in range(3))
    foreign = _send(other_user)
    body = owner_client.get("/api/notifications").json()
    assert body["total"] == 3
    assert [n["id"] for n in body["data"]] == [str(third.pk), str(second.pk), str(first.pk)]
    read = owner_client.post(f"/api/notifications/{second.pk}/read")
    assert read.status_code == 200
    assert read.json()["is_read"] is True
    unread = owner_client.get("/api/notifications?unread=true").json()
    assert {n["id"] for n in unread["data"]} == {str(first.pk), str(third.pk)}
    assert owner_client.post(f"/api/notifications/{foreign.pk}/read").status_code == 404
    assert owner_client.post("/api/notifications/not-a-uuid/read").status_code == 404
    assert owner_client.post("/api/notifications/read-all").json() == {"marked_read": 2}
    assert owner_client.get("/api/notifications?unread=1").json()["total"] == 0
    assert Notification.objects.get(pk=foreign.pk).read_at is None


def test_the_list_needs_authentication(api_client: APIClient) -> None:
    assert api_client.get("/api/notifications").status_code == 401


def _unsubscribe_link(message) -> str:
    return re.search(r"http://\S+/notifications/unsubscribe/(\S+)", message.body).group(0)


def test_the_signed_unsubscribe_link_works_without_signing_in(
    owner: User, mailoutbox: list
) -> None:
    _send(owner)
    link = _unsubscribe_link(mailoutbox[0]).removeprefix("http://127.0.0.1:8000")
    browser = Client()
    page = browser.get(link)
    assert page.status_code == 200
    assert b"Unsubscribe" in page.content
    owner.refresh_from_db()
    assert owner.notify_on_zero_balance is True  # a GET (a link scanner) changes nothing
    done = browser.post(link)
    assert done.status_code == 200
    assert b"will no longer get these emails" in done.content
    owner.refresh_from_db()
    assert owner.notify_on_zero_balance is False
    assert owner.notify_on_low_balance is True
    assert owner.max_emails_per_day == 3
    # The next one is in-app only.
    assert _send(owner, key="2").email_status == "off"
    assert len(mailoutbox) == 1


def test_a_link_from_an_email_without_a_preference_stops_all_email(
    owner: User, mailoutbox: list
) -> None:
    _send(owner, type="agent_approved", agent_name="Otter", reviewer_comments="Lovely")
    assert mailoutbox[0].subject == "Otter was approved for the store"
    link = _unsubscribe_link(mailoutbox[0]).removeprefix("http://127.0.0.1:8000")
    assert Client().post(link).status_code == 200
    owner.refresh_from_db()
    assert owner.max_emails_per_day == 0
    assert _send(owner, type="agent_rejected", agent_name="Otter").email_status == "capped"


def test_a_forged_unsubscribe_link_is_refused(owner: User, mailoutbox: list) -> None:
    _send(owner)
    link = _unsubscribe_link(mailoutbox[0]).removeprefix("http://127.0.0.1:8000")
    forged = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
    assert Client().get(forged).status_code == 400
    assert Client().post(forged).status_code == 400
    owner.refresh_from_db()
    assert owner.notify_on_zero_balance is True


def test_the_pushed_payload_equals_the_rest_serializer(owner: User, owner_client: APIClient):
    unread = _send(owner, key="a", balance=0)
    read = _send(owner, key="b")
    owner_client.post(f"/api/notifications/{read.pk}/read")
    rest = {n["id"]: n for n in owner_client.get("/api/notifications").json()["data"]}
    for notification in Notification.objects.filter(pk__in=[unread.pk, read.pk]):
        assert services.notification_payload(notification) == rest[str(notification.pk)]
