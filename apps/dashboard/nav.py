"""The dashboard's navigation: one list that every page's top bar is drawn from.

A page joins the navigation by adding a `NavItem` here (store, library, schedules, chat,
credentials…), named by its URL name; `section` is what a view passes as `nav_section` to mark
its entry current. An item with a `badge` shows a count next to its label on every page (e.g.
unread notifications): a function of the user, one cheap query; the element carries
`data-nav-badge="<section>"` so a script can update it live.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from apps.notifications import selectors as notification_selectors


@dataclass(frozen=True)
class NavItem:
    section: str
    label: str
    url_name: str
    badge: Callable[[Any], int] | None = None


def unread_notifications(user: Any) -> int:
    return notification_selectors.notification_list(user=user, unread=True).count()


NAV: tuple[NavItem, ...] = (
    NavItem("agents", "My agents", "dashboard:agents"),
    NavItem("runs", "Runs", "dashboard:runs"),
    NavItem("store", "Store", "dashboard:store"),
    NavItem("library", "Library", "dashboard:library"),
    NavItem("blocks", "Blocks", "dashboard:blocks"),
    NavItem("chat", "Chat", "dashboard:chat"),
    NavItem("credits", "Credits", "dashboard:credits"),
)
# Shown beside the account menu, with its unread count.
NOTIFICATIONS = NavItem(
    "notifications", "Notifications", "dashboard:notifications", badge=unread_notifications
)
# Folded into the account menu (a <details> dropdown), so the bar stays one line.
ACCOUNT_NAV: tuple[NavItem, ...] = (
    NavItem("profile", "Profile", "dashboard:profile"),
    NavItem("credentials", "Credentials", "dashboard:credentials"),
    NavItem("files", "Files", "dashboard:files"),
    NavItem("api-keys", "API keys", "dashboard:api-keys"),
)


def _entry(item: NavItem, user: Any) -> tuple[NavItem, str, int | None]:
    return item, reverse(item.url_name), item.badge(user) if item.badge else None


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Template context: `nav`, `notifications_nav` and `account_nav` as (item, url, badge
    count or None) for signed-in users, and the time zone pages show times in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": (), "notifications_nav": (), "account_nav": (), "user_timezone": "UTC"}
    return {
        "user_timezone": user.timezone,
        "nav": [_entry(item, user) for item in NAV],
        "notifications_nav": [_entry(NOTIFICATIONS, user)],
        "account_nav": [_entry(item, user) for item in ACCOUNT_NAV],
    }
