from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from apps.common.redis import get_redis
from apps.users.models import User
from tests.clamd_server import ClamdServer, clamd_binary
from tests.factories import UserFactory
from tests.httpserver import TestHttpServer
from tests.openai_server import OpenAITestServer
from tests.processes import AsgiServer, WorkerProcess


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Django's advice for test suites: PBKDF2 costs 0.3 s a hash on a 2-core CI machine, and
    most tests create a user. PBKDF2 stays listed, so its hashes can still be checked."""
    hashers = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    with override_settings(PASSWORD_HASHERS=hashers):
        yield


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Throttle counters live in Redis and would leak from one test into the next."""
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    client = get_redis()
    keys = list(client.scan_iter(f"{prefix}:*throttle_*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def owner(db) -> User:
    return UserFactory(email="alice@example.com", name="Alice")


@pytest.fixture
def other_user(db) -> User:
    return UserFactory(email="bob@example.com", name="Bob")


@pytest.fixture
def staff(db) -> User:
    return UserFactory(email="charlie@example.com", name="Charlie", is_staff=True)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def owner_client(owner: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(owner)
    return client


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    """A real Celery worker process on the test database, for the tests of one module (a module
    that must control which worker runs what starts its own instead)."""
    process = WorkerProcess().start()
    yield process
    process.stop()


@pytest.fixture
def asgi_server(transactional_db):
    """The real ASGI app (HTTP + /ws) on a loopback port; data must be committed to be seen."""
    server = AsgiServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def http_test_server():
    """A real HTTP server on 127.0.0.1 (see tests/httpserver.py for its routes)."""
    server = TestHttpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openai_server_session():
    server = OpenAITestServer().start()
    yield server
    server.stop()


@pytest.fixture
def openai_server(openai_server_session):
    """A real OpenAI-compatible server on loopback (tests/openai_server.py), reset per test."""
    openai_server_session.reset()
    yield openai_server_session
    openai_server_session.reset()


@pytest.fixture(scope="session")
def clamd_server(tmp_path_factory):
    """A real clamd on loopback with a generated signature database (tests/clamd_server.py)."""
    binary = clamd_binary()
    if binary is None:
        pytest.skip("clamd is not installed (apt-get install clamav-daemon)")
    server = ClamdServer(tmp_path_factory.mktemp("clamd"), binary).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def provider_server_session():
    from tests.providers.server import ProviderTestServer

    server = ProviderTestServer().start()
    yield server
    server.stop()


@pytest.fixture
def provider_server(provider_server_session):
    """The providers' APIs and an OAuth2 server on loopback (tests/providers/), reset per test."""
    provider_server_session.reset()
    return provider_server_session


@pytest.fixture(scope="session")
def mail_servers_session():
    from tests.providers.mail import ImapServer, SmtpServer

    smtp, imap = SmtpServer().start(), ImapServer().start()
    yield smtp, imap
    smtp.stop()
    imap.stop()


@pytest.fixture
def mail_servers(mail_servers_session):
    """SMTP (with AUTH) and IMAP servers on loopback (tests/providers/mail.py), emptied and
    refilled per test."""
    for server in mail_servers_session:
        server.reset()
    return mail_servers_session
