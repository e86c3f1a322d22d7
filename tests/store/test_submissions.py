"""Submitting agents and staff review (SPEC §10): the creator's and the staff's side."""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.test import APIClient

from apps.store.models import StoreListing, StoreListingVersion, StoreReview
from apps.store.signals import submission_reviewed
from apps.users.models import User
from tests.store.conftest import create_graph, publish, review, submit

pytestmark = pytest.mark.django_db


def test_it_cleans_the_slug_and_creates_a_pending_version_and_a_profile(
    creator_client: APIClient,
) -> None:
    graph = create_graph(creator_client)
    version = submit(creator_client, graph["id"], slug="  Café Bot -- 2! ")
    assert version["slug"] == "cafe-bot-2"
    assert (version["version"], version["status"], version["is_active"]) == (1, "pending", False)
    assert version["graph_id"] == graph["id"]
    assert version["graph_version"] == 1
    assert version["submitted_at"] is not None
    profile = creator_client.get("/api/store/profile").json()
    assert profile["username"] == "alice"


def test_a_slug_without_letters_or_digits_is_refused(creator_client: APIClient) -> None:
    graph = create_graph(creator_client)
    body = {"graph_id": graph["id"], "name": "x", "slug": "!!"}
    response = creator_client.post("/api/store/submissions", body, format="json")
    assert response.status_code == 400
    assert "slug must contain" in response.json()["error"]["message"]


def test_a_slug_the_creator_already_uses_is_a_409(creator_client: APIClient) -> None:
    submit(creator_client, create_graph(creator_client)["id"], slug="echo")
    other_graph = create_graph(creator_client, "Another")
    response = creator_client.post(
        "/api/store/submissions",
        {"graph_id": other_graph["id"], "name": "Another", "slug": "Echo"},
        format="json",
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["error_code"] == "CONFLICT"
    assert "already have a store listing with the slug 'echo'" in error["message"]


def test_two_creators_may_use_the_same_slug(
    creator_client: APIClient, other_client: APIClient
) -> None:
    submit(creator_client, create_graph(creator_client)["id"], slug="echo")
    submit(other_client, create_graph(other_client)["id"], slug="echo")
    assert StoreListing.objects.filter(slug="echo").count() == 2


def test_a_graph_can_only_be_submitted_by_its_owner(
    creator_client: APIClient, other_client: APIClient
) -> None:
    graph = create_graph(creator_client)
    response = other_client.post(
        "/api/store/submissions", {"graph_id": graph["id"], "name": "Mine now"}, format="json"
    )
    assert response.status_code == 404
    assert not StoreListing.objects.exists()


def test_a_listed_graph_gets_version_n_plus_1_once_nothing_is_waiting(
    creator_client: APIClient, staff_client: APIClient
) -> None:
    graph = create_graph(creator_client)
    first = submit(creator_client, graph["id"], slug="echo")
    waiting = creator_client.post(
        "/api/store/submissions", {"graph_id": graph["id"], "name": "Again"}, format="json"
    )
    assert waiting.status_code == 409
    assert waiting.json()["error"]["details"]["submission_id"] == first["id"]
    review(staff_client, first["id"], True)
    second = submit(creator_client, graph["id"], slug="echo", changes_summary="Better")
    assert (second["version"], second["status"], second["slug"]) == (2, "pending", "echo")
    renamed = creator_client.post(
        "/api/store/submissions",
        {"graph_id": graph["id"], "name": "Echo", "slug": "other-slug"},
        format="json",
    )
    assert renamed.status_code == 409
    assert "already listed as 'echo'" in renamed.json()["error"]["message"]


def test_a_pending_version_is_edited_in_place(creator_client: APIClient) -> None:
    graph = create_graph(creator_client)
    version = submit(creator_client, graph["id"])
    response = creator_client.put(
        f"/api/store/submissions/{version['id']}",
        {"sub_heading": "Now shorter", "categories": ["Text Tools", "AI"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == version["id"]
    assert (body["version"], body["status"]) == (1, "pending")
    assert body["sub_heading"] == "Now shorter"
    assert body["categories"] == ["text-tools", "ai"]
    assert body["name"] == "Echo agent"
    assert StoreListingVersion.objects.count() == 1


def test_editing_an_approved_version_creates_a_new_pending_one(
    creator_client: APIClient, staff_client: APIClient
) -> None:
    approved = publish(creator_client, staff_client)
    response = creator_client.put(
        f"/api/store/submissions/{approved['id']}",
        {"name": "Echo agent II", "changes_summary": "New name"},
        format="json",
    )
    assert response.status_code == 201, response.content
    new = response.json()
    assert new["id"] != approved["id"]
    assert (new["version"], new["status"], new["name"]) == (2, "pending", "Echo agent II")
    assert new["sub_heading"] == approved["sub_heading"]
    old = StoreListingVersion.objects.get(pk=approved["id"])
    assert (old.status, old.is_active, old.name) == ("approved", True, "Echo agent")


def test_a_rejected_version_cannot_be_edited(
    creator_client: APIClient, staff_client: APIClient
) -> None:
    version = submit(creator_client, create_graph(creator_client)["id"])
    review(staff_client, version["id"], False, comments="No description")
    response = creator_client.put(
        f"/api/store/submissions/{version['id']}", {"name": "Fixed"}, format="json"
    )
    assert response.status_code == 409
    assert "rejected version cannot be edited" in response.json()["error"]["message"]
    assert StoreListingVersion.objects.get(pk=version["id"]).name == "Echo agent"


def test_drafts_and_pending_versions_can_be_deleted_approved_ones_not(
    creator_client: APIClient, staff_client: APIClient
) -> None:
    graph = create_graph(creator_client)
    draft = submit(creator_client, graph["id"], draft=True)
    assert (draft["status"], draft["submitted_at"]) == ("draft", None)
    assert creator_client.delete(f"/api/store/submissions/{draft['id']}").status_code == 204
    assert not StoreListing.objects.exists()  # its only version went, so did the listing

    approved = publish(creator_client, staff_client)
    response = creator_client.delete(f"/api/store/submissions/{approved['id']}")
    assert response.status_code == 409
    pending = creator_client.put(
        f"/api/store/submissions/{approved['id']}", {"name": "v2"}, format="json"
    ).json()
    assert creator_client.delete(f"/api/store/submissions/{pending['id']}").status_code == 204
    assert list(StoreListingVersion.objects.values_list("version", flat=True)) == [1]


def test_a_draft_is_submitted_by_editing_it(creator_client: APIClient) -> None:
    draft = submit(creator_client, create_graph(creator_client)["id"], draft=True)
    body = creator_client.put(
        f"/api/store/submissions/{draft['id']}", {"draft": False}, format="json"
    ).json()
    assert body["status"] == "pending"
    assert body["submitted_at"] is not None


def test_nobody_else_can_see_edit_or_delete_a_submission(
    creator_client: APIClient, other_client: APIClient
) -> None:
    version = submit(creator_client, create_graph(creator_client)["id"])
    url = f"/api/store/submissions/{version['id']}"
    assert other_client.put(url, {"name": "x"}, format="json").status_code == 404
    assert other_client.delete(url).status_code == 404
    assert other_client.get("/api/store/submissions").json()["total"] == 0


def test_descriptions_are_sanitised(creator_client: APIClient) -> None:
    version = submit(
        creator_client,
        create_graph(creator_client)["id"],
        description='<p onclick="x()">Hi <b>there</b><script>alert(1)</script>'
        '<a href="javascript:alert(2)">link</a></p>',
    )
    description = version["description"]
    assert "<script" not in description
    assert "alert" not in description
    assert "onclick" not in description
    assert "<b>there</b>" in description


def test_staff_comments_reach_the_creator_internal_ones_never(
    creator_client: APIClient, staff_client: APIClient
) -> None:
    version = submit(creator_client, create_graph(creator_client)["id"])
    decided = review(
        staff_client,
        version["id"],
        False,
        comments="Please describe the inputs.",
        internal_comments="Looks like spam",
    )
    assert decided["internal_comments"] == "Looks like spam"
    assert decided["reviewer_email"] == "charlie@example.com"
    mine = creator_client.get("/api/store/submissions").json()["data"]
    assert [row["review_comments"] for row in mine] == ["Please describe the inputs."]
    assert all("internal_comments" not in row for row in mine)
    assert b"Looks like spam" not in creator_client.get("/api/store/submissions").content
    queue = staff_client.get("/api/admin/store/submissions?status=rejected").json()["data"]
    assert [row["internal_comments"] for row in queue] == ["Looks like spam"]


def test_the_review_api_is_for_staff_only(
    creator_client: APIClient, other_client: APIClient
) -> None:
    version = submit(creator_client, create_graph(creator_client)["id"])
    response = other_client.post(
        f"/api/admin/store/submissions/{version['id']}/review",
        {"is_approved": True},
        format="json",
    )
    assert response.status_code == 403
    assert other_client.get("/api/admin/store/submissions").status_code == 403
    assert StoreListingVersion.objects.get(pk=version["id"]).status == "pending"


def test_approval_copies_name_and_description_and_activates_the_version(
    creator_client: APIClient, staff_client: APIClient
) -> None:
    graph = create_graph(creator_client)
    first = submit(creator_client, graph["id"], description="<p>One</p>")
    review(staff_client, first["id"], True)
    listing = StoreListing.objects.get()
    assert (listing.name, listing.description) == ("Echo agent", "<p>One</p>")
    second = submit(creator_client, graph["id"], name="Echo two", description="Two")
    review(staff_client, second["id"], True)
    listing.refresh_from_db()
    assert (listing.name, listing.description) == ("Echo two", "Two")
    active = StoreListingVersion.objects.filter(is_active=True).values_list("version", flat=True)
    assert list(active) == [2]


def test_rejecting_the_active_version_falls_back_to_the_previous_approved_one(
    creator_client: APIClient, staff_client: APIClient
) -> None:
    graph = create_graph(creator_client)
    first = submit(creator_client, graph["id"])
    review(staff_client, first["id"], True)
    second = submit(creator_client, graph["id"], name="Echo two")
    review(staff_client, second["id"], True)
    review(staff_client, second["id"], False, comments="Broken")
    versions = dict(StoreListingVersion.objects.values_list("version", "is_active"))
    assert versions == {1: True, 2: False}
    assert StoreListing.objects.get().name == "Echo agent"
    review(staff_client, first["id"], False, comments="Also broken")
    assert not StoreListingVersion.objects.filter(is_active=True).exists()
    assert creator_client.get("/api/store/agents").json()["total"] == 0


def test_a_draft_cannot_be_reviewed_and_nothing_is_reviewed_twice(
    creator_client: APIClient, staff_client: APIClient
) -> None:
    graph = create_graph(creator_client)
    draft = submit(creator_client, graph["id"], draft=True)
    url = f"/api/admin/store/submissions/{draft['id']}/review"
    assert staff_client.post(url, {"is_approved": True}, format="json").status_code == 409
    creator_client.put(f"/api/store/submissions/{draft['id']}", {"draft": False}, format="json")
    review(staff_client, draft["id"], True)
    again = staff_client.post(url, {"is_approved": True}, format="json")
    assert again.status_code == 409
    assert "approved version cannot be approved" in again.json()["error"]["message"]


def test_the_review_signal_leaves_after_commit_with_its_contract(
    owner: User,
    creator_client: APIClient,
    staff_client: APIClient,
    django_capture_on_commit_callbacks,
) -> None:
    received = []

    def receiver(**kwargs) -> None:
        received.append(kwargs)

    submission_reviewed.connect(receiver)
    try:
        version = submit(creator_client, create_graph(creator_client)["id"])
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            review(staff_client, version["id"], False, comments="Fix it", internal_comments="meh")
        assert received == []  # not before the commit
        for callback in callbacks:
            callback()
    finally:
        submission_reviewed.disconnect(receiver)
    assert len(received) == 1
    event = received[0]
    assert event["user_id"] == owner.pk
    assert str(event["listing_version_id"]) == version["id"]
    assert event["agent_name"] == "Echo agent"
    assert event["status"] == "REJECTED"
    assert event["reviewer_comments"] == "Fix it"


def test_the_database_holds_the_store_invariants(
    owner: User, other_user: User, creator_client: APIClient, staff_client: APIClient
) -> None:
    version = StoreListingVersion.objects.get(pk=publish(creator_client, staff_client)["id"])
    listing = version.listing
    second = StoreListingVersion.objects.create(
        listing=listing, version=2, graph_version=1, name="v2", status="approved"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        StoreListingVersion.objects.filter(pk=second.pk).update(is_active=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        StoreListingVersion.objects.create(
            listing=listing, version=3, graph_version=1, name="x", status="pending", is_active=True
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        StoreListingVersion.objects.create(listing=listing, version=2, graph_version=1, name="x")
    other_graph = create_graph(creator_client, "Other")
    with pytest.raises(IntegrityError), transaction.atomic():
        StoreListing.objects.create(owner=owner, graph_id=other_graph["id"], slug=listing.slug)
    StoreReview.objects.create(listing_version=version, user=other_user, score=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        StoreReview.objects.create(listing_version=version, user=other_user, score=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        StoreReview.objects.create(listing_version=second, user=other_user, score=6)


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root@example.com", "x-long-password-1")


def test_staff_review_in_the_admin_panel(superuser: User, creator_client: APIClient) -> None:
    graph = create_graph(creator_client)
    version = submit(creator_client, graph["id"])
    admin = Client()
    admin.force_login(superuser)
    queue = admin.get("/admin/store/storelistingversion/?status__exact=pending")
    assert queue.status_code == 200
    assert b"Echo agent" in queue.content
    changelist = "/admin/store/storelistingversion/"
    form = admin.post(changelist, {"action": "reject", "_selected_action": [version["id"]]})
    assert form.status_code == 200
    assert b"internal_comments" in form.content
    done = admin.post(
        changelist,
        {
            "action": "reject",
            "_selected_action": [version["id"]],
            "apply": "1",
            "comments": "Add an example",
            "internal_comments": "second strike",
        },
    )
    assert done.status_code == 302
    rejected = StoreListingVersion.objects.get(pk=version["id"])
    assert (rejected.status, rejected.reviewer, rejected.review_comments) == (
        "rejected",
        superuser,
        "Add an example",
    )
    assert rejected.internal_comments == "second strike"
    again = submit(creator_client, graph["id"])
    admin.post(
        changelist,
        {"action": "approve", "_selected_action": [again["id"]], "apply": "1", "comments": ""},
    )
    approved = StoreListingVersion.objects.get(pk=again["id"])
    assert (approved.status, approved.is_active, approved.version) == ("approved", True, 2)
    assert admin.get(f"{changelist}{approved.pk}/change/").status_code == 200
