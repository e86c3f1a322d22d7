"""Creator avatars: uploaded through the API or the dashboard, re-encoded by Pillow as a
256 px PNG, served publicly; anything that is not a reasonable image is refused."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from apps.store.models import Profile, ProfileAvatar
from apps.users.models import User
from tests.dashboard.helpers import signed_in

pytestmark = pytest.mark.django_db


def _image(fmt: str = "JPEG", size: tuple[int, int] = (640, 480), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, format=fmt, **save)
    return out.getvalue()


def _file(data: bytes, name: str = "me.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def test_it_stores_a_square_png_and_serves_it_to_anyone(
    creator_client: APIClient, api_client: APIClient, owner: User, settings
) -> None:
    settings.SITE_URL = "https://agents.example.com"
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera make: metadata that must not survive
    response = creator_client.put(
        "/api/store/profile/avatar",
        {"avatar": _file(_image(exif=exif.tobytes()))},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    profile = Profile.objects.get(user=owner)
    username = profile.username
    assert response.json()["avatar_url"].startswith(
        f"https://agents.example.com/api/store/creators/{username}/avatar?v="
    )

    served = api_client.get(f"/api/store/creators/{username.upper()}/avatar")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(served.content))
    assert (image.format, image.size) == ("PNG", (256, 256))
    assert b"SecretCam" not in served.content
    assert api_client.get("/api/store/creators/nobody/avatar").status_code == 404


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 400, "not an image"),
        (_image("BMP", (10, 10)), 400, "PNG, JPEG, GIF or WebP"),
        (_image("PNG", (6000, 5000)), 400, "pixels"),
        (b"x" * (2 * 1024 * 1024 + 1), 413, "bytes"),
    ],
)
def test_it_refuses_what_is_not_a_reasonable_image(
    creator_client: APIClient, data: bytes, status: int, words: str
) -> None:
    response = creator_client.put(
        "/api/store/profile/avatar", {"avatar": _file(data, "x.png")}, format="multipart"
    )
    assert response.status_code == status
    assert words in response.json()["error"]["message"]
    assert not ProfileAvatar.objects.exists()


def test_the_dashboard_edits_the_creator_profile_with_its_avatar(owner: User) -> None:
    alice = signed_in(owner)
    assert "You have none yet" in alice.get("/store/profile").content.decode()
    form = {
        "username": "Alice-Builds",
        "name": "Alice B.",
        "description": "Agents for otters",
        "links": "https://alice.example.com\n\n",
    }
    response = alice.post("/store/profile", {**form, "avatar": _file(_image("PNG"), "me.png")})
    assert response["Location"] == "/store/profile"
    profile = Profile.objects.get(user=owner)
    assert (profile.username, profile.links) == ("alice-builds", ["https://alice.example.com"])
    assert profile.avatar.png
    body = alice.get("/store/profile").content.decode()
    assert f'src="{profile.avatar_url}"' in body

    # A refused avatar changes nothing, the text fields included.
    response = alice.post("/store/profile", {**form, "name": "Changed", "avatar": _file(b"no")})
    assert response.status_code == 400
    profile.refresh_from_db()
    assert profile.name == "Alice B."
    response = alice.post("/store/profile", {**form, "links": "javascript:alert(1)"})
    assert "not a web address" in response.content.decode()
    assert Client().get("/store/profile").status_code == 302
