"""The Credentials page in a real browser (SPEC §16): an SMTP account saved through the form,
then "Connect GitHub" → the local OAuth2 server's consent → the callback, a credential whose
refresh failed shown as needing re-authorization, and Reconnect."""

import re

import pytest
from playwright.sync_api import Page, expect

from apps.integrations.models import Credential
from tests.dashboard.browser import shot, sign_in
from tests.dashboard.test_browser import page as page  # a fixture
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_credentials_of_each_kind_and_an_oauth2_connection(
    page: Page,
    provider_server,
    settings,
) -> None:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = ["127.0.0.1:2525", "127.0.0.1:8888"]
    settings.OAUTH_CLIENTS = {
        "github": {
            "client_id": "test-client",
            "client_secret": "test-secret",
            "authorize_url": f"{provider_server.url}/oauth/authorize",
            "token_url": f"{provider_server.url}/oauth/token",
        }
    }
    user = UserFactory(email="cred@example.com")
    sign_in(page, "cred@example.com")
    page.goto("/settings/credentials")

    form = page.locator("#credential-form")
    form.locator("select[name=provider]").select_option("smtp")
    form.locator("select[name=credential_type]").select_option("user_password")
    form.locator("input[name=title]").fill("Team mail")
    form.locator("input[name=username]").fill("team@example.org")
    form.locator("input[name=password]").fill("mail-secret-987")
    form.locator("input[name=base_url]").fill("smtp://127.0.0.1:2525")
    form.locator("button[type=submit]").click()
    expect(page.locator("#credentials")).to_contain_text("Team mail")
    assert "mail-secret-987" not in page.content()

    page.click("text=Connect GitHub")  # → the provider's consent page → back to the callback
    expect(page).to_have_url(re.compile(r"/settings/credentials$"))
    expect(page.locator("body")).to_contain_text("Connected “GitHub”")
    connected = Credential.objects.get(user=user, provider="github")
    assert connected.credential_type == "oauth2"
    row = page.locator(f"tr[data-credential='{connected.pk}']")
    expect(row).to_contain_text("active")

    Credential.objects.filter(pk=connected.pk).update(status=Credential.Status.NEEDS_REAUTH)
    page.reload()
    expect(row).to_contain_text("needs re-authorization")
    shot(page, "credentials-needs-reauth")
    row.locator("text=Reconnect").click()
    expect(page.locator("body")).to_contain_text("Connected “GitHub”")
    expect(row).to_contain_text("active")
    assert Credential.objects.filter(user=user, provider="github").count() == 1
