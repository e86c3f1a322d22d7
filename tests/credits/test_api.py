import pytest
from rest_framework.test import APIClient

from apps.credits import services
from apps.credits.models import CreditTransaction
from apps.graphs.blocks.library.basic import PrintBlock, StoreValueBlock
from apps.users.models import User
from apps.users.services import api_key_create
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db
PRICED = {StoreValueBlock.id: [{"amount": 3, "unit": "RUN", "filter": {}}]}


def test_it_shows_the_balance_in_both_places(owner_client: APIClient) -> None:
    assert owner_client.get("/api/credits").json() == {"balance": 1000}
    assert owner_client.get("/api/user/credits").json() == {"balance": 1000}


def test_history_groups_a_runs_usage_into_one_line(owner: User, owner_client: APIClient) -> None:
    for node in range(3):
        services.credit_apply(
            user_id=owner.pk,
            amount=-5,
            type="USAGE",
            transaction_key=f"node:{node}",
            graph_exec_id="7d9c3a53-1111-4a2b-9c1d-1234567890ab",
            description="My agent",
        )
    body = owner_client.get("/api/credits/transactions").json()
    assert body["total"] == 2
    usage, grant = body["data"]
    assert (usage["type"], usage["amount"], usage["entries"]) == ("USAGE", -15, 3)
    assert usage["description"] == "My agent"
    assert usage["graph_exec_id"] == "7d9c3a53-1111-4a2b-9c1d-1234567890ab"
    assert (grant["type"], grant["amount"]) == ("GRANT", 1000)
    only_grants = owner_client.get("/api/credits/transactions?type=GRANT").json()
    assert [row["type"] for row in only_grants["data"]] == ["GRANT"]
    assert owner_client.get("/api/credits/transactions?type=GIFT").status_code == 400
    assert owner_client.get("/api/credits/transactions?since=yesterday").status_code == 400
    future = owner_client.get("/api/credits/transactions?since=2999-01-01T00:00:00Z").json()
    assert future["total"] == 0


def test_staff_grant_and_adjust_but_users_cannot(
    owner: User, owner_client: APIClient, staff: User
) -> None:
    staff_client = APIClient()
    staff_client.force_authenticate(staff)
    granted = staff_client.post(
        "/api/admin/credits/grant",
        {"user_id": str(owner.pk), "amount": 250, "reason": "support ticket 42"},
        format="json",
    )
    assert granted.status_code == 200
    assert granted.json()["type"] == "GRANT"
    adjusted = staff_client.post(
        "/api/admin/credits/grant",
        {"user_id": str(owner.pk), "amount": -50, "reason": "correction"},
        format="json",
    )
    assert adjusted.json()["type"] == "ADJUSTMENT"
    assert owner_client.get("/api/credits").json() == {"balance": 1200}
    denied = owner_client.post(
        "/api/admin/credits/grant",
        {"user_id": str(owner.pk), "amount": 1000000, "reason": "me"},
        format="json",
    )
    assert denied.status_code == 403
    history = staff_client.get(f"/api/admin/credits/users/{owner.pk}/transactions").json()
    assert history["total"] == 3
    assert owner_client.get(f"/api/admin/credits/users/{owner.pk}/transactions").status_code == 403


def test_an_empty_purse_is_a_402_on_execute(owner: User, owner_client: APIClient) -> None:
    graph = owner_client.post("/api/graphs", echo_graph(), format="json").json()
    services.credit_grant(user_id=owner.pk, amount=-1000, reason="empty", granted_by="t")
    response = owner_client.post(
        f"/api/graphs/{graph['id']}/execute", {"inputs": {"topic": "x"}}, format="json"
    )
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["error_code"] == "INSUFFICIENT_CREDITS"
    assert error["details"] == {"required_credits": 1, "available_credits": 0}


def test_block_runs_are_charged_and_refused_when_broke(
    owner: User, owner_client: APIClient, settings
) -> None:
    settings.BLOCK_COST_OVERRIDES = PRICED
    response = owner_client.post(
        f"/api/blocks/{StoreValueBlock.id}/execute", {"input": "x"}, format="json"
    )
    assert response.json() == {"output": ["x"]}
    assert owner_client.get("/api/credits").json() == {"balance": 997}
    free = owner_client.post(f"/api/blocks/{PrintBlock.id}/execute", {"text": "y"}, format="json")
    assert free.status_code == 200
    assert owner_client.get("/api/credits").json() == {"balance": 997}
    services.credit_grant(user_id=owner.pk, amount=-997, reason="empty", granted_by="t")
    broke = owner_client.post(
        f"/api/blocks/{StoreValueBlock.id}/execute", {"input": "x"}, format="json"
    )
    assert broke.status_code == 402
    assert broke.json()["error"]["details"] == {"required_credits": 3, "available_credits": 0}


def test_costs_show_on_blocks_and_in_the_estimate(owner_client: APIClient, settings) -> None:
    settings.BLOCK_COST_OVERRIDES = PRICED
    block = owner_client.get(f"/api/blocks/{StoreValueBlock.id}").json()
    assert block["costs"] == [{"amount": 3, "unit": "RUN", "filter": {}}]
    payload = {
        "name": "Priced",
        "nodes": [
            {"id": "a", "block_id": StoreValueBlock.id, "input_default": {"input": 1}},
            {"id": "b", "block_id": StoreValueBlock.id},
        ],
        "links": [
            {"source_id": "a", "source_name": "output", "sink_id": "b", "sink_name": "input"}
        ],
    }
    graph = owner_client.post("/api/graphs", payload, format="json").json()
    estimate = owner_client.get(f"/api/graphs/{graph['id']}/cost-estimate").json()
    assert estimate == {
        "total_credits": 6,
        "node_costs": {"a": {"credits": 3, "unit": "RUN"}, "b": {"credits": 3, "unit": "RUN"}},
    }


def test_an_api_key_needs_read_credits(owner: User) -> None:
    _, without = api_key_create(user=owner, name="x", permissions=["READ_GRAPH"])
    assert APIClient(HTTP_X_API_KEY=without).get("/api/credits").status_code == 403
    _, reader = api_key_create(user=owner, name="y", permissions=["READ_CREDITS"])
    assert APIClient(HTTP_X_API_KEY=reader).get("/api/credits").json() == {"balance": 1000}
    assert CreditTransaction.objects.filter(user=owner).count() == 1


def test_staff_grant_credits_from_the_admin(owner: User, staff: User) -> None:
    from django.test import Client

    from apps.credits.models import UserBalance

    staff.is_superuser = True
    staff.save()
    admin = Client()
    admin.force_login(staff)
    url = "/admin/credits/userbalance/"
    selected = {"action": "grant", "_selected_action": [str(owner.pk)]}
    form_page = admin.post(url, selected)
    assert form_page.status_code == 200
    assert b"Grant or adjust credits" in form_page.content
    done = admin.post(url, {**selected, "apply": "1", "amount": "300", "reason": "promo"})
    assert done.status_code == 302
    assert UserBalance.objects.get(user=owner).balance == 1300
    assert CreditTransaction.objects.filter(user=owner, description="promo").count() == 1
