"""OPTIONS on every API route answers 200 in the envelope (found by the fuzzer: it was a 500
on viewsets without a `serializer_class`)."""

import pytest

pytestmark = pytest.mark.django_db

ID = "64d15f9e2e6c8f4d5a123456"
PATHS = [
    "/api/v1/health",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/live-stream/funded",
    f"/api/v1/live-stream/{ID}/fund",
    f"/api/v1/live-stream/{ID}/cancel",
    f"/api/v1/live-stream/{ID}/mini-crowd-fundings/{ID}/support",
]


@pytest.mark.parametrize("path", PATHS)
def test_options_is_a_200_envelope(auth_client, path):
    response = auth_client.options(path)

    assert response.status_code == 200
    body = response.json()
    assert body["isSuccess"] is True
    assert list(body["data"]) == ["name", "description", "renders", "parses"]
    assert body["data"]["renders"] == ["application/json"]
    assert "OPTIONS" in response["Allow"]
