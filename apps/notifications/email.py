"""Emails: HTML + text from templates, a signed unsubscribe link, and the daily cap.

The cap is checked and the delivery recorded in one transaction under a lock on the user row
(on SQLite the immediate transaction serialises writers), so a burst of events cannot slip past
`max_emails_per_day`. The user's day is the day in their time zone.
"""

import zoneinfo
from datetime import datetime, time
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from apps.notifications.models import EmailDelivery
from apps.users.models import User

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
ALL = "all"


def user_zone(user: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def unsubscribe_token(user: User, preference: str) -> str:
    return signing.dumps({"u": str(user.pk), "p": preference}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_read(token: str) -> tuple[str, str] | None:
    """(user id, preference or ALL) of a genuine token, else None."""
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or not {"u", "p"} <= set(value):
        return None
    return str(value["u"]), str(value["p"])


def unsubscribe_url(user: User, preference: str) -> str:
    base = settings.SITE_URL.rstrip("/")
    return f"{base}/notifications/unsubscribe/{unsubscribe_token(user, preference)}"


def quota_reserve(*, user: User, kind: str, subject: str) -> bool:
    """Record one email for today if the user's daily cap allows it; False when it does not."""
    with transaction.atomic():
        users = User.objects.select_for_update().only("pk", "max_emails_per_day", "timezone")
        locked = users.get(pk=user.pk)
        zone = user_zone(locked)
        day_start = datetime.combine(timezone.now().astimezone(zone).date(), time(), zone)
        sent = EmailDelivery.objects.filter(user=locked, created_at__gte=day_start).count()
        if sent >= locked.max_emails_per_day:
            return False
        EmailDelivery.objects.create(user=locked, kind=kind, subject=subject[:200])
    return True


def email_send(
    *, user: User, template: str, subject: str, context: dict[str, Any], preference: str | None
) -> None:
    """Render `notifications/email/<template>.txt|.html` and send through Django's backend."""
    unsubscribe = unsubscribe_url(user, preference or ALL)
    context = {
        **context,
        "user": user,
        "site_url": settings.SITE_URL.rstrip("/"),
        "unsubscribe_url": unsubscribe,
        "unsubscribe_what": "these emails" if preference else "all emails",
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"notifications/email/{template}.txt", context),
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(
        render_to_string(f"notifications/email/{template}.html", context), "text/html"
    )
    message.send()
