"""Graphs and runs for the dashboard's tests, made through the apps' services."""

from typing import Any

from django.test import Client

from apps.executions import services as execution_services
from apps.executions.models import GraphExecution
from apps.graphs import services as graph_services
from apps.graphs.compile import graph_spec_from_payload
from apps.graphs.models import GraphVersion
from apps.store import services as store_services
from apps.store.models import StoreListingVersion
from apps.users.models import User
from tests.graphs.graphs import echo_graph


def signed_in(user: User) -> Client:
    """A browser-like client with `user` signed in."""
    client = Client()
    client.force_login(user)
    return client


def make_graph(user: User, payload: dict[str, Any] | None = None, **fields: Any) -> GraphVersion:
    payload = payload or echo_graph()
    return graph_services.graph_create(
        user=user,
        name=payload["name"],
        description=payload.get("description", ""),
        spec=graph_spec_from_payload(payload["nodes"], payload["links"]),
        **fields,
    )


def make_queued_run(user: User, version: GraphVersion, topic: str = "otters") -> GraphExecution:
    """A run as POST …/execute leaves it (queued, entry nodes created), not sent to a worker."""
    return execution_services.graph_execution_start(
        user=user, graph_id=version.graph_id, inputs={"topic": topic}, enqueue=False
    )


def publish(
    creator: User, staff: User, name: str = "Otter echo", **fields: Any
) -> StoreListingVersion:
    """An agent of `creator`'s submitted to the store and approved by `staff` (its version)."""
    version = make_graph(creator, echo_graph(name))
    submission = store_services.submission_create(
        user=creator, graph_id=version.graph_id, name=name, **fields
    )
    return store_services.submission_review(
        reviewer=staff, version_id=submission.pk, is_approved=True, comments="Looks good."
    )


def listing_url(listing_version: StoreListingVersion) -> str:
    listing = listing_version.listing
    return f"/store/{listing.owner.store_profile.username}/{listing.slug}"
