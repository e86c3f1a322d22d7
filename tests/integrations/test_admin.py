import pytest
from django.test import Client

from apps.chat.services import chat_session_create
from apps.integrations import services
from apps.users.models import User

pytestmark = pytest.mark.django_db
SECRET = "sk-alice-admin-0123456789"


def test_staff_see_credentials_files_and_chats_but_never_a_key(owner: User) -> None:
    superuser = User.objects.create_superuser("root@example.com", "x-long-password-1")
    credential = services.credential_create(
        user=owner, provider="openai", title="Alice's OpenAI", api_key=SECRET
    )
    session = chat_session_create(user=owner, title="Otter talk")
    admin = Client()
    admin.force_login(superuser)
    listing = admin.get("/admin/integrations/credential/")
    detail = admin.get(f"/admin/integrations/credential/{credential.pk}/change/")
    for page in (listing, detail):
        assert page.status_code == 200
        assert b"Alice&#x27;s OpenAI" in page.content
        assert SECRET.encode() not in page.content
        assert credential.encrypted_api_key.encode() not in page.content
    assert admin.get("/admin/integrations/uploadedfile/").status_code == 200
    chat = admin.get(f"/admin/chat/chatsession/{session.pk}/change/")
    assert chat.status_code == 200
    assert b"Otter talk" in chat.content
