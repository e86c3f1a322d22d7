"""Builds what a block runs with, from settings and the user: the Django side of the context."""

import contextvars
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.db import connection

from apps.common.exceptions import NotFound, ValidationFailed
from apps.common.safe_http import SafeHttpClient
from apps.graphs import signals
from apps.graphs.blocks.base import Block, BlockInputError, BlockType
from apps.graphs.blocks.context import (
    AgentRunner,
    BlockContext,
    Cancelled,
    CancelToken,
    CredentialsExpired,
    Meter,
    ProviderCredentials,
    ReviewDesk,
    ToolRunner,
)
from apps.graphs.blocks.registry import get_block
from apps.graphs.files import UploadedFiles
from apps.graphs.kv import DatabaseKeyValueStore
from apps.integrations.crypto import SecretUnreadable
from apps.integrations.oauth import oauth2_fresh, oauth2_refresh
from apps.integrations.selectors import (
    CredentialUnusable,
    ResolvedCredential,
    credential_get,
    credential_mismatch,
    credential_resolve,
)
from apps.users.models import User

Credentials = Mapping[str, ProviderCredentials]

logger = logging.getLogger(__name__)


def safe_http_client() -> SafeHttpClient:
    return SafeHttpClient(
        allowed_hosts=settings.BLOCK_HTTP_ALLOWED_HOSTS,
        timeout=settings.BLOCK_HTTP_TIMEOUT_SECONDS,
        max_response_bytes=settings.BLOCK_HTTP_MAX_RESPONSE_BYTES,
    )


def provider_credentials(resolved: ResolvedCredential) -> ProviderCredentials:
    return ProviderCredentials(
        provider=resolved.provider,
        api_key=resolved.api_key,
        base_url=resolved.base_url,
        title=resolved.title,
        id=resolved.id,
        trusted=resolved.trusted,
        credential_type=resolved.credential_type,
        username=resolved.username,
        headers=dict(resolved.headers),
    )


class OAuthRefresher:
    """The context's CredentialRefresher: a provider refused an OAuth2 access token (401), so
    it is refreshed once; a failed refresh has marked the credential `needs_reauth`."""

    def refresh(self, credentials: ProviderCredentials) -> ProviderCredentials:
        if credentials.credential_type != "oauth2" or credentials.id is None:
            raise CredentialsExpired(f"The {credentials.provider} credential was refused.")
        try:
            return provider_credentials(oauth2_refresh(credential_id=credentials.id))
        except CredentialUnusable as exc:
            raise CredentialsExpired(str(exc)) from None


class OwnerNotifier:
    """The context's Notifier: the notifications app (a layer above) answers the signal."""

    def __init__(self, *, user_id: str, graph_id: str | None, graph_exec_id: str | None) -> None:
        self.user_id, self.graph_id, self.graph_exec_id = user_id, graph_id, graph_exec_id

    def notify(self, *, title: str, message: str, level: str = "info") -> str:
        answers = signals.owner_notification_requested.send(
            None,
            user_id=self.user_id,
            title=title,
            message=message,
            level=level,
            graph_id=self.graph_id,
            graph_exec_id=self.graph_exec_id,
        )
        ids = [str(answer) for _, answer in answers if answer]
        if not ids:
            raise RuntimeError("no notification channel is installed")
        return ids[0]


def selected_credential(
    selection: Mapping[str, Any], node_id: str | None, provider: str
) -> str | None:
    """A run's `credentials_inputs` pick a credential per node id, or per provider for every
    node of the run: {"<node id>" | "<provider>": "<credential id>" | {"id": "<credential id>"}}."""
    for key in (node_id, provider):
        value = selection.get(key) if key else None
        if isinstance(value, dict):
            value = value.get("id")
        if value:
            return str(value)
    return None


def block_credentials(
    *,
    user_id: Any,
    block: Block,
    selection: Mapping[str, Any] | None = None,
    node_id: str | None = None,
) -> Credentials:
    """The credentials `block` runs with: the selected one, else the user's newest for its
    provider, else the platform's; none when the block needs none or none is available."""
    provider = block.credentials_provider
    if provider is None:
        return {}
    chosen = selected_credential(selection or {}, node_id, provider)
    try:
        resolved = credential_resolve(
            user_id=user_id,
            provider=provider,
            credential_id=chosen,
            accepted_types=block.credential_types,
        )
        if resolved is not None:
            resolved = oauth2_fresh(resolved)
    except SecretUnreadable:
        logger.error("credential %s of user %s cannot be decrypted", chosen or "-", user_id)
        return {}
    except CredentialUnusable as exc:
        # The node fails with this message, uncharged (an id marks it as the user's own).
        unusable = ProviderCredentials(
            provider=provider, api_key="", base_url="", id=chosen or "unusable", error=str(exc)
        )
        return {provider: unusable}
    return {} if resolved is None else {provider: provider_credentials(resolved)}


def node_credentials_check(*, user_id: Any, block: Block, credential_id: str) -> str | None:
    """Why a node of `block` may not use the credential `credential_id`, or None (save time)."""
    if block.credentials_provider is None:
        return "This block uses no credentials."
    try:
        row = credential_get(user_id=user_id, credential_id=credential_id)
    except NotFound:
        return f"No credential {credential_id} of yours."
    return credential_mismatch(
        row, provider=block.credentials_provider, accepted_types=block.credential_types
    )


def credentials_selection_check(*, user_id: Any, selection: Mapping[str, Any]) -> None:
    """Every credential a run's `credentials_inputs` name must be one of the user's (400)."""
    for key, value in selection.items():
        chosen = value.get("id") if isinstance(value, dict) else value
        if not isinstance(chosen, str) or not chosen:
            raise ValidationFailed(f"credentials_inputs[{key!r}] must be a credential id.")
        try:
            credential_get(user_id=user_id, credential_id=chosen)
        except NotFound:
            raise ValidationFailed(
                f"credentials_inputs[{key!r}]: no credential {chosen} of yours.",
                details={"fields": {key: "unknown credential"}},
            ) from None


def uses_own_credentials(credentials: Credentials) -> bool:
    """With the user's own provider key the call costs the platform nothing (SPEC §9)."""
    return any(not credential.is_platform for credential in credentials.values())


def block_context_build(
    *,
    user: User,
    graph_id: str | None = None,
    graph_version: int | None = None,
    graph_exec_id: str | None = None,
    node_id: str | None = None,
    node_exec_id: str | None = None,
    cancel: CancelToken | None = None,
    agents: AgentRunner | None = None,
    credentials: Credentials | None = None,
    tools: ToolRunner | None = None,
    meter: Meter | None = None,
    review: ReviewDesk | None = None,
) -> BlockContext:
    return BlockContext(
        user_id=str(user.pk),
        user_timezone=user.timezone,
        kv=DatabaseKeyValueStore(user_id=str(user.pk), graph_id=graph_id),
        http=safe_http_client(),
        graph_id=graph_id,
        graph_version=graph_version,
        graph_exec_id=graph_exec_id,
        node_id=node_id,
        node_exec_id=node_exec_id,
        cancel=cancel or CancelToken(),
        agents=agents,
        credentials=dict(credentials or {}),
        files=UploadedFiles(user_id=str(user.pk)),
        tools=tools,
        meter=meter,
        review=review,
        refresher=OAuthRefresher(),
        notifier=OwnerNotifier(
            user_id=str(user.pk), graph_id=graph_id, graph_exec_id=graph_exec_id
        ),
    )


def block_execute(
    *,
    user: User,
    block_id: str,
    data: dict[str, Any],
    before_run: Callable[[Block, Credentials], None] | None = None,
) -> dict[str, list[Any]]:
    """Run one block inline, outside any graph: {pin: [values in order]}.

    `before_run` is called once the input is valid and before the block starts, with the
    credentials it will use (the caller charges for the run there, unless they are the user's
    own; an exception from it stops the run).

    The block runs in a thread of its own so a time limit holds even for a block stuck in I/O;
    on expiry the run is cancelled (it stops at its next sleep tick) and an error is reported.
    """
    block = get_block(block_id)
    if block is None:
        raise NotFound("Block not found.")
    if block.block_type == BlockType.NOTE:
        raise ValidationFailed("Notes are not executed.")
    try:
        block.parse_input(data)
    except BlockInputError as exc:
        raise ValidationFailed(str(exc), details={"fields": exc.errors}) from None
    credentials = block_credentials(user_id=user.pk, block=block)
    if before_run is not None:
        before_run(block, credentials)
    limit = min(block.timeout_seconds, settings.BLOCK_EXECUTE_TIMEOUT_SECONDS)
    context = block_context_build(user=user, credentials=credentials)
    outputs: dict[str, list[Any]] = defaultdict(list)

    def run() -> None:
        try:
            for pin, value in block.execute(data, context):
                outputs[pin].append(value)
        except Cancelled:
            pass
        except Exception as exc:
            logger.warning("block %s raised", block.name, exc_info=True)
            outputs["error"].append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()  # the thread's own database connection

    # In a copy of the request's context, so the block's log lines carry its request and user.
    worker = threading.Thread(
        target=contextvars.copy_context().run, args=(run,), name=f"block-{block.id}", daemon=True
    )
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        context.cancel.cancel()
        return {**outputs, "error": [*outputs.get("error", []), f"timed out after {limit:g} s"]}
    return dict(outputs)
