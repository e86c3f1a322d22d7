from django.core.management import call_command
from django.test import Client


def test_the_openapi_schema_validates_without_warnings(tmp_path) -> None:
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "/api/user/api-keys/{key_id}/permissions:" in text
    assert "PaginatedApiKeyList" in text
    for path in [
        "/api/graphs/{graph_id}/versions/active:",
        "/api/blocks/{block_id}/execute:",
        "/api/presets/{preset_id}:",
        "/api/graphs/import:",
    ]:
        assert path in text


def test_the_docs_page_uses_local_assets() -> None:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
