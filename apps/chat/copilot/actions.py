"""What only the user decides (SPEC §18): saving a proposal as an agent, and starting (or
declining) a run the copilot asked for. The model has no tool for either."""

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.chat import live
from apps.chat.models import CopilotProposal, CopilotRun
from apps.common.exceptions import Conflict, NotFound, PlatformError, ValidationFailed
from apps.executions.services import graph_execution_start
from apps.graphs import services as graph_services
from apps.graphs.compile import graph_spec_from_payload
from apps.graphs.models import GraphVersion
from apps.users.models import User


def _uuid(value: uuid.UUID | str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"{what} not found.") from None


def copilot_proposal_get(*, user: User, proposal_id: uuid.UUID | str) -> CopilotProposal:
    found = (
        CopilotProposal.objects.select_related("session")
        .filter(pk=_uuid(proposal_id, "Proposal"), session__user=user)
        .first()
    )
    if found is None:
        raise NotFound("Proposal not found.")
    return found


def copilot_run_get(*, user: User, run_id: uuid.UUID | str) -> CopilotRun:
    found = CopilotRun.objects.filter(pk=_uuid(run_id, "Run request"), session__user=user).first()
    if found is None:
        raise NotFound("Run request not found.")
    return found


SAVE_AS_NEW = "new"
SAVE_AS_VERSION = "version"


@transaction.atomic
def copilot_proposal_save(
    *, user: User, proposal_id: uuid.UUID | str, save_as: str | None = None
) -> GraphVersion:
    """Save the proposal, on the user's click, as a new agent or (`version`, the default when
    it changes an agent) as a new version of the agent under discussion. The graphs service
    validates it again (400 with node_errors); a proposal is saved once (409 after)."""
    proposal = copilot_proposal_get(user=user, proposal_id=proposal_id)
    proposal = CopilotProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status == CopilotProposal.Status.SAVED:
        raise Conflict("This proposal is already saved.")
    save_as = save_as or (SAVE_AS_VERSION if proposal.base_graph_id else SAVE_AS_NEW)
    if save_as not in (SAVE_AS_NEW, SAVE_AS_VERSION):
        raise ValidationFailed('save_as must be "new" or "version".')
    spec = graph_spec_from_payload(proposal.nodes, proposal.links)
    fields: dict[str, Any] = {
        "user": user,
        "name": proposal.name,
        "description": proposal.description,
    }
    if save_as == SAVE_AS_VERSION:
        if proposal.base_graph_id is None:
            raise ValidationFailed("This proposal changes no agent: save it as a new one.")
        version = graph_services.graph_update(graph_id=proposal.base_graph_id, spec=spec, **fields)
    else:
        version = graph_services.graph_create(spec=spec, **fields)
    proposal.status = CopilotProposal.Status.SAVED
    proposal.saved_graph_id, proposal.saved_version = version.graph_id, version.version
    proposal.save(update_fields=["status", "saved_graph", "saved_version"])
    return version


def _announce(run: CopilotRun) -> None:
    data = {
        "session_id": str(run.session_id),
        "run_request_id": str(run.pk),
        "status": run.status,
        "execution_id": str(run.execution_id) if run.execution_id else None,
        "error": run.error or None,
    }
    transaction.on_commit(lambda: live.publish_to_user(run.session.user_id, live.CHAT_RUN, data))


def copilot_run_confirm(*, user: User, run_id: uuid.UUID | str) -> CopilotRun:
    """Start the run the user confirmed, with the inputs the copilot asked for. Once only (409
    when already decided). A run the platform refuses (inputs, credits, graph) is marked
    refused with the reason, and the reason is raised in the usual error shape."""
    refusal: PlatformError | None = None
    with transaction.atomic():
        run = copilot_run_get(user=user, run_id=run_id)
        run = CopilotRun.objects.select_for_update().select_related("session").get(pk=run.pk)
        if run.status != CopilotRun.Status.PENDING:
            raise Conflict(f"This run request is already {run.status}.")
        run.decided_at = timezone.now()
        try:
            run.execution = graph_execution_start(
                user=user, graph_id=run.graph_id, graph_version=run.graph_version, inputs=run.inputs
            )
            run.status = CopilotRun.Status.STARTED
        except PlatformError as exc:
            refusal = exc
            run.status, run.error = CopilotRun.Status.REFUSED, exc.message
        run.save(update_fields=["status", "execution", "error", "decided_at"])
        _announce(run)
    if refusal is not None:
        raise refusal
    return run


@transaction.atomic
def copilot_run_decline(*, user: User, run_id: uuid.UUID | str) -> CopilotRun:
    run = copilot_run_get(user=user, run_id=run_id)
    run = CopilotRun.objects.select_for_update().select_related("session").get(pk=run.pk)
    if run.status != CopilotRun.Status.PENDING:
        raise Conflict(f"This run request is already {run.status}.")
    run.status, run.decided_at = CopilotRun.Status.DECLINED, timezone.now()
    run.save(update_fields=["status", "decided_at"])
    _announce(run)
    return run
