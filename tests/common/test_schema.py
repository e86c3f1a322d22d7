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


def test_it_documents_the_error_answers_and_the_page_limits() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert schema["components"]["schemas"]["ErrorEnvelope"]["required"] == ["success", "error"]
    listing = schema["paths"]["/api/graphs"]["get"]
    for status in ("400", "401", "403", "404", "429"):
        answer = listing["responses"][status]["content"]["application/json"]["schema"]
        assert answer == {"$ref": "#/components/schemas/ErrorEnvelope"}
    assert "NUL" in listing["responses"]["400"]["description"]
    page = next(p for p in listing["parameters"] if p["name"] == "page")
    assert (page["schema"]["minimum"], page["schema"]["maximum"]) == (1, 2**63 - 1)
    pin = schema["paths"]["/api/graphs/{graph_id}/versions/active"]["put"]
    assert {"400", "403", "404", "409"} <= set(pin["responses"])
    meta = schema["components"]["schemas"]["GraphMeta"]["properties"]["node_count"]
    assert meta == {"type": "integer", "readOnly": True}
