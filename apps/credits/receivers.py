from typing import Any

from django.db import transaction

from apps.credits.services import credit_signup_grant
from apps.users.models import User


def grant_signup_credits(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    """Every new account gets the sign-up grant, so a new user can run agents at once."""
    if created and not kwargs.get("raw"):
        transaction.on_commit(lambda: credit_signup_grant(user_id=instance.pk))
