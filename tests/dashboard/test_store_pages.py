"""Store and library pages: browse with search, filters and sort; a listing with versions and
reviews; submitting from the agent page; my submissions; the library (run, favourite, archive,
fork). Every page: its empty state, its actions, and another user's object is a 404."""

import uuid

import pytest
from django.test import Client

from apps.executions.models import GraphExecution
from apps.graphs.models import Graph
from apps.store import services as store_services
from apps.store.models import LibraryAgent, StoreListingVersion, StoreReview
from apps.users.models import User
from tests.dashboard.helpers import listing_url, make_graph, publish, signed_in
from tests.factories import UserFactory
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "empty"),
    [
        ("/store", "The store is empty"),
        ("/store?q=otter", "No agents match"),
        ("/store/submissions", "You have not submitted an agent yet"),
        ("/store/submissions?status=rejected", "No rejected submissions"),
        ("/library", "Your library is empty"),
        ("/library?archived=1", "No archived agents"),
    ],
)
def test_store_and_library_pages_render_their_empty_states(
    alice: Client, path: str, empty: str
) -> None:
    response = alice.get(path)
    assert response.status_code == 200
    assert empty in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/store",
        "/store/submissions",
        "/library",
        f"/library/{uuid.uuid4()}",
        "/notifications",
        "/chat",
        f"/chat/{uuid.uuid4()}",
        "/settings/credentials",
        "/schedules/preview?cron=0+9+*+*+*",
    ],
)
def test_the_new_pages_ask_an_anonymous_visitor_to_sign_in(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login?next=")


def test_browse_searches_filters_by_category_and_sorts(
    owner: User, other_user: User, staff: User, bob: Client
) -> None:
    publish(owner, staff, "Otter researcher", sub_heading="Finds otters", categories=["research"])
    beaver = publish(owner, staff, "Beaver writer", categories=["writing"])
    store_services.review_submit(
        user=other_user,
        username=beaver.listing.owner.store_profile.username,
        slug=beaver.listing.slug,
        score=5,
    )
    body = bob.get("/store").content.decode()
    assert "Otter researcher" in body
    assert "Beaver writer" in body
    assert "Finds otters" in body

    body = bob.get("/store?q=otter").content.decode()
    assert "Otter researcher" in body
    assert "Beaver writer" not in body
    body = bob.get("/store?category=writing").content.decode()
    assert "Beaver writer" in body
    assert "Otter researcher" not in body
    body = bob.get("/store?sort=rating").content.decode()
    assert body.index("Beaver writer") < body.index("Otter researcher")
    assert "★ 5.0" in body
    # An unknown sort is ignored, never a 500.
    assert bob.get("/store?sort=nonsense").status_code == 200


def test_browse_pages_through_many_listings(owner: User, staff: User, bob: Client) -> None:
    for n in range(26):
        publish(owner, staff, f"Agent {n:02d}")
    body = bob.get("/store?sort=newest").content.decode()
    assert "Page 1 of 2" in body
    assert "sort=newest" in body.split('class="pager"')[1]
    assert body.count('class="card tile"') == 24
    assert bob.get("/store?page=2&sort=newest").content.decode().count('class="card tile"') == 2


def test_a_listing_shows_versions_and_reviews_and_takes_a_review(
    owner: User, other_user: User, staff: User, bob: Client, alice: Client
) -> None:
    agent = publish(owner, staff, "Otter echo", description="<p>Echoes <b>otters</b></p>")
    url = listing_url(agent)
    body = bob.get(url).content.decode()
    assert "Otter echo" in body
    assert "<b>otters</b>" in body
    assert "v1" in body
    assert "No reviews yet" in body
    assert "Write a review" in body

    response = bob.post(url + "/review", {"score": "4", "comments": "Quite good"})
    assert response.status_code == 302
    body = bob.get(url).content.decode()
    assert "Quite good" in body
    assert "Update your review" in body
    response = bob.post(url + "/review", {"score": "2", "comments": "Worse now"})
    assert StoreReview.objects.get(user=other_user).score == 2

    assert bob.post(url + "/review", {"score": "9"}).status_code == 400
    # The creator sees no review form and cannot post one.
    body = alice.get(url).content.decode()
    assert "Creators cannot review their own agents" in body
    assert 'id="review-form"' not in body
    response = alice.post(url + "/review", {"score": "5"})
    assert response.status_code == 400
    assert "You cannot review your own agent." in response.content.decode()
    assert StoreReview.objects.count() == 1


def test_a_listing_not_in_the_store_is_a_404(owner: User, staff: User, bob: Client) -> None:
    version = make_graph(owner, echo_graph("Pending one"))
    submission = store_services.submission_create(
        user=owner, graph_id=version.graph_id, name="Pending one"
    )
    username = submission.listing.owner.store_profile.username
    assert bob.get(f"/store/{username}/{submission.listing.slug}").status_code == 404
    assert bob.get("/store/nobody/nothing").status_code == 404


def test_submitting_from_the_agent_page(owner: User, alice: Client, bob: Client) -> None:
    version = make_graph(owner, echo_graph("Otter echo"))
    page = alice.get(f"/agents/{version.graph_id}").content.decode()
    assert 'id="submit-form"' in page
    assert "Submit v1 to the store" in page

    url = f"/agents/{version.graph_id}/submit?version=1"
    data = {"name": "Otter echo", "sub_heading": "Echoes", "categories": "fun, Research Tools"}
    response = alice.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == "/store/submissions"
    submission = StoreListingVersion.objects.get()
    assert submission.status == "pending"
    assert submission.categories == ["fun", "research-tools"]

    # One pending version at a time: the second is refused with the reason, on the page.
    response = alice.post(url, data)
    assert response.status_code == 400
    assert "still a pending submission" in response.content.decode()
    assert alice.post(url, {"name": ""}).status_code == 400
    # Not Bob's agent: 404, and nothing submitted.
    assert bob.post(url, data).status_code == 404
    assert StoreListingVersion.objects.count() == 1
    page = alice.get(f"/agents/{version.graph_id}").content.decode()
    assert "sub-pending" in page
    assert f'href="/store/submissions/{submission.pk}/edit"' in page


def test_my_submissions_show_reviewer_comments_never_internal_ones(
    owner: User, staff: User, alice: Client, bob: Client
) -> None:
    version = make_graph(owner, echo_graph("Otter echo"))
    submission = store_services.submission_create(
        user=owner, graph_id=version.graph_id, name="Otter echo"
    )
    store_services.submission_review(
        reviewer=staff,
        version_id=submission.pk,
        is_approved=False,
        comments="Please add a description.",
        internal_comments="Creator spams a lot.",
    )
    body = alice.get("/store/submissions").content.decode()
    assert "Please add a description." in body
    assert "rejected" in body
    assert "Creator spams" not in body
    assert "Otter echo" not in bob.get("/store/submissions").content.decode()
    assert "Otter echo" in alice.get("/store/submissions?status=rejected").content.decode()
    listed = publish(owner, staff, "Beaver echo")
    body = alice.get("/store/submissions").content.decode()
    assert f'href="{listing_url(listed)}">in store</a>' in body


def test_withdrawing_a_pending_submission(owner: User, alice: Client, bob: Client) -> None:
    version = make_graph(owner, echo_graph("Otter echo"))
    submission = store_services.submission_create(
        user=owner, graph_id=version.graph_id, name="Otter echo"
    )
    assert bob.post(f"/store/submissions/{submission.pk}/withdraw").status_code == 404
    response = alice.post(f"/store/submissions/{submission.pk}/withdraw")
    assert response.status_code == 302
    assert not StoreListingVersion.objects.exists()


def test_editing_a_pending_submission_changes_it_in_place(
    owner: User, alice: Client, bob: Client
) -> None:
    version = make_graph(owner, echo_graph("Otter echo"))
    submission = store_services.submission_create(
        user=owner, graph_id=version.graph_id, name="Otter echo", categories=["fun"]
    )
    url = f"/store/submissions/{submission.pk}/edit"
    assert f'href="{url}"' in alice.get("/store/submissions").content.decode()
    form = alice.get(url).content.decode()
    assert 'value="Otter echo"' in form
    assert 'value="fun"' in form
    assert bob.get(url).status_code == 404
    assert bob.post(url, {"name": "Bob's now"}).status_code == 404
    assert alice.post(url, {"name": ""}).status_code == 400
    data = {
        "name": "Otter echo, improved",
        "sub_heading": "Repeats what you say",
        "description": "<p>Echo.</p><script>alert(1)</script>",
        "categories": "fun, tools",
    }
    response = alice.post(url, data)
    assert response["Location"] == "/store/submissions"
    submission.refresh_from_db()
    assert (submission.name, submission.status) == ("Otter echo, improved", "pending")
    assert submission.categories == ["fun", "tools"]
    assert "<script>" not in submission.description
    assert StoreListingVersion.objects.count() == 1


def test_editing_an_approved_submission_makes_the_next_version_and_a_rejected_one_cannot(
    owner: User, staff: User, alice: Client
) -> None:
    listed = publish(owner, staff, "Otter echo")
    response = alice.post(f"/store/submissions/{listed.pk}/edit", {"name": "Otter echo 2"})
    assert response.status_code == 302
    listed.refresh_from_db()
    assert (listed.name, listed.status, listed.is_active) == ("Otter echo", "approved", True)
    nxt = StoreListingVersion.objects.get(listing=listed.listing, version=listed.version + 1)
    assert (nxt.name, nxt.status) == ("Otter echo 2", "pending")
    store_services.submission_review(
        reviewer=staff, version_id=nxt.pk, is_approved=False, comments="No."
    )
    url = f"/store/submissions/{nxt.pk}/edit"
    assert "cannot be edited" in alice.get(url).content.decode()
    refused = alice.post(url, {"name": "Otter echo 3"})
    assert refused.status_code == 400
    assert "cannot be edited" in refused.content.decode()
    nxt.refresh_from_db()
    assert nxt.name == "Otter echo 2"


def test_the_library_add_run_favourite_archive_and_fork(
    owner: User, other_user: User, staff: User, bob: Client, alice: Client
) -> None:
    agent = publish(owner, staff, "Otter echo")
    response = bob.post(listing_url(agent) + "/add")
    library_agent = LibraryAgent.objects.get(user=other_user)
    assert response["Location"] == f"/library/{library_agent.pk}"
    assert "Open in your library" in bob.get(listing_url(agent)).content.decode()

    body = bob.get("/library").content.decode()
    assert "Otter echo" in body
    page = bob.get(f"/library/{library_agent.pk}").content.decode()
    assert 'name="input__topic"' in page
    assert 'class="dag"' in page

    response = bob.post(f"/library/{library_agent.pk}/run", {"input__topic": "otters"})
    run = GraphExecution.objects.get(user=other_user)
    assert response["Location"] == f"/runs/{run.pk}"
    # The run page draws the creator's graph for the runner, whose run it is.
    assert bob.get(f"/runs/{run.pk}").status_code == 200
    assert f'data-run="{run.pk}"' in bob.get(f"/library/{library_agent.pk}").content.decode()

    bob.post(f"/library/{library_agent.pk}/update", {"action": "favorite"})
    assert LibraryAgent.objects.get().is_favorite
    assert "★" in bob.get("/library").content.decode()
    bob.post(f"/library/{library_agent.pk}/update", {"action": "archive", "next": "/library"})
    assert "Your library is empty" in bob.get("/library").content.decode()
    assert "Otter echo" in bob.get("/library?archived=1").content.decode()
    bob.post(f"/library/{library_agent.pk}/update", {"action": "unarchive"})

    response = bob.post(f"/library/{library_agent.pk}/fork")
    fork = Graph.objects.get(user=other_user)
    assert response["Location"] == f"/agents/{fork.pk}"
    assert "Otter echo" in bob.get("/agents").content.decode()

    # Another user's library agent: 404 on every page and action.
    for path in ["", "/run", "/update", "/fork"]:
        url = f"/library/{library_agent.pk}{path}"
        status = (alice.post(url) if path else alice.get(url)).status_code
        assert status == 404, url


def test_a_library_run_with_bad_inputs_shows_the_errors(
    owner: User, other_user: User, staff: User, bob: Client
) -> None:
    agent = publish(owner, staff, "Otter echo")
    library_agent, _ = store_services.library_agent_add(
        user=other_user, listing_version_id=agent.pk
    )
    response = bob.post(f"/library/{library_agent.pk}/run", {})
    assert response.status_code == 400
    assert not GraphExecution.objects.exists()


def test_long_names_wrap_rather_than_break_the_store(owner: User, staff: User, bob: Client) -> None:
    name = "Otter" * 20
    publish(owner, staff, name, sub_heading="x" * 200)
    body = bob.get("/store").content.decode()
    assert f'<h2 class="wrap">{name}</h2>' in body
    assert 'class="clamp"' in body


def test_a_stranger_sees_a_listing_but_not_the_creators_agent(owner: User, staff: User) -> None:
    agent = publish(owner, staff, "Otter echo")
    carol = signed_in(UserFactory(email="carol@example.com"))
    assert carol.get(listing_url(agent)).status_code == 200
    assert carol.get(f"/agents/{agent.listing.graph_id}").status_code == 404


def test_a_withdrawn_library_agent_can_no_longer_be_run_or_forked(
    owner: User, other_user: User, staff: User, bob: Client
) -> None:
    agent = publish(owner, staff, "Otter echo")
    library_agent, _ = store_services.library_agent_add(
        user=other_user, listing_version_id=agent.pk
    )
    store_services.submission_review(reviewer=staff, version_id=agent.pk, is_approved=False)
    page = bob.get(f"/library/{library_agent.pk}").content.decode()
    assert "withdrawn from the store" in page
    assert 'id="run-form"' not in page
    assert 'id="fork"' not in page
    response = bob.post(f"/library/{library_agent.pk}/run", {"input__topic": "otters"})
    assert response.status_code == 400
    assert "withdrawn" in response.content.decode()
    assert not GraphExecution.objects.exists()
    assert "withdrawn" in bob.get("/library").content.decode()


def test_a_library_agent_follows_updates_or_stays_on_its_version(
    owner: User, other_user: User, staff: User, bob: Client
) -> None:
    agent = publish(owner, staff, "Otter echo")
    library_agent, _ = store_services.library_agent_add(
        user=other_user, listing_version_id=agent.pk
    )
    bob.post(f"/library/{library_agent.pk}/update", {"action": "pin"})
    second = store_services.submission_update(
        user=owner, version_id=agent.pk, changes_summary="Louder"
    )
    store_services.submission_review(reviewer=staff, version_id=second.pk, is_approved=True)
    page = bob.get(f"/library/{library_agent.pk}").content.decode()
    assert "A newer version is in the store" in page
    assert "v1" in page
    bob.post(f"/library/{library_agent.pk}/update", {"action": "follow"})
    assert LibraryAgent.objects.get().listing_version_id == second.pk
    assert "Louder" in bob.get(listing_url(agent)).content.decode()
    response = bob.post(f"/library/{library_agent.pk}/update", {"action": "explode"})
    assert response.status_code == 302


def test_staff_see_the_review_queue_and_an_owner_the_listing_of_their_agent(
    owner: User, staff: User, alice: Client
) -> None:
    listed = publish(owner, staff, "Otter echo")
    pending = make_graph(owner, echo_graph("Beaver echo"))
    store_services.submission_create(user=owner, graph_id=pending.graph_id, name="Beaver echo")
    assert 'id="review-queue"' not in alice.get("/store").content.decode()
    body = signed_in(staff).get("/store").content.decode()
    assert "Review queue (1)" in body
    assert 'href="/store/review"' in body
    page = alice.get(f"/agents/{listed.listing.graph_id}").content.decode()
    assert f'href="{listing_url(listed)}">in the store</a>' in page


def test_staff_review_a_submission_beside_its_agent_and_decide_in_the_dashboard(
    owner: User, staff: User, alice: Client
) -> None:
    version = make_graph(owner, echo_graph("Otter echo"))
    submission = store_services.submission_create(
        user=owner,
        graph_id=version.graph_id,
        name="Otter echo",
        sub_heading="Echoes otters",
        changes_summary="First version",
    )
    charlie = signed_in(staff)
    assert 'href="/store/review">Review queue (1)' in charlie.get("/store").content.decode()
    queue = charlie.get("/store/review").content.decode()
    assert f'href="/store/review/{submission.pk}">Otter echo' in queue

    page = charlie.get(f"/store/review/{submission.pk}").content.decode()
    assert "Echoes otters" in page
    assert page.count('class="node status-idle"') == 3
    assert "Nothing of this agent is listed yet." in page

    assert charlie.post(f"/store/review/{submission.pk}/decide", {}).status_code == 400
    response = charlie.post(
        f"/store/review/{submission.pk}/decide",
        {"decision": "approve", "comments": "Lovely", "internal_comments": "ok"},
    )
    assert response["Location"] == "/store/review"
    submission.refresh_from_db()
    assert (submission.status, submission.review_comments) == ("approved", "Lovely")
    assert submission.reviewer == staff
    assert "Nothing to review" in charlie.get("/store/review").content.decode()
    # Deciding again is refused with the reason, not an error page.
    charlie.post(f"/store/review/{submission.pk}/decide", {"decision": "approve"})
    assert "cannot be approved" in charlie.get(f"/store/review/{submission.pk}").content.decode()

    # Not staff: the pages do not exist.
    assert alice.get("/store/review").status_code == 404
    assert alice.get(f"/store/review/{submission.pk}").status_code == 404
    assert (
        alice.post(f"/store/review/{submission.pk}/decide", {"decision": "reject"}).status_code
        == 404
    )
