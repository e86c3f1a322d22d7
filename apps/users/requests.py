"""Request types whose `user` is known to be signed in, for views behind a guard that says so.

django-stubs types `request.user` as `User | AnonymousUser`; its documented answer
("How can I create a HttpRequest that's guaranteed to have an authenticated user?") is a request
subclass that narrows `user`, used only as an annotation. The guard, not this type, is what makes
it true: annotate a handler with these only when the view's permissions refuse anonymous callers.
A view open to anyone narrows instead: `request.user if request.user.is_authenticated else None`.
"""

from django.http import HttpRequest
from rest_framework.request import Request

from apps.users.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A page request behind `@login_required`, or to the admin site (staff only)."""

    user: User


class AuthenticatedRequest(Request):
    """An API request behind `IsAuthenticated` (REST_FRAMEWORK's default) or `IsAdminUser`."""

    user: User
