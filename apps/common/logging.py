"""Structured logs: one JSON object per line, with the request id, execution id and user id of
whatever the process is doing (contextvars, so each request thread and each run has its own;
the engine starts its block threads in a copy of the run's context).

`LOG_JSON` (default: on when DEBUG is off) picks JsonFormatter in settings.LOGGING; the plain
format carries the same ids.
"""

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
execution_id: contextvars.ContextVar[str] = contextvars.ContextVar("execution_id", default="")
user_id: contextvars.ContextVar[str] = contextvars.ContextVar("user_id", default="")

REQUEST_ID_HEADER = "X-Request-ID"
# A client's or proxy's request id is kept only when it is short and plain.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Attributes every LogRecord has; anything else was passed with `extra=` and is logged too.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "context",
}


@contextmanager
def execution_context(graph_exec_id: str) -> Iterator[None]:
    """The run a worker is on; whoever learns its user calls `user_context_set` inside."""
    token = execution_id.set(str(graph_exec_id))
    user_token = user_id.set("")
    try:
        yield
    finally:
        user_id.reset(user_token)
        execution_id.reset(token)


@contextmanager
def user_context(user: object) -> Iterator[None]:
    """A task acting for one user (a User or its id): its log lines carry the user_id."""
    token = user_id.set("")
    try:
        user_context_set(user)
        yield
    finally:
        user_id.reset(token)


def user_context_set(user: object) -> None:
    """The user the current request or run acts for (a User, or its id); logged from now on."""
    ident = getattr(user, "pk", user)
    user_id.set("" if ident is None else str(ident))


class ContextFilter(logging.Filter):
    """Puts the current ids on every record (blocks may also pass graph_exec_id in extra)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = request_id.get()
        run = execution_id.get() or str(getattr(record, "graph_exec_id", "") or "")
        user = user_id.get() or str(getattr(record, "user_id", "") or "")
        record.request_id, record.execution_id, record.user_id = request, run, user
        ids = [("request", request), ("run", run), ("user", user)]
        shown = " ".join(f"{name}={value}" for name, value in ids if value)
        record.context = f" [{shown}]" if shown else ""
        return True


class SecretQueryFilter(logging.Filter):
    """Masks `token=` query parameters: the ASGI server logs each WebSocket's path with its
    query string, and /ws takes its token (a JWT or an API key) there (SPEC §8)."""

    _SECRET = re.compile(r"([?&]token=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                self._SECRET.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = self._SECRET.sub(r"\1[redacted]", record.msg)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or None,
            "execution_id": getattr(record, "execution_id", "") or None,
            "user_id": getattr(record, "user_id", "") or None,
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def request_id_begin(sender: object, environ: dict | None = None, **kwargs: object) -> None:
    """`request_started`: before any middleware, so that Django's own request logging (which
    happens outside the middleware chain) carries the id too."""
    given = (environ or {}).get("HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_"), "")
    request_id.set(given if _ACCEPTABLE_ID.match(given) else uuid.uuid4().hex)


def request_id_end(sender: object, **kwargs: object) -> None:
    """`request_finished`: the thread goes back to its pool without the ids."""
    request_id.set("")
    user_id.set("")


class RequestIdMiddleware:
    """Returns the request's id in the X-Request-ID response header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request_id.get():
            request_id_begin(None, environ=request.META)
        user_id.set("")
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id.get()
        return response


class UserContextMiddleware:
    """Logs the signed-in user of pages (session). API calls authenticated by a key or a JWT
    are set by the authentication classes (apps.users.authentication), which DRF runs later."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            user_context_set(user)
