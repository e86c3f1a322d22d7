"""Credits, API keys and the profile."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.common.exceptions import Conflict, PlatformError
from apps.credits import payments
from apps.credits.selectors import credit_balance_get, credit_transaction_list
from apps.dashboard import presenters
from apps.dashboard import selectors as dashboard_selectors
from apps.dashboard.forms import (
    ApiKeyForm,
    ApiKeyPermissionsForm,
    AutoTopUpForm,
    NotificationPreferencesForm,
    ProfileForm,
    TopUpForm,
)
from apps.dashboard.views.common import not_found_as_404
from apps.users import selectors as user_selectors
from apps.users import services as user_services
from apps.users.models import NOTIFICATION_PREFERENCES, APIKey
from apps.users.requests import AuthenticatedHttpRequest

TRANSACTIONS_SHOWN = 50
NEW_KEY_SESSION = "dashboard:new-api-key"


@login_required
def credits_page(
    request: AuthenticatedHttpRequest,
    top_up_form: TopUpForm | None = None,
    auto_form: AutoTopUpForm | None = None,
) -> HttpResponse:
    days = dashboard_selectors.credit_usage_by_day(user=request.user)
    auto = payments.auto_top_up_config_get(user=request.user)
    if auto_form is None:
        initial = {"enabled": auto.enabled, "threshold": auto.threshold, "amount": auto.amount}
        auto_form = AutoTopUpForm(initial=initial)
    return render(
        request,
        "dashboard/credits.html",
        {
            "balance": credit_balance_get(user_id=request.user.pk),
            "transactions": credit_transaction_list(user_id=request.user.pk)[:TRANSACTIONS_SHOWN],
            "chart": presenters.usage_chart(days),
            "payments": payments.payments_configured(),
            "top_up_form": top_up_form or TopUpForm(),
            "auto": auto,
            "auto_form": auto_form,
            "nav_section": "credits",
        },
        status=400 if top_up_form or auto_form.errors else 200,
    )


@login_required
@require_POST
def credits_top_up(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TopUpForm(request.POST)
    if form.is_valid():
        try:
            return redirect(
                payments.top_up_start(user=request.user, amount=form.cleaned_data["amount"])
            )
        except PlatformError as exc:
            form.add_error("amount", exc.message)
    return credits_page(request, top_up_form=form)


@login_required
@require_POST
def credits_auto_top_up(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AutoTopUpForm(request.POST)
    if form.is_valid():
        try:
            payments.auto_top_up_config_set(user=request.user, **form.cleaned_data)
        except PlatformError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Auto top-up saved.")
            return redirect("dashboard:credits")
    return credits_page(request, auto_form=form)


@login_required
def api_keys(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        api_key, plain = user_services.api_key_create(
            user=request.user,
            name=form.cleaned_data["name"],
            permissions=form.cleaned_data["permissions"],
        )
        # Shown once, on the page the redirect leads to; then gone from the session.
        request.session[NEW_KEY_SESSION] = {"name": api_key.name, "key": plain}
        return redirect("dashboard:api-keys")
    return render(
        request,
        "dashboard/api_keys.html",
        {
            "keys": user_selectors.api_key_list(user=request.user),
            "permissions": APIKey.Permission.choices,
            "form": form,
            "new_key": request.session.pop(NEW_KEY_SESSION, None),
            "nav_section": "api-keys",
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
@not_found_as_404
def api_key_revoke(request: AuthenticatedHttpRequest, key_id: uuid.UUID) -> HttpResponse:
    api_key = user_selectors.api_key_get(user=request.user, key_id=key_id)
    user_services.api_key_revoke(api_key=api_key)
    messages.success(request, f"Revoked “{api_key.name}”.")
    return redirect("dashboard:api-keys")


@login_required
@require_POST
@not_found_as_404
def api_key_status(request: AuthenticatedHttpRequest, key_id: uuid.UUID) -> HttpResponse:
    """Suspend (`action=suspend`) or resume a key: a suspended key is refused until resumed."""
    api_key = user_selectors.api_key_get(user=request.user, key_id=key_id)
    suspend = request.POST.get("action") == "suspend"
    change = user_services.api_key_suspend if suspend else user_services.api_key_activate
    try:
        change(api_key=api_key)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{api_key.name}” {'suspended' if suspend else 'resumed'}.")
    return redirect("dashboard:api-keys")


@login_required
@require_POST
@not_found_as_404
def api_key_permissions(request: AuthenticatedHttpRequest, key_id: uuid.UUID) -> HttpResponse:
    api_key = user_selectors.api_key_get(user=request.user, key_id=key_id)
    form = ApiKeyPermissionsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose at least one permission.")
        return redirect("dashboard:api-keys")
    try:
        user_services.api_key_set_permissions(
            api_key=api_key, permissions=form.cleaned_data["permissions"]
        )
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Permissions of “{api_key.name}” saved.")
    return redirect("dashboard:api-keys")


def _preferences_initial(user: object) -> dict:
    names = ["max_emails_per_day", *NOTIFICATION_PREFERENCES]
    return {name: getattr(user, name) for name in names}


@login_required
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Two forms: the profile (name, time zone) and notification preferences (`preferences`)."""
    initial = {"name": request.user.name, "timezone": request.user.timezone}
    posted = request.POST if request.method == "POST" else None
    is_preferences = posted is not None and "preferences" in posted
    form = ProfileForm(None if is_preferences else posted, initial=initial)
    preferences = NotificationPreferencesForm(
        posted if is_preferences else None, initial=_preferences_initial(request.user)
    )
    bound = preferences if is_preferences else form
    if posted is not None and bound.is_valid():
        try:
            user_services.user_update(user=request.user, **bound.cleaned_data)
        except PlatformError as exc:
            bound.add_error(None, exc.message)
        else:
            messages.success(request, "Preferences saved." if is_preferences else "Profile saved.")
            return redirect("dashboard:profile")
    return render(
        request,
        "dashboard/profile.html",
        {"form": form, "preferences": preferences, "nav_section": "profile"},
        status=400 if bound.errors else 200,
    )
