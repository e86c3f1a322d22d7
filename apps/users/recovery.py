"""Account recovery and email verification on Django's own machinery (SPEC §3): the reset
links are `PasswordResetTokenGenerator` tokens; verification links are tokens of the same
kind with a salt and a hash value of their own, so a reset link never verifies and a
verification link dies once the address is verified or changed."""

import logging

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from apps.users.models import User

logger = logging.getLogger(__name__)


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "apps.users.recovery.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        # Verifying (or changing the address) changes the value: each link works once.
        return f"{user.pk}{user.email}{user.email_verified_at}{timestamp}"


email_verification_tokens = EmailVerificationTokenGenerator()


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")


def user_send_verification_email(*, user: User) -> bool:
    """Mail the user a link that verifies their address; False when it could not be sent (the
    account works meanwhile, and the profile page offers to send it again)."""
    if user.email_verified_at is not None:
        return False
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = email_verification_tokens.make_token(user)
    context = {
        "user": user,
        "link": site_url() + reverse("verify-email", args=[uid, token]),
        "site_url": site_url(),
    }
    message = EmailMultiAlternatives(
        subject="Confirm your email address",
        body=render_to_string("users/emails/verify_email.txt", context),
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string("users/emails/verify_email.html", context), "text/html"
    )
    try:
        message.send()
    except OSError:  # SMTP down or refusing: signing up must not fail for it
        logger.warning("verification email to user %s could not be sent", user.pk, exc_info=True)
        return False
    return True


def user_verify_email(*, uidb64: str, token: str) -> User | None:
    """The user whose address the link verifies (now verified), or None for a bad link."""
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)), is_active=True)
    except (TypeError, ValueError, OverflowError, ValidationError, User.DoesNotExist):
        return None  # not base64, not a UUID, or nobody
    if not email_verification_tokens.check_token(user, token):
        return None
    user_mark_email_verified(user=user)
    return user


def user_mark_email_verified(*, user: User) -> None:
    """Record that the address is the user's (once: the first time stands)."""
    User.objects.filter(pk=user.pk, email_verified_at__isnull=True).update(
        email_verified_at=timezone.now()
    )
    user.refresh_from_db(fields=["email_verified_at"])
