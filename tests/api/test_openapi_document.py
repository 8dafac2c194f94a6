"""The OpenAPI document itself, and the strict response check every API test runs through."""

import json

import pytest
from django.http import HttpResponse

from tests.schema_check import SchemaMismatch, check_response, document
from tests.users.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def spec() -> dict:
    return document().spec


def operations():
    for path, item in spec()["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def walk(node, at="#"):
    if isinstance(node, dict):
        yield at, node
        for key, value in node.items():
            yield from walk(value, f"{at}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{at}/{index}")


def test_openapi_3_1_with_declared_tags():
    assert spec()["openapi"] == "3.1.0"
    declared = {tag["name"]: tag.get("description") for tag in spec()["tags"]}
    assert all(declared.values())
    for path, method, operation in operations():
        assert set(operation["tags"]) <= set(declared), f"{method} {path}: undeclared tag"


def test_every_operation_has_its_own_description():
    descriptions = [operation.get("description", "") for _, _, operation in operations()]
    assert all(descriptions)
    assert len(set(descriptions)) == len(descriptions)


def test_every_operation_declares_the_shared_errors_and_request_id():
    for path, method, operation in operations():
        responses = operation["responses"]
        for status in ("405", "406", "500", "503"):
            assert status in responses, f"{method} {path}: no {status}"
        if "requestBody" in operation:
            assert "415" in responses, f"{method} {path}: takes a body but no 415"
        for status, response in responses.items():
            response = document().resolve_ref(response)
            assert "X-Request-ID" in response["headers"], f"{method} {path} {status}"
            if status in ("429", "503"):
                assert "Retry-After" in response["headers"]
            if status == "401":
                assert "WWW-Authenticate" in response["headers"]


def test_error_envelopes_are_typed_apart_from_success_envelopes():
    schemas = spec()["components"]["schemas"]
    error = schemas["Error409Envelope"]["properties"]
    assert error["isSuccess"]["const"] is False
    assert error["statusCode"]["const"] == 409
    assert error["data"]["type"] == "null"
    assert error["errors"]["minItems"] == 1 and error["errors"]["items"] == {"type": "string"}
    success = schemas["FundingReceiptCreatedEnvelope"]["properties"]
    assert success["isSuccess"]["const"] is True
    assert success["statusCode"]["const"] == 201
    assert success["errors"]["maxItems"] == 0


def test_error_examples_show_the_real_envelope():
    fund = spec()["paths"]["/api/v1/live-stream/{id}/fund"]["post"]
    examples = fund["responses"]["409"]["content"]["application/json"]["examples"]
    (example,) = examples.values()
    assert example["value"]["isSuccess"] is False
    assert example["value"]["statusCode"] == 409
    assert example["value"]["data"] is None
    assert example["value"]["errors"][0] == (
        "Resource already exists or cannot be changed in its current state"
    )


def test_nullability_is_exact():
    """No type-less nullable, no 3.0 `nullable`, no `NullEnum`: null is a type of its own."""
    for at, node in walk(spec()):
        assert "nullable" not in node, at
        assert "NullEnum" not in node.get("$ref", ""), at
    stream = spec()["components"]["schemas"]["CrowdfundedLiveStream"]["properties"]
    assert stream["price"]["type"] == ["number", "null"]
    assert stream["role"]["oneOf"][1] == {"type": "null"}
    photo = spec()["components"]["schemas"]["UserSummary"]["properties"]["profilePhoto"]
    assert photo["oneOf"] == [{"$ref": "#/components/schemas/Media"}, {"type": "null"}]


def test_fields_the_server_always_sends_are_required():
    # Sent only with a read replica configured.
    optional = {"HealthChecks": {"replica"}, "Health": {"replicaLagSeconds"}}
    schemas = spec()["components"]["schemas"]
    for name, schema in schemas.items():
        if name.endswith("Request") or "properties" not in schema:
            continue
        expected = set(schema["properties"]) - optional.get(name, set())
        assert set(schema.get("required", [])) == expected, name


def test_nul_characters_are_refused_by_the_schema():
    schemas = spec()["components"]["schemas"]
    assert schemas["LoginInputRequest"]["properties"]["password"]["pattern"] == "^[^\\x00]*$"
    assert schemas["RefreshInputRequest"]["properties"]["refreshToken"]["pattern"] == (
        "^[^\\x00]*$"
    )


def test_unknown_urls_share_one_documented_404():
    not_found = spec()["components"]["responses"]["NotFound"]
    assert "any URL" in not_found["description"]
    fund = spec()["paths"]["/api/v1/live-stream/{id}/fund"]["post"]
    assert fund["responses"]["404"] == {"$ref": "#/components/responses/NotFound"}


# --- The check itself fails on what it must --------------------------------------------------


def meta(method: str, path: str) -> dict:
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.url_scheme": "http"}


def envelope(status: int, data=None, errors=None, **extra) -> dict:
    return {
        "isSuccess": status < 400,
        "statusCode": status,
        "data": data,
        "errors": errors if errors is not None else ([] if status < 400 else ["x"]),
        "timestamp": "2026-05-22T16:11:27.028Z",
        **extra,
    }


def fake(status: int, body: dict, **headers) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["X-Request-ID"] = "abc"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def test_the_check_accepts_a_real_response(auth_client):
    response = auth_client.get("/api/v1/live-stream/funded")  # checked by the fixture too

    check_response(response.request, response)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        # an extra key in the envelope
        (fake(200, envelope(200, data=[], extra=1), X_Total_Count="0"), "extra"),
        # a header the list must send is missing
        (fake(200, envelope(200, data=[])), "X-Total-Count"),
        # null where the schema has an array
        (fake(200, envelope(200, data=None), X_Total_Count="0"), "$.data"),
        # an error envelope claiming success
        (fake(400, envelope(400) | {"isSuccess": True}), "$.isSuccess"),
        # a status the operation does not declare
        (fake(418, envelope(418)), "status not declared"),
        # a documented header sent where it is not declared
        (fake(400, envelope(400), Idempotent_Replayed="true"), "Idempotent-Replayed"),
    ],
)
def test_the_check_names_what_is_wrong(response, expected):
    with pytest.raises(SchemaMismatch) as failure:
        check_response(meta("GET", "/api/v1/live-stream/funded"), response)

    message = str(failure.value)
    assert "live_stream_funded_list (GET /api/v1/live-stream/funded)" in message
    assert expected in message


def test_the_check_wants_404_for_unknown_urls_and_405_for_unknown_methods():
    with pytest.raises(SchemaMismatch, match="says 404"):
        check_response(meta("GET", "/api/v1/nothing"), fake(200, envelope(200)))
    with pytest.raises(SchemaMismatch, match="says 405"):
        check_response(meta("DELETE", "/api/v1/live-stream/funded"), fake(404, envelope(404)))
    with pytest.raises(SchemaMismatch, match=r"\$.statusCode"):
        check_response(meta("GET", "/api/v1/nothing"), fake(404, envelope(405)))


def test_nested_nullability_is_checked(user, auth_client):
    """A null `profilePhoto` is valid; a null `creator` is not."""
    from tests.crowdfunding.factories import ContributionFactory
    from tests.livestreams.factories import LiveStreamFactory

    ContributionFactory(user=user, stream=LiveStreamFactory(creator__profile_photo=None))
    response = auth_client.get("/api/v1/live-stream/funded")
    body = response.json()
    assert body["data"][0]["creator"]["profilePhoto"] is None

    body["data"][0]["creator"] = None
    broken = fake(200, body, X_Total_Count="1")
    with pytest.raises(SchemaMismatch, match=r"\$\.data\[0\]\.creator"):
        check_response(meta("GET", "/api/v1/live-stream/funded"), broken)


def test_login_responses_are_checked_too(api_client):
    UserFactory(username="ayse")
    ok = api_client.post(
        "/api/v1/auth/login", {"username": "ayse", "password": TEST_PASSWORD}, format="json"
    )
    wrong = api_client.post(
        "/api/v1/auth/login", {"username": "ayse", "password": "nope"}, format="json"
    )

    assert ok.status_code == 200
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"]


# --- Statuses every operation can answer, as real responses (the fixture validates them) ----

ID = "64d15f9e2e6c8f4d5a123456"


def test_406_when_the_client_accepts_no_json(auth_client):
    response = auth_client.get("/api/v1/live-stream/funded", HTTP_ACCEPT="text/html")

    assert response.status_code == 406
    assert response.json()["errors"][0] == "Not Acceptable"


def test_415_when_the_body_is_not_json(auth_client):
    response = auth_client.post(
        f"/api/v1/live-stream/{ID}/fund", data="amount=5", content_type="text/plain"
    )

    assert response.status_code == 415
    assert response.json()["errors"][0] == "Unsupported Media Type"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/auth/login"),
        ("delete", f"/api/v1/live-stream/{ID}/fund"),
        ("put", "/api/v1/health"),
    ],
)
def test_405_on_a_path_without_that_method(auth_client, method, path):
    response = getattr(auth_client, method)(path)

    assert response.status_code == 405
    assert response.json()["statusCode"] == 405


def test_nul_in_a_password_is_refused(api_client):
    response = api_client.post(
        "/api/v1/auth/login", {"username": "ayse", "password": "a\x00b"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][1].startswith("password:")
