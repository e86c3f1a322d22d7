"""Writes for notifications: create and deliver one, the run-finished rules (digest, back-off),
the digest and summary jobs, reading state, and unsubscribing.

Delivery of one notification: it is stored (idempotent per `dedupe_key`), pushed on the user's
/ws group after commit, and emailed when the preference for its type is on and the daily cap
allows; `agent_run` waits for the digest instead.
"""

import functools
import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field, Model
from django.utils import timezone

from apps.common.dates import datetime_text
from apps.notifications import content, email, selectors
from apps.notifications.models import Notification, NotificationBackoff
from apps.notifications.models import NotificationType as T
from apps.realtime import events
from apps.users.models import User
from apps.users.services import user_update

logger = logging.getLogger(__name__)
Email = Notification.Email
NOTIFICATION_EVENT = "notification"


def notification_payload(notification: Notification) -> dict[str, Any]:
    """NotificationSerializer's output, built directly: one goes out at the end of every run
    (a test holds the two equal)."""
    return {
        "id": str(notification.id),
        "type": notification.type,
        "title": notification.title,
        "message": notification.message,
        "data": notification.data,
        "is_read": notification.read_at is not None,
        **{name: datetime_text(getattr(notification, name)) for name in ("read_at", "created_at")},
    }


def _push(notification: Notification) -> None:
    group = events.user_group(str(notification.user_id))
    data = notification_payload(notification)
    events.publish([(group, events.message(NOTIFICATION_EVENT, data, group))])


def _preference_on(user: User, type: str) -> bool:
    preference = content.PREFERENCE.get(type)
    return preference is None or bool(getattr(user, preference))


def _email_one(notification: Notification, user: User) -> str:
    if not _preference_on(user, notification.type):
        return Email.OFF
    if not email.quota_reserve(user=user, kind=notification.type, subject=notification.title):
        return Email.CAPPED
    template = "summary" if notification.type.endswith("_summary") else "notification"
    try:
        email.email_send(
            user=user,
            template=template,
            subject=notification.title,
            context={"notification": notification, "data": notification.data},
            preference=content.PREFERENCE.get(notification.type),
        )
    except Exception:
        logger.exception("could not email notification %s", notification.pk)
        return Email.FAILED
    return Email.SENT


_INSERT = (
    "INSERT INTO {notifications} (id, user_id, type, title, message, data, dedupe_key,"
    " email_status, created_at) SELECT %s, id, %s, %s, %s, %s, %s, {status}, %s FROM {users}"
    " WHERE id = %s AND is_active ON CONFLICT (user_id, type, dedupe_key) DO NOTHING"
    " RETURNING email_status"
)
_END_BACKOFF = f"DELETE FROM {NotificationBackoff._meta.db_table} WHERE user_id = %s AND key = %s"


def _field(model: type[Model], name: str) -> "Field[Any, Any]":  # generic only to mypy
    found = model._meta.get_field(name)
    if not isinstance(found, Field):  # a reverse relation: no column of this table
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return found


def _insert(notification: Notification, *, digest: bool) -> str | None:
    """Write `notification` in one statement, on the condition that its user is active and its
    (user, type, dedupe_key) is new; returns the email status written, or None for no row.

    Plain SQL: one of these is written at the end of every run, and loading the user, a
    savepoint and the ORM's insert cost several times the statement. A digest type's status
    comes from the user's preference in the same statement."""
    if digest:
        column = _field(User, content.PREFERENCE[notification.type]).column
        status = f"CASE WHEN {column} THEN '{Email.PENDING}' ELSE '{Email.OFF}' END"
    else:
        status = f"'{Email.NONE}'"
    sql = _INSERT.format(
        notifications=Notification._meta.db_table, users=User._meta.db_table, status=status
    )
    field = functools.partial(_field, Notification)
    user_pk = field("user").get_db_prep_value(notification.user_id, connection)
    params = [
        field("id").get_db_prep_value(notification.id, connection),
        notification.type,
        notification.title,
        notification.message,
        field("data").get_db_prep_save(notification.data, connection),
        notification.dedupe_key,
        field("created_at").get_db_prep_value(notification.created_at, connection),
        user_pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def notification_send(
    *, user_id: uuid.UUID | str, type: str, data: dict[str, Any], dedupe_key: str
) -> Notification | None:
    """Store, push and (maybe) email one notification. A second call with the same
    (user, type, dedupe_key) returns the first and delivers nothing again. A user who is gone
    or inactive gets nothing (None)."""
    title, message = content.render(type, data)
    notification = Notification(
        user_id=uuid.UUID(str(user_id)), type=type, title=title, message=message, data=data,
        dedupe_key=dedupe_key, created_at=timezone.now(),
    )  # fmt: skip
    # `agent_run` waits for the digest, so its email status is known when the row is written.
    digest = type == T.AGENT_RUN
    status = _insert(notification, digest=digest)
    if status is None:  # a retry (the first is returned), or no such active user
        return Notification.objects.filter(
            user_id=notification.user_id, type=type, dedupe_key=dedupe_key
        ).first()
    notification.email_status = status
    transaction.on_commit(lambda: _push(notification))
    if not digest:
        user = User.objects.get(pk=notification.user_id)
        notification.email_status = _email_one(notification, user)
        Notification.objects.filter(pk=notification.pk).update(
            email_status=notification.email_status
        )
    return notification


def _backoff_allows(user_id: Any, key: str) -> int | None:
    """None while `key` is backed off (the event is counted); else the number of events held
    back since the last notice, and the next window (doubling, capped) starts."""
    now = timezone.now()
    with transaction.atomic():
        NotificationBackoff.objects.get_or_create(user_id=user_id, key=key)
        row = NotificationBackoff.objects.select_for_update().get(user_id=user_id, key=key)
        if row.next_allowed_at and now < row.next_allowed_at:
            row.suppressed += 1
            row.save(update_fields=["suppressed"])
            return None
        held, row.suppressed = row.suppressed, 0
        row.sent += 1
        minutes = min(
            settings.NOTIFICATION_BACKOFF_MINUTES * 2 ** (row.sent - 1),
            settings.NOTIFICATION_BACKOFF_MAX_MINUTES,
        )
        row.next_allowed_at = now + timedelta(minutes=minutes)
        row.save()
    return held


def run_finished_notify(
    *,
    execution_id: str,
    user_id: str,
    graph_id: str,
    graph_version: int,
    graph_name: str,
    status: str,
    node_error_count: int,
    cost: int,
    duration_seconds: float,
    error_message: str = "",
) -> None:
    """A top-level run ended: an `agent_run` notification (emailed in the digest) and, when
    nodes failed, `block_execution_failed`, backed off per graph. A clean run ends the back-off."""
    data = {
        "execution_id": str(execution_id),
        "graph_id": str(graph_id),
        "graph_version": graph_version,
        "graph_name": graph_name,
        "status": status,
        "node_error_count": node_error_count,
        # A run that completed with failed nodes says so, with its first error (SPEC §17).
        "outcome": content.run_outcome(status, node_error_count),
        "error_message": (error_message or "")[:1000],
        "cost": cost,
        "duration_seconds": round(duration_seconds, 3),
    }
    notification_send(
        user_id=user_id, type=T.AGENT_RUN, data=data, dedupe_key=f"run:{execution_id}"
    )
    backoff_key = f"block-failed:{graph_id}"
    if node_error_count > 0:
        held = _backoff_allows(user_id, backoff_key)
        if held is not None:
            notification_send(
                user_id=user_id,
                type=T.BLOCK_EXECUTION_FAILED,
                data={**data, "suppressed": held},
                dedupe_key=f"block-failed:{execution_id}",
            )
    elif status == "completed":
        with connection.cursor() as cursor:  # on every clean run: plain SQL, as _insert
            user_pk = User._meta.pk.get_db_prep_value(user_id, connection)
            cursor.execute(_END_BACKOFF, [user_pk, backoff_key])


def notification_digests_send() -> int:
    """Email each user one digest of their finished runs waiting for it, grouped by agent;
    returns the number of emails sent. Runs past the daily cap are marked `capped`."""
    sent = 0
    for user_id in selectors.digest_pending_user_ids():
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=user_id)
            pending = list(
                Notification.objects.filter(
                    user=user, type=T.AGENT_RUN, email_status=Email.PENDING
                ).order_by("created_at")
            )
            if not pending:
                continue
            subject = f"Your agents ran {len(pending)} time{'s' if len(pending) != 1 else ''}"
            allowed = email.quota_reserve(user=user, kind="digest", subject=subject)
            status = Email.SENT if allowed else Email.CAPPED
            Notification.objects.filter(pk__in=[n.pk for n in pending]).update(email_status=status)
        if not allowed:
            continue
        try:
            email.email_send(
                user=user,
                template="digest",
                subject=subject,
                context={"groups": selectors.digest_groups(pending), "total": len(pending)},
                preference=content.PREFERENCE[T.AGENT_RUN],
            )
        except Exception:
            logger.exception("could not email the digest of user %s", user_id)
            Notification.objects.filter(pk__in=[n.pk for n in pending]).update(
                email_status=Email.FAILED
            )
            continue
        sent += 1
    return sent


SUMMARY_TYPES = (T.DAILY_SUMMARY, T.WEEKLY_SUMMARY, T.MONTHLY_SUMMARY)


def notification_summaries_send() -> int:
    """For every user with runs lately: the summary of each period (day, ISO week, month) that
    has just ended in their time zone, once per period (the period is the dedupe key). Empty
    periods send nothing. Returns how many summaries were created."""
    now = timezone.now()
    created = 0
    for user in selectors.summary_candidates(now=now):
        zone = email.user_zone(user)
        for type in SUMMARY_TYPES:
            start, end = selectors.previous_period(type, now.astimezone(zone))
            key = f"{type}:{start.date().isoformat()}"
            if Notification.objects.filter(user=user, type=type, dedupe_key=key).exists():
                continue
            stats = selectors.run_summary(user=user, start=start, end=end)
            if stats["runs"] == 0:
                continue
            data = {**stats, "period_start": start.isoformat(), "period_end": end.isoformat()}
            if notification_send(user_id=user.pk, type=type, data=data, dedupe_key=key):
                created += 1
    return created


def notification_mark_read(*, user: User, notification_id: uuid.UUID | str) -> Notification:
    notification = selectors.notification_get(user=user, notification_id=notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notification_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notification_unsubscribe(*, token: str) -> tuple[User, str] | None:
    """Turn off what a signed unsubscribe link names: one type's emails, or all emails (a daily
    cap of 0). None for a forged or stale token. No login needed: the signature is the proof."""
    found = email.unsubscribe_read(token)
    if found is None:
        return None
    user_id, preference = found
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return None
    if preference == email.ALL:
        user_update(user=user, max_emails_per_day=0)
    elif preference in content.PREFERENCE.values():
        user_update(user=user, **{preference: False})
    else:
        return None
    return user, preference
