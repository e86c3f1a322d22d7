"""Provider credentials (the key is write-only: never shown back) and chat (sessions; a reply
is streamed into the page from the chat API's server-sent events by static/js/live.js)."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.chat import selectors as chat_selectors
from apps.chat import services as chat_services
from apps.chat.copilot import actions as copilot_actions
from apps.common.exceptions import NotFound, PlatformError
from apps.dashboard.forms import ChatSessionForm, CredentialForm
from apps.dashboard.views.common import not_found_as_404
from apps.graphs import selectors as graph_selectors
from apps.graphs.blocks import llm
from apps.integrations import oauth, providers
from apps.integrations import selectors as integration_selectors
from apps.integrations import services as integration_services
from apps.users.requests import AuthenticatedHttpRequest

MESSAGES_SHOWN = 200


def _provider_choices() -> list[tuple[str, str]]:
    return [(p.name, p.title) for p in providers.PROVIDERS.values()]


def _form_field(exc: PlatformError, form: CredentialForm) -> str | None:
    fields = exc.details.get("fields")
    if isinstance(fields, dict):
        return next((name for name in fields if name in form.fields), None)
    return None


@login_required
def credentials(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CredentialForm(request.POST or None, providers=_provider_choices())
    if request.method == "POST" and form.is_valid():
        try:
            credential = integration_services.credential_create(
                user=request.user, **form.cleaned_data
            )
        except PlatformError as exc:
            form.add_error(_form_field(exc, form), exc.message)
        else:
            messages.success(request, f"Saved “{credential.title}”.")
            return redirect("dashboard:credentials")
    rows = integration_selectors.credential_list(user=request.user).order_by("-created_at")
    using = graph_selectors.graphs_using_credentials(user=request.user)
    connectable = [
        p for p in providers.PROVIDERS.values() if p.oauth2 and providers.oauth_client(p.name)
    ]
    return render(
        request,
        "dashboard/credentials.html",
        {
            "credentials": [(row, using.get(str(row.pk), [])) for row in rows],
            "form": form,
            "connectable": connectable,
            "provider_titles": dict(_provider_choices()),
            "platform_key": bool(providers.platform_api_key(llm.PROVIDER)),
            "nav_section": "credentials",
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def credential_connect(request: AuthenticatedHttpRequest, provider: str) -> HttpResponse:
    """ "Connect": to the provider's consent page (SPEC §16); it returns to oauth2_callback.
    `credential_id` renews a credential that needs re-authorization."""
    try:
        url = oauth.oauth2_authorize_start(
            user=request.user,
            provider=provider,
            redirect_uri=request.build_absolute_uri(reverse("dashboard:oauth2-callback")),
            title=request.POST.get("title", ""),
            credential_id=request.POST.get("credential_id") or None,
            base_url=request.POST.get("base_url", ""),
        )
    except PlatformError as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:credentials")
    return redirect(url)


@login_required
def oauth2_callback(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        credential = oauth.oauth2_callback(
            user=request.user,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
        )
    except PlatformError as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:credentials")
    messages.success(request, f"Connected “{credential.title}”.")
    return redirect("dashboard:credentials")


@login_required
@require_POST
@not_found_as_404
def credential_delete(request: AuthenticatedHttpRequest, credential_id: uuid.UUID) -> HttpResponse:
    credential = integration_selectors.credential_get(
        user=request.user, credential_id=credential_id
    )
    integration_services.credential_delete(user=request.user, credential_id=credential.pk)
    messages.success(request, f"Deleted “{credential.title}”.")
    return redirect("dashboard:credentials")


def _session_form(request: AuthenticatedHttpRequest, data: object = None) -> ChatSessionForm:
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
    request: AuthenticatedHttpRequest,
    session_id: uuid.UUID | None = None,
    form: ChatSessionForm | None = None,
) -> HttpResponse:
    session = None
    chat_messages: list = []
    if session_id is not None:
        session = chat_selectors.chat_session_get(user=request.user, session_id=session_id)
        chat_messages = list(session.messages.all())[-MESSAGES_SHOWN:]
        # What the copilot made, shown under the tool result that made it.
        proposals = {p.message_id: p for p in session.proposals.all()}
        runs = {r.message_id: r for r in session.runs.all()}
        # Attributes for the template only; the model declares neither.
        for message in chat_messages:
            message.proposal = proposals.get(message.pk)  # type: ignore[attr-defined]
            message.run = runs.get(message.pk)  # type: ignore[attr-defined]
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
def chat(request: AuthenticatedHttpRequest) -> HttpResponse:
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
                copilot=data["copilot"],
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
def chat_session(request: AuthenticatedHttpRequest, session_id: uuid.UUID) -> HttpResponse:
    return _chat_page(request, session_id)


@login_required
@require_POST
@not_found_as_404
def chat_session_delete(request: AuthenticatedHttpRequest, session_id: uuid.UUID) -> HttpResponse:
    chat_services.chat_session_delete(user=request.user, session_id=session_id)
    messages.success(request, "Chat deleted.")
    return redirect("dashboard:chat")


def _back_to_chat(session_id: uuid.UUID) -> HttpResponse:
    return redirect("dashboard:chat-session", session_id=session_id)


@login_required
@require_POST
@not_found_as_404
def chat_proposal_save(request: AuthenticatedHttpRequest, proposal_id: uuid.UUID) -> HttpResponse:
    """The user's click that makes a copilot's proposal an agent (SPEC §18)."""
    proposal = copilot_actions.copilot_proposal_get(user=request.user, proposal_id=proposal_id)
    try:
        version = copilot_actions.copilot_proposal_save(
            user=request.user, proposal_id=proposal_id, save_as=request.POST.get("save_as")
        )
    except PlatformError as exc:
        messages.error(request, f"Not saved: {exc.message}")
    else:
        messages.success(request, f"Saved “{version.name}” as version {version.version}.")
    return _back_to_chat(proposal.session_id)


@login_required
@require_POST
@not_found_as_404
def chat_run_decide(request: AuthenticatedHttpRequest, run_id: uuid.UUID) -> HttpResponse:
    """The user's answer to a run the copilot asked for: `confirm` starts it."""
    run = copilot_actions.copilot_run_get(user=request.user, run_id=run_id)
    decide = (
        copilot_actions.copilot_run_confirm
        if request.POST.get("decision") == "confirm"
        else copilot_actions.copilot_run_decline
    )
    try:
        decided = decide(user=request.user, run_id=run_id)
    except PlatformError as exc:
        messages.error(request, f"Not started: {exc.message}")
    else:
        messages.success(request, f"Run of “{decided.graph_name}”: {decided.status}.")
    return _back_to_chat(run.session_id)
