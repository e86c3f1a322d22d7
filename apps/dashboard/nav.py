"""The dashboard's navigation: one list that every page's top bar is drawn from.

A page joins the navigation by adding a `NavItem` here (phase-2 pages: store, library,
schedules, chat, credentials), named by its URL name; `section` is what a view passes as
`nav_section` to mark its entry current.
"""

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    section: str
    label: str
    url_name: str


NAV: tuple[NavItem, ...] = (
    NavItem("agents", "My agents", "dashboard:agents"),
    NavItem("runs", "Runs", "dashboard:runs"),
    NavItem("credits", "Credits", "dashboard:credits"),
)
ACCOUNT_NAV: tuple[NavItem, ...] = (
    NavItem("profile", "Profile", "dashboard:profile"),
    NavItem("api-keys", "API keys", "dashboard:api-keys"),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Template context: `nav` and `account_nav` as (item, url) pairs for signed-in users, and
    the time zone pages show times in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": (), "account_nav": (), "user_timezone": "UTC"}
    return {
        "user_timezone": user.timezone,
        "nav": [(item, reverse(item.url_name)) for item in NAV],
        "account_nav": [(item, reverse(item.url_name)) for item in ACCOUNT_NAV],
    }
