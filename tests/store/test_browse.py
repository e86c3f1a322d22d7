"""Browsing the store: filters, search, sorting, statistics and the number of queries."""

import pytest
from rest_framework.test import APIClient

from apps.executions.services import graph_execution_start
from apps.store.models import Profile, StoreListing, StoreListingVersion
from apps.users.models import User
from tests.factories import UserFactory
from tests.store.conftest import client_for, create_graph, publish, submit

pytestmark = pytest.mark.django_db


def _runs(user: User, listing_slug: str, count: int) -> None:
    """Runs of a listed graph by `user`, created as the API would (left queued)."""
    listing = StoreListing.objects.get(slug=listing_slug)
    version = listing.versions.get(is_active=True)
    for _ in range(count):
        graph_execution_start(
            user=user,
            graph_id=listing.graph_id,
            graph_version=version.graph_version,
            inputs={"topic": "x"},
            access_checked=True,
            enqueue=False,
        )


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [agent["name"] for agent in response.json()["data"]]


def test_anyone_can_list_approved_agents_with_creator_and_statistics(
    creator_client: APIClient, staff_client: APIClient, api_client: APIClient
) -> None:
    published = publish(creator_client, staff_client, categories=["Text"], image_urls=[])
    body = api_client.get("/api/store/agents").json()
    assert body["total"] == 1
    assert set(body) == {"data", "total", "page", "page_size", "total_pages"}
    agent = body["data"][0]
    assert agent["listing_version_id"] == published["id"]
    assert agent["slug"] == "echo-agent"
    assert agent["creator"] == {"username": "alice", "name": "Alice", "avatar_url": ""}
    assert (agent["runs"], agent["rating"], agent["review_count"]) == (0, None, 0)
    assert agent["categories"] == ["text"]
    detail = api_client.get("/api/store/agents/alice/echo-agent").json()
    assert detail["agent"]["name"] == "Echo agent"
    assert [v["version"] for v in detail["versions"]] == [1]
    assert detail["reviews"] == []


def test_a_stranger_cannot_see_drafts_pending_or_rejected_versions(
    creator_client: APIClient, staff_client: APIClient, stranger_client: APIClient
) -> None:
    submit(creator_client, create_graph(creator_client, "Draft")["id"], name="Draft", draft=True)
    submit(creator_client, create_graph(creator_client, "Pending")["id"], name="Pending")
    rejected = submit(creator_client, create_graph(creator_client, "Nope")["id"], name="Nope")
    staff_client.post(
        f"/api/admin/store/submissions/{rejected['id']}/review",
        {"is_approved": False, "internal_comments": "secret"},
        format="json",
    )
    graph = create_graph(creator_client, "Listed")
    listed = submit(creator_client, graph["id"], name="Listed")
    staff_client.post(
        f"/api/admin/store/submissions/{listed['id']}/review", {"is_approved": True}, format="json"
    )
    next_version = submit(creator_client, graph["id"], name="Listed but renamed")

    assert _names(stranger_client.get("/api/store/agents")) == ["Listed"]
    for slug in ("draft", "pending", "nope"):
        response = stranger_client.get(f"/api/store/agents/alice/{slug}")
        assert response.status_code == 404, slug
    detail = stranger_client.get("/api/store/agents/alice/listed").json()
    assert [v["version"] for v in detail["versions"]] == [1]
    assert next_version["version"] == 2
    assert b"secret" not in stranger_client.get("/api/store/agents/alice/listed").content
    assert stranger_client.get("/api/store/submissions").json()["total"] == 0
    library = stranger_client.post(
        "/api/library/agents", {"store_listing_version_id": next_version["id"]}, format="json"
    )
    assert library.status_code == 404


def test_filters_featured_creator_and_category(
    creator_client: APIClient, other_client: APIClient, staff_client: APIClient
) -> None:
    publish(creator_client, staff_client, "Writer", categories=["Text", "AI"])
    publish(creator_client, staff_client, "Counter", categories=["Data"])
    publish(other_client, staff_client, "Bob's bot", categories=["AI Tools"])
    StoreListing.objects.filter(slug="counter").update(is_featured=True)

    assert _names(creator_client.get("/api/store/agents?featured=true")) == ["Counter"]
    assert sorted(_names(creator_client.get("/api/store/agents?creator=ALICE"))) == [
        "Counter",
        "Writer",
    ]
    assert _names(creator_client.get("/api/store/agents?creator=bob")) == ["Bob's bot"]
    assert _names(creator_client.get("/api/store/agents?category=ai")) == ["Writer"]
    assert _names(creator_client.get("/api/store/agents?category=ai-tools")) == ["Bob's bot"]
    assert _names(creator_client.get("/api/store/agents?creator=nobody")) == []
    bad = creator_client.get("/api/store/agents?featured=maybe")
    assert bad.status_code == 400


def test_search_finds_name_sub_heading_description_and_creator_best_first(
    creator_client: APIClient, other_client: APIClient, staff_client: APIClient
) -> None:
    publish(creator_client, staff_client, "Otter facts", sub_heading="Animals")
    publish(
        other_client,
        staff_client,
        "Zoo guide",
        sub_heading="Visits",
        description="<p>Includes the otter enclosure.</p>",
    )
    publish(other_client, staff_client, "Weather", sub_heading="Forecasts for any city")
    assert _names(creator_client.get("/api/store/agents?search=otter")) == [
        "Otter facts",
        "Zoo guide",
    ]
    assert _names(creator_client.get("/api/store/agents?search=forecasts")) == ["Weather"]
    assert sorted(_names(creator_client.get("/api/store/agents?search=bob"))) == [
        "Weather",
        "Zoo guide",
    ]
    assert _names(creator_client.get("/api/store/agents?search=unicorns")) == []


def test_sorting_by_runs_rating_and_newest_and_the_creators_runs_do_not_count(
    owner: User, other_user: User, stranger: User, creator_client: APIClient, staff_client
) -> None:
    publish(creator_client, staff_client, "First")
    publish(creator_client, staff_client, "Second")
    publish(creator_client, staff_client, "Third")
    _runs(other_user, "first", 2)
    _runs(stranger, "second", 1)
    _runs(owner, "second", 5)  # the creator's own runs do not count
    for user, slug, score in ((other_user, "second", 5), (stranger, "first", 3)):
        response = client_for(user).post(
            f"/api/store/agents/alice/{slug}/review", {"score": score}, format="json"
        )
        assert response.status_code == 201
    by_runs = creator_client.get("/api/store/agents?sort=runs").json()["data"]
    assert [(a["name"], a["runs"]) for a in by_runs] == [("First", 2), ("Second", 1), ("Third", 0)]
    by_rating = creator_client.get("/api/store/agents?sort=rating").json()["data"]
    assert [(a["name"], a["rating"]) for a in by_rating] == [
        ("Second", 5.0),
        ("First", 3.0),
        ("Third", None),
    ]
    assert _names(creator_client.get("/api/store/agents?sort=newest")) == [
        "Third",
        "Second",
        "First",
    ]
    assert creator_client.get("/api/store/agents?sort=random").status_code == 400
    creators = creator_client.get("/api/store/creators").json()["data"]
    assert [(c["username"], c["agent_count"], c["runs"], c["rating"]) for c in creators] == [
        ("alice", 3, 3, 4.0)
    ]


def test_listing_endpoints_use_a_constant_number_of_queries(
    creator_client: APIClient,
    staff_client: APIClient,
    api_client: APIClient,
    django_assert_max_num_queries,
) -> None:
    creators = [UserFactory(name=f"Creator {n}") for n in range(4)]
    reviewers = [UserFactory() for _ in range(3)]
    for creator in creators:
        client = client_for(creator)
        for name in ("Alpha", "Beta"):
            publish(client, staff_client, f"{name} {creator.name}")
    for agent in StoreListingVersion.objects.filter(is_active=True):
        for reviewer in reviewers:
            client_for(reviewer).post(
                f"/api/store/agents/{Profile.objects.get(user=agent.listing.owner).username}"
                f"/{agent.listing.slug}/review",
                {"score": 4, "comments": "ok"},
                format="json",
            )
        _runs(reviewers[0], agent.listing.slug, 1)
    library = client_for(reviewers[0])
    for agent in StoreListingVersion.objects.filter(is_active=True):
        library.post("/api/library/agents", {"store_listing_version_id": agent.pk}, format="json")
    username = creators[0].store_profile.username
    slug = StoreListing.objects.filter(owner=creators[0]).first().slug

    with django_assert_max_num_queries(2):
        body = api_client.get("/api/store/agents?sort=rating").json()
    assert body["total"] == 8
    assert all(agent["rating"] == 4.0 and agent["runs"] == 1 for agent in body["data"])
    with django_assert_max_num_queries(2):
        assert api_client.get("/api/store/agents?search=alpha").json()["total"] == 4
    with django_assert_max_num_queries(3):
        detail = api_client.get(f"/api/store/agents/{username}/{slug}").json()
    assert len(detail["reviews"]) == 3
    with django_assert_max_num_queries(2):
        assert api_client.get("/api/store/creators").json()["total"] == 4
    with django_assert_max_num_queries(2):
        profile = api_client.get(f"/api/store/creators/{username}").json()
    assert len(profile["agents"]) == 2
    with django_assert_max_num_queries(2):
        assert library.get("/api/library/agents").json()["total"] == 8


def test_creator_profiles(
    creator_client: APIClient, staff_client: APIClient, api_client: APIClient
) -> None:
    assert creator_client.get("/api/store/profile").status_code == 404
    response = creator_client.put(
        "/api/store/profile",
        {
            "username": "Alice-Builds",
            "name": "Alice B.",
            "description": "<b>Agents</b><img src=x onerror=alert(1)>",
            "links": ["https://alice.example.com"],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    profile = response.json()
    assert profile["username"] == "alice-builds"
    assert "onerror" not in profile["description"]
    # A profile without a listed agent is no creator page yet.
    assert api_client.get("/api/store/creators/alice-builds").status_code == 404
    publish(creator_client, staff_client)
    page = api_client.get("/api/store/creators/Alice-Builds").json()
    assert page["creator"]["name"] == "Alice B."
    assert page["creator"]["links"] == ["https://alice.example.com"]
    assert [agent["slug"] for agent in page["agents"]] == ["echo-agent"]
    assert api_client.get("/api/store/agents/alice-builds/echo-agent").status_code == 200


def test_a_username_someone_has_is_a_409(
    creator_client: APIClient, other_client: APIClient
) -> None:
    creator_client.put("/api/store/profile", {"username": "builder"}, format="json")
    response = other_client.put("/api/store/profile", {"username": "Builder"}, format="json")
    assert response.status_code == 409
    assert "taken" in response.json()["error"]["message"]
    invalid = other_client.put("/api/store/profile", {"username": "no spaces"}, format="json")
    assert invalid.status_code == 400
