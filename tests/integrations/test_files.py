"""Uploads (SPEC §7 files): limits, a real clamd scan, storage, use by a block, expiry."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from apps.graphs.blocks.library.files import ReadFileBlock
from apps.integrations import services
from apps.integrations.models import UploadedFile
from apps.integrations.tasks import files_cleanup
from apps.users.models import User
from tests.clamd_server import SAMPLE, SIGNATURE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage_dir(settings, tmp_path) -> Path:
    """Each test stores its uploads in a directory of its own."""
    directory = tmp_path / "files"
    settings.STORAGES = {
        **settings.STORAGES,
        "uploads": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(directory)},
        },
    }
    return directory


def _stored(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()] if directory.exists() else []


def _upload(client: APIClient, name: str, content: bytes, **fields):
    return client.post(
        "/api/files/upload",
        {"file": SimpleUploadedFile(name, content), **fields},
        format="multipart",
    )


@pytest.mark.django_db(transaction=True)  # the block runs in a thread with its own connection
def test_a_clean_upload_is_stored_and_a_block_can_read_it(
    owner_client: APIClient, storage_dir: Path
) -> None:
    response = _upload(owner_client, "notes.txt", b"otters hold hands")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "notes.txt"
    assert body["content_type"] == "text/plain"
    assert body["size"] == 17
    assert body["reference"] == f"file:{body['id']}"
    [path] = _stored(storage_dir)
    assert path.read_bytes() == b"otters hold hands"
    result = owner_client.post(
        f"/api/blocks/{ReadFileBlock.id}/execute", {"file": body["reference"]}, format="json"
    )
    assert result.status_code == 200, result.content
    assert result.json() == {
        "content": ["otters hold hands"],
        "name": ["notes.txt"],
        "content_type": ["text/plain"],
        "size": [17],
    }
    as_bytes = owner_client.post(
        f"/api/blocks/{ReadFileBlock.id}/execute",
        {"file": body["id"], "as_text": False},
        format="json",
    )
    assert as_bytes.json()["content"] == ["b3R0ZXJzIGhvbGQgaGFuZHM="]


@pytest.mark.django_db(transaction=True)
def test_another_users_file_is_neither_listed_nor_readable(
    owner_client: APIClient, other_user: User
) -> None:
    theirs = services.file_upload(
        user=other_user, upload=SimpleUploadedFile("bob.txt", b"secret of bob")
    )
    assert owner_client.get(f"/api/files/{theirs.pk}").status_code == 404
    assert owner_client.get("/api/files").json()["total"] == 0
    result = owner_client.post(
        f"/api/blocks/{ReadFileBlock.id}/execute", {"file": theirs.reference}, format="json"
    ).json()
    assert "content" not in result
    assert "not found" in result["error"][0].lower()


def test_a_file_type_outside_the_list_is_refused(
    owner_client: APIClient, storage_dir: Path
) -> None:
    response = _upload(owner_client, "setup.exe", b"MZ\x90\x00")
    assert response.status_code == 400
    assert "not accepted" in response.json()["error"]["message"]
    assert _stored(storage_dir) == []
    assert not UploadedFile.objects.exists()


def test_a_file_over_the_size_limit_is_refused(
    owner_client: APIClient, storage_dir: Path, settings
) -> None:
    settings.FILE_UPLOAD_MAX_BYTES = 10
    response = _upload(owner_client, "big.txt", b"x" * 11)
    assert response.status_code == 413
    assert response.json()["error"]["details"] == {"max_bytes": 10}
    assert _stored(storage_dir) == []


def test_an_infected_upload_is_refused_and_not_stored(
    owner_client: APIClient, storage_dir: Path, settings, clamd_server
) -> None:
    settings.CLAMAV_HOST, settings.CLAMAV_PORT = "127.0.0.1", clamd_server.port
    response = _upload(owner_client, "sample.txt", SAMPLE)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["error_code"] == "FILE_INFECTED"
    assert error["details"] == {"signature": f"{SIGNATURE}.UNOFFICIAL"}
    assert "contains a virus" in error["message"]
    assert _stored(storage_dir) == []
    assert not UploadedFile.objects.exists()
    clean = _upload(owner_client, "clean.txt", SAMPLE.replace(b"virus", b"guest"))
    assert clean.status_code == 201
    assert len(_stored(storage_dir)) == 1


def test_a_scanner_that_cannot_be_reached_stores_nothing(
    owner_client: APIClient, storage_dir: Path, settings
) -> None:
    settings.CLAMAV_HOST, settings.CLAMAV_PORT = "127.0.0.1", 9
    response = _upload(owner_client, "notes.txt", b"hello")
    assert response.status_code == 503
    assert "virus scanner is unavailable" in response.json()["error"]["message"]
    assert _stored(storage_dir) == []


def test_expired_files_are_cleaned_up(
    owner: User, owner_client: APIClient, storage_dir: Path
) -> None:
    kept = services.file_upload(user=owner, upload=SimpleUploadedFile("keep.txt", b"keep"))
    gone = services.file_upload(user=owner, upload=SimpleUploadedFile("gone.txt", b"gone"))
    UploadedFile.objects.filter(pk=gone.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert owner_client.get(f"/api/files/{gone.pk}").status_code == 404
    assert files_cleanup() == 1
    assert files_cleanup() == 0
    assert list(UploadedFile.objects.values_list("pk", flat=True)) == [kept.pk]
    assert [path.read_bytes() for path in _stored(storage_dir)] == [b"keep"]


def test_a_file_can_be_deleted(owner_client: APIClient, storage_dir: Path) -> None:
    created = _upload(owner_client, "notes.txt", b"bye").json()
    assert owner_client.delete(f"/api/files/{created['id']}").status_code == 204
    assert _stored(storage_dir) == []
    assert owner_client.get(f"/api/files/{created['id']}").status_code == 404
