"""Provider credentials (the key is write-only: never shown back) and chat (sessions; a reply
is streamed into the page from the chat API's server-sent events by static/js/live.js)."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.chat import selectors as chat_selectors
from apps.chat import services as chat_services
from apps.common.exceptions import NotFound, PlatformError
from apps.dashboard.forms import ChatSessionForm, CredentialForm
from apps.dashboard.views.common import not_found_as_404
from apps.graphs.blocks import llm
from apps.integrations import providers
from apps.integrations import selectors as integration_selectors
from apps.integrations import services as integration_services

MESSAGES_SHOWN = 200


def _provider_choices() -> list[tuple[str, str]]:
    return [(p.name, p.title) for p in providers.PROVIDERS.values()]


@login_required
def credentials(request: HttpRequest) -> HttpResponse:
    form = CredentialForm(request.POST or None, providers=_provider_choices())
    if request.method == "POST" and form.is_valid():
        try:
            credential = integration_services.credential_create(
                user=request.user, **form.cleaned_data
            )
        except PlatformError as exc:
            fields = exc.details.get("fields")
            field = "base_url" if isinstance(fields, dict) and "base_url" in fields else None
            form.add_error(field, exc.message)
        else:
            messages.success(request, f"Saved “{credential.title}”.")
            return redirect("dashboard:credentials")
    rows = integration_selectors.credential_list(user=request.user).order_by("-created_at")
    return render(
        request,
        "dashboard/credentials.html",
        {
            "credentials": rows,
            "form": form,
            "provider_titles": dict(_provider_choices()),
            "platform_key": bool(providers.platform_api_key(llm.PROVIDER)),
            "nav_section": "credentials",
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
@not_found_as_404
def credential_delete(request: HttpRequest, credential_id: uuid.UUID) -> HttpResponse:
    credential = integration_selectors.credential_get(
        user=request.user, credential_id=credential_id
    )
    integration_services.credential_delete(user=request.user, credential_id=credential.pk)
    messages.success(request, f"Deleted “{credential.title}”.")
    return redirect("dashboard:credentials")


def _session_form(request: HttpRequest, data: object = None) -> ChatSessionForm:
    rows = integration_selectors.credential_list(user=request.user).filter(provider=llm.PROVIDER)
    return ChatSessionForm(
        data,
        models=[
            (m.id, f"{m.title} · {m.cost} credit{'s' if m.cost != 1 else ''} a reply")
            for m in llm.MODELS
        ],
        credentials=[(str(c.pk), c.title) for c in rows.order_by("-created_at")],
    )


def _chat_page(
    request: HttpRequest,
    session_id: uuid.UUID | None = None,
    form: ChatSessionForm | None = None,
) -> HttpResponse:
    session = None
    chat_messages: list = []
    if session_id is not None:
        session = chat_selectors.chat_session_get(user=request.user, session_id=session_id)
        chat_messages = list(session.messages.all())[-MESSAGES_SHOWN:]
    model = llm.MODELS_BY_ID.get(session.model) if session else None
    return render(
        request,
        "dashboard/chat.html",
        {
            "sessions": chat_selectors.chat_session_list(user=request.user)
            .select_related("credential")
            .order_by("-updated_at")[:100],
            "session": session,
            "chat_messages": chat_messages,
            "model": model,
            "platform_key": bool(providers.platform_api_key(llm.PROVIDER)),
            "session_form": form or _session_form(request),
            "nav_section": "chat",
        },
        status=400 if form is not None else 200,
    )


@login_required
def chat(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _chat_page(request)
    form = _session_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            session = chat_services.chat_session_create(
                user=request.user,
                title=data["title"],
                model=data["model"],
                system_prompt=data["system_prompt"],
                credential_id=data["credential"] or None,
            )
        except NotFound:
            form.add_error("credential", "That credential is gone; pick another.")
        except PlatformError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("dashboard:chat-session", session_id=session.pk)
    return _chat_page(request, form=form)


@login_required
@not_found_as_404
def chat_session(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    return _chat_page(request, session_id)


@login_required
@require_POST
@not_found_as_404
def chat_session_delete(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    chat_services.chat_session_delete(user=request.user, session_id=session_id)
    messages.success(request, "Chat deleted.")
    return redirect("dashboard:chat")
