"""Reviews: a score from 1 to 5 and a comment, one per user per version."""

import pytest
from rest_framework.test import APIClient

from apps.store.models import StoreReview
from tests.store.conftest import create_graph, publish, review, submit

pytestmark = pytest.mark.django_db
URL = "/api/store/agents/alice/echo-agent/review"


def test_a_second_review_of_a_version_replaces_the_first(
    creator_client: APIClient, staff_client: APIClient, other_client: APIClient
) -> None:
    publish(creator_client, staff_client)
    first = other_client.post(URL, {"score": 2, "comments": "meh"}, format="json")
    assert first.status_code == 201
    second = other_client.post(URL, {"score": 5, "comments": "grew on me"}, format="json")
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert list(StoreReview.objects.values_list("score", "comments")) == [(5, "grew on me")]
    agent = other_client.get("/api/store/agents/alice/echo-agent").json()
    assert (agent["agent"]["rating"], agent["agent"]["review_count"]) == (5.0, 1)
    assert [(r["reviewer"], r["score"], r["version"]) for r in agent["reviews"]] == [
        ("Bob", 5, 1)  # no store profile: the display name
    ]


def test_each_version_gets_its_own_review(
    creator_client: APIClient, staff_client: APIClient, other_client: APIClient
) -> None:
    graph = create_graph(creator_client)
    first = submit(creator_client, graph["id"])
    review(staff_client, first["id"], True)
    second = submit(creator_client, graph["id"])
    review(staff_client, second["id"], True)
    assert other_client.post(URL, {"score": 4}, format="json").status_code == 201
    assert other_client.post(URL, {"score": 2, "version": 1}, format="json").status_code == 201
    scores = dict(StoreReview.objects.values_list("listing_version__version", "score"))
    assert scores == {1: 2, 2: 4}
    assert other_client.post(URL, {"score": 2, "version": 7}, format="json").status_code == 404


def test_scores_outside_1_to_5_are_refused(
    creator_client: APIClient, staff_client: APIClient, other_client: APIClient
) -> None:
    publish(creator_client, staff_client)
    for score in (0, 6, "five"):
        response = other_client.post(URL, {"score": score}, format="json")
        assert response.status_code == 400, score
        assert response.json()["error"]["error_code"] == "VALIDATION_ERROR"
    assert not StoreReview.objects.exists()


def test_creators_cannot_review_their_own_agent(
    creator_client: APIClient, staff_client: APIClient
) -> None:
    publish(creator_client, staff_client)
    response = creator_client.post(URL, {"score": 5}, format="json")
    assert response.status_code == 403
    assert "your own agent" in response.json()["error"]["message"]
    assert not StoreReview.objects.exists()


def test_unlisted_agents_cannot_be_reviewed(
    creator_client: APIClient, other_client: APIClient, api_client: APIClient
) -> None:
    submit(creator_client, create_graph(creator_client)["id"])
    assert other_client.post(URL, {"score": 5}, format="json").status_code == 404
    assert api_client.post(URL, {"score": 5}, format="json").status_code == 401
