"""`/api/schema/` and `/api/docs/` keep the envelope rule: only a successful GET is YAML, JSON
or HTML; OPTIONS and every error, whatever the method or `Accept`, are the JSON envelope."""

import pytest
import yaml

from tests.api.test_envelope import assert_error_envelope

pytestmark = pytest.mark.django_db

PATHS = ["/api/schema/", "/api/docs/"]
REFUSED_METHODS = ["POST", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", REFUSED_METHODS)
def test_other_methods_are_a_405_envelope(client, path, method):
    response = client.generic(method, path, "{}", content_type="application/json")

    body = assert_error_envelope(response, 405, "Method not allowed")
    assert body["errors"][1] == f'Method "{method}" not allowed.'
    assert response["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("path", PATHS)
def test_options_is_a_200_envelope(client, path):
    response = client.options(path)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["isSuccess"] is True
    assert list(body["data"]) == ["name", "description", "renders", "parses"]


@pytest.mark.parametrize(
    ("path", "accept"),
    [("/api/schema/", "text/html"), ("/api/schema/", "text/csv"), ("/api/docs/", "text/csv")],
)
def test_an_unacceptable_accept_is_a_406_envelope(client, path, accept):
    response = client.get(path, HTTP_ACCEPT=accept)

    assert_error_envelope(response, 406, "Not Acceptable")


@pytest.mark.parametrize("path", PATHS)
def test_an_unknown_format_is_a_404_envelope(client, path):
    assert_error_envelope(client.get(path, {"format": "xml"}), 404, "Resource not found")


def test_successful_gets_are_unchanged(client):
    yaml_schema = client.get("/api/schema/")
    json_schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")
    head = client.head("/api/docs/")

    assert yaml_schema.status_code == 200
    assert yaml_schema["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(yaml_schema.content)["info"]["title"] == "Allmine API"
    assert json_schema.status_code == 200
    assert json_schema.json()["info"]["title"] == "Allmine API"
    assert docs.status_code == 200
    assert docs["Content-Type"].startswith("text/html")
    assert "swagger-ui" in docs.content.decode()
    assert (head.status_code, head.content) == (200, b"")
