"""The dashboard's side of SPEC §17's budget cap and catch-up policy: the agent page's run form,
its presets' Run buttons and the library's run form take a budget (`max_credits`, through the
services the API uses), the schedule form takes `catch_up`, and the schedule page changes it.
Bad values are named next to the field they came from (400), never a 500, and start nothing."""

import pytest
from django.test import Client

from apps.executions.models import GraphExecution
from apps.graphs.services import preset_create
from apps.schedules.models import Schedule
from apps.schedules.services import schedule_create
from apps.store.models import LibraryAgent
from apps.users.models import User
from tests.dashboard.helpers import listing_url, make_graph, publish
from tests.graphs.graphs import echo_graph

pytestmark = pytest.mark.django_db

# Each bad budget and the message shown on its field.
NOT_A_NUMBER = "Enter a whole number of credits"
TOO_SMALL = "A budget is at least 1 credit"
BAD_BUDGETS = [
    ("0", TOO_SMALL),
    ("-5", TOO_SMALL),
    ("ten", NOT_A_NUMBER),
    ("1.5", NOT_A_NUMBER),
    ("1e3", NOT_A_NUMBER),
    ("١٢", NOT_A_NUMBER),  # Arabic-Indic digits, which int() would take
    ("99999999999999999999999", NOT_A_NUMBER),
    (str(2**31), "A budget is at most 2147483647 credits"),
]


def _field_errors(html: str, field_id: str) -> str:
    """The label block of one field as _form_fields.html renders it (its input and errors)."""
    start = html.index(f'id="{field_id}"')
    return html[start : html.index("</label>", start)]


def test_the_agent_page_offers_a_budget_and_a_catch_up_policy(alice: Client, owner: User) -> None:
    version = make_graph(owner)
    page = alice.get(f"/agents/{version.graph_id}").content.decode()
    assert "Budget (credits)" in page
    assert 'name="max_credits"' in page
    assert 'name="catch_up"' in page
    catch_up = page[page.index('name="catch_up"') : page.index("</select>", page.index("catch_up"))]
    assert 'value="skip" selected' in catch_up
    assert 'value="run_once"' in catch_up


def test_a_budget_from_the_run_form_caps_the_run(alice: Client, owner: User) -> None:
    version = make_graph(owner)
    url = f"/agents/{version.graph_id}/run"
    response = alice.post(url, {"input__topic": "otters", "max_credits": " 40 "})
    capped = GraphExecution.objects.get(user=owner)
    assert response["Location"] == f"/runs/{capped.pk}"
    assert capped.max_credits == 40
    alice.post(url, {"input__topic": "otters", "max_credits": ""})
    uncapped = GraphExecution.objects.exclude(pk=capped.pk).get()
    assert uncapped.max_credits is None


@pytest.mark.parametrize(("value", "message"), BAD_BUDGETS)
def test_a_bad_budget_is_named_on_the_run_form(
    alice: Client, owner: User, value: str, message: str
) -> None:
    version = make_graph(owner)
    response = alice.post(
        f"/agents/{version.graph_id}/run", {"input__topic": "otters", "max_credits": value}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert message in _field_errors(html, "id_max_credits")
    assert "otters" in _field_errors(html, "id_input__topic")  # the inputs are kept
    assert not GraphExecution.objects.exists()


def test_a_bad_budget_and_a_missing_input_are_both_named(alice: Client, owner: User) -> None:
    version = make_graph(owner)
    response = alice.post(f"/agents/{version.graph_id}/run", {"max_credits": "0"})
    assert response.status_code == 400
    html = response.content.decode()
    assert TOO_SMALL in _field_errors(html, "id_max_credits")
    assert "This field is required." in _field_errors(html, "id_input__topic")


def _preset(owner: User, graph_id) -> str:
    preset = preset_create(
        user=owner,
        graph_id=graph_id,
        graph_version=1,
        name="Owls",
        inputs={"topic": "owls"},
        credentials_inputs={},
    )
    return str(preset.pk)


def test_a_preset_runs_with_the_budget_typed_next_to_it(alice: Client, owner: User) -> None:
    version = make_graph(owner)
    preset_id = _preset(owner, version.graph_id)
    page = alice.get(f"/agents/{version.graph_id}").content.decode()
    assert f'id="budget-{preset_id}"' in page
    assert f'<label class="sr-only" for="budget-{preset_id}">Budget for Owls (credits)' in page

    url = f"/agents/{version.graph_id}/presets/{preset_id}/run"
    response = alice.post(url, {"max_credits": "25"})
    run = GraphExecution.objects.get()
    assert response["Location"] == f"/runs/{run.pk}"
    assert (run.max_credits, run.inputs) == (25, {"topic": "owls"})
    alice.post(url)  # the Run button alone: no cap
    assert GraphExecution.objects.exclude(pk=run.pk).get().max_credits is None


@pytest.mark.parametrize(("value", "message"), BAD_BUDGETS[:4])
def test_a_bad_preset_budget_is_named_on_its_row(
    alice: Client, owner: User, value: str, message: str
) -> None:
    version = make_graph(owner)
    preset_id = _preset(owner, version.graph_id)
    response = alice.post(
        f"/agents/{version.graph_id}/presets/{preset_id}/run", {"max_credits": value}
    )
    assert response.status_code == 400
    html = response.content.decode()
    row = html[html.index(f'data-preset="{preset_id}"') :]
    row = row[: row.index("</form>")]
    assert message in row
    assert f'id="budget-error-{preset_id}"' in row
    assert 'aria-invalid="true"' in row
    assert not GraphExecution.objects.exists()


def test_another_users_preset_with_a_bad_budget_is_a_404(
    alice: Client, owner: User, other_user: User
) -> None:
    version = make_graph(owner)
    theirs = make_graph(other_user)
    preset_id = _preset(other_user, theirs.graph_id)
    url = f"/agents/{version.graph_id}/presets/{preset_id}/run"
    assert alice.post(url, {"max_credits": "0"}).status_code == 404
    mine = _preset(owner, make_graph(owner, echo_graph("Other")).graph_id)
    url = f"/agents/{version.graph_id}/presets/{mine}/run"  # not this agent's preset
    assert alice.post(url, {"max_credits": "0"}).status_code == 404


def _library_agent(owner: User, staff: User, bob: Client, other_user: User) -> LibraryAgent:
    agent = publish(owner, staff, "Otter echo")
    bob.post(listing_url(agent) + "/add")
    return LibraryAgent.objects.get(user=other_user)


def test_a_library_run_takes_a_budget(
    owner: User, other_user: User, staff: User, bob: Client
) -> None:
    agent = _library_agent(owner, staff, bob, other_user)
    url = f"/library/{agent.pk}"
    assert "Budget (credits)" in bob.get(url).content.decode()
    response = bob.post(f"{url}/run", {"input__topic": "otters", "max_credits": "15"})
    run = GraphExecution.objects.get(user=other_user)
    assert response["Location"] == f"/runs/{run.pk}"
    assert run.max_credits == 15


@pytest.mark.parametrize(("value", "message"), BAD_BUDGETS[:4])
def test_a_bad_library_budget_is_named_on_the_form(
    owner: User, other_user: User, staff: User, bob: Client, value: str, message: str
) -> None:
    agent = _library_agent(owner, staff, bob, other_user)
    response = bob.post(
        f"/library/{agent.pk}/run", {"input__topic": "otters", "max_credits": value}
    )
    assert response.status_code == 400
    assert message in _field_errors(response.content.decode(), "id_max_credits")
    assert not GraphExecution.objects.exists()


SCHEDULE = {
    "input__topic": "otters",
    "schedule_name": "Mornings",
    "cron": "0 9 * * *",
    "timezone": "UTC",
    "save_schedule": "",
}


@pytest.mark.parametrize(("posted", "stored"), [("run_once", "run_once"), ("skip", "skip")])
def test_the_schedule_form_sets_the_catch_up_policy(
    alice: Client, owner: User, posted: str, stored: str
) -> None:
    version = make_graph(owner)
    response = alice.post(
        f"/agents/{version.graph_id}/schedules?version=1", {**SCHEDULE, "catch_up": posted}
    )
    assert response.status_code == 302
    assert Schedule.objects.get().catch_up == stored


def test_a_schedule_posted_without_catch_up_skips_missed_firings(
    alice: Client, owner: User
) -> None:
    version = make_graph(owner)
    alice.post(f"/agents/{version.graph_id}/schedules", SCHEDULE)
    assert Schedule.objects.get().catch_up == "skip"


def test_an_unknown_catch_up_is_named_on_the_schedule_form(alice: Client, owner: User) -> None:
    version = make_graph(owner)
    response = alice.post(
        f"/agents/{version.graph_id}/schedules", {**SCHEDULE, "catch_up": "run_twice"}
    )
    assert response.status_code == 400
    assert "Select a valid choice." in _field_errors(response.content.decode(), "id_catch_up")
    assert not Schedule.objects.exists()


def _schedule(user: User) -> Schedule:
    version = make_graph(user)
    return schedule_create(
        user=user,
        graph_id=version.graph_id,
        name="Hourly",
        cron="0 * * * *",
        timezone="UTC",
        inputs={"topic": "x"},
    )


def test_the_schedule_page_changes_the_catch_up_policy(alice: Client, owner: User) -> None:
    schedule = _schedule(owner)
    page = alice.get(f"/schedules/{schedule.pk}").content.decode()
    assert 'value="skip" selected' in _field_errors(page, "id_catch_up")
    response = alice.post(f"/schedules/{schedule.pk}/catch-up", {"catch_up": "run_once"})
    assert response["Location"] == f"/schedules/{schedule.pk}"
    schedule.refresh_from_db()
    assert schedule.catch_up == "run_once"
    page = alice.get(f"/schedules/{schedule.pk}").content.decode()
    assert "run once when the scheduler is back" in page
    assert 'value="run_once" selected' in _field_errors(page, "id_catch_up")
    alice.post(f"/schedules/{schedule.pk}/catch-up", {"catch_up": "skip"})
    schedule.refresh_from_db()
    assert schedule.catch_up == "skip"


@pytest.mark.parametrize("value", ["", "run_twice", "SKIP"])
def test_a_bad_catch_up_on_the_schedule_page_is_named_there(
    alice: Client, owner: User, value: str
) -> None:
    schedule = _schedule(owner)
    response = alice.post(f"/schedules/{schedule.pk}/catch-up", {"catch_up": value})
    assert response.status_code == 400
    errors = _field_errors(response.content.decode(), "id_catch_up")
    assert "Select a valid choice." in errors or "This field is required." in errors
    schedule.refresh_from_db()
    assert schedule.catch_up == "skip"


def test_another_users_schedule_cannot_be_changed(alice: Client, bob: Client, owner: User) -> None:
    schedule = _schedule(owner)
    url = f"/schedules/{schedule.pk}/catch-up"
    assert bob.post(url, {"catch_up": "run_once"}).status_code == 404
    assert bob.get(f"/schedules/{schedule.pk}/catch-up").status_code == 405
    schedule.refresh_from_db()
    assert schedule.catch_up == "skip"
