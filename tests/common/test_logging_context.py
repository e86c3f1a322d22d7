"""SPEC §13: every log line that has a user carries its user_id (requests by API key, JWT or
session; runs on the worker, including their block threads)."""

import contextvars
import json
import logging
import threading
from collections.abc import Iterator

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.common.logging import (
    ContextFilter,
    JsonFormatter,
    execution_context,
    user_context,
    user_context_set,
)
from apps.users.models import User
from apps.users.services import api_key_create

pytestmark = pytest.mark.django_db


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.addFilter(ContextFilter())
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines() -> Iterator[list[dict]]:
    handler = _Lines()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_it_logs_the_user_of_an_api_key_request(owner: User, lines: list[dict]) -> None:
    _, key = api_key_create(user=owner, name="k", permissions=["READ_GRAPH"])
    assert APIClient(HTTP_X_API_KEY=key).get("/api/graphs?page=0").status_code == 400
    assert lines[-1]["user_id"] == str(owner.pk)
    assert lines[-1]["request_id"]


def test_it_logs_the_user_of_a_jwt_request(owner: User, lines: list[dict]) -> None:
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(owner)}")
    assert client.get("/api/graphs?page=0").status_code == 400
    assert lines[-1]["user_id"] == str(owner.pk)


def test_it_logs_the_user_of_a_signed_in_page(owner: User, lines: list[dict]) -> None:
    client = Client()
    client.force_login(owner)
    assert client.get("/agents/00000000-0000-0000-0000-000000000000").status_code == 404
    assert lines[-1]["user_id"] == str(owner.pk)


def test_it_logs_no_user_for_an_anonymous_request_after_a_signed_in_one(
    owner: User, lines: list[dict]
) -> None:
    _, key = api_key_create(user=owner, name="k", permissions=["READ_GRAPH"])
    APIClient(HTTP_X_API_KEY=key).get("/api/graphs?page=0")
    assert APIClient().get("/api/graphs").status_code == 401
    assert lines[-1]["user_id"] is None


def test_it_carries_the_runs_user_into_block_threads() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    seen: dict[str, str] = {}

    def block() -> None:
        ContextFilter().filter(record)
        seen.update(run=record.execution_id, user=record.user_id)

    with execution_context("run-1"):
        user_context_set("user-1")
        # What the engine does for each block thread (apps/executions/engine/runner.py).
        thread = threading.Thread(target=contextvars.copy_context().run, args=(block,))
        thread.start()
        thread.join()
    assert seen == {"run": "run-1", "user": "user-1"}
    after = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    ContextFilter().filter(after)
    assert (after.execution_id, after.user_id) == ("", "")


def test_it_logs_the_user_a_task_acts_for_and_only_while_it_runs() -> None:
    def logged_user() -> str:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        ContextFilter().filter(record)
        return record.user_id

    with user_context("user-9"):  # as notifications.notify and credits.auto_top_up do
        assert logged_user() == "user-9"
    assert logged_user() == ""
    with user_context(None):  # as schedules.fire does before its service names the user
        user_context_set("user-7")
        assert logged_user() == "user-7"
    assert logged_user() == ""  # the next task of the process starts clean
