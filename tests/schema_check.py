"""Every /api/ response a test receives is checked against the live OpenAPI document.

The root conftest wraps Django's test `Client.request` (so `APIClient` too): each response to
an `/api/` URL is validated with openapi-core (an independent validator) against the document
`/api/schema/` serves, fetched once per test session. Strict about:

- the status: a status the operation does not declare fails;
- the body: types, `null` only where the schema admits it, required keys, enums, and no key the
  schema does not name (the check adds `additionalProperties: false` to the response objects
  of its own copy of the document, so an extra key fails too);
- headers: each declared header present when required and valid; one of the documented
  response headers (`X-Total-Count`, `Idempotent-Replayed`, ...) sent where the document
  does not declare it fails.

Requests that match no operation are checked too: a path no operation has must answer the one
404 the document describes (`#/components/responses/NotFound`); a method the path lacks must
answer the 405 its operations declare. Only OPTIONS/HEAD (metadata, CORS preflights) are out of
scope, and so are the document, the docs pages, and the redirect to HTTPS a plain-HTTP request
gets in production. Tests that swap the URL conf (`@pytest.mark.urls`) add test-only routes the
document cannot describe: their responses are checked against the error envelope of their status.
"""

import copy
import importlib
import json
import os
import re
from functools import cache

from django.test.client import Client
from django.test.utils import override_settings
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from allmine.api.schema import RESPONSE_HEADERS

SCHEMA_URL = "/api/schema/?format=json"
NOT_CHECKED_PATHS = ("/api/schema/", "/api/docs/")
NOT_CHECKED_METHODS = ("OPTIONS", "HEAD")
HOST = "http://testserver"
DOCUMENT_URI = "urn:allmine:openapi"
# Documented headers that must not appear where the document does not declare them. `Allow` is
# declared on 405 only, but DRF sends it on every response of its views.
POLICED_HEADERS = [name for name in RESPONSE_HEADERS if name != "Allow"]


class SchemaMismatch(AssertionError):
    pass


class Document:
    """The parsed document and what the check needs from it, built once per session."""

    def __init__(self, spec: dict):
        self.spec = spec
        strict = copy.deepcopy(spec)
        for name, schema in strict["components"]["schemas"].items():
            if not name.endswith("Request") and "properties" in schema:
                schema.setdefault("additionalProperties", False)
        self.strict = strict
        self.openapi = OpenAPI.from_dict(strict)
        resource = Resource(contents=strict, specification=DRAFT202012)
        self.registry = Registry().with_resource(DOCUMENT_URI, resource)
        # Literal paths first, so `/live-stream/funded` never falls to `/live-stream/{id}`.
        self.paths = sorted(
            ((template, _template_regex(template)) for template in spec["paths"]),
            key=lambda item: (item[0].count("{"), item[0]),
        )

    def match(self, path: str) -> tuple[str | None, dict]:
        for template, regex in self.paths:
            found = regex.match(path)
            if found:
                return template, found.groupdict()
        return None, {}

    def resolve_ref(self, node: dict) -> dict:
        while "$ref" in node:
            target = self.strict
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node


def _template_regex(template: str) -> re.Pattern:
    pattern = re.sub(r"\\\{(\w+)\\\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}$")


@cache
def document() -> Document:
    """The live document, fetched through the project's real URL conf (not a test's)."""
    settings_module = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
    # Whatever the test that first needs it has changed (URL conf, HTTPS redirect, hosts).
    with override_settings(
        ROOT_URLCONF=settings_module.ROOT_URLCONF,
        SECURE_SSL_REDIRECT=False,
        ALLOWED_HOSTS=["testserver"],
    ):
        response = Client().get(SCHEMA_URL)
    assert response.status_code == 200, f"{SCHEMA_URL} answered {response.status_code}"
    return Document(json.loads(response.content))


def _is_https_redirect(request_meta: dict, response) -> bool:
    return (
        response.status_code == 301
        and request_meta.get("wsgi.url_scheme", "http") == "http"
        and response.get("Location", "").startswith("https://")
    )


def _describe(error: BaseException) -> list[str]:
    """openapi-core's nested errors as `<JSON path>: <message>` lines."""
    lines = []
    schema_errors = getattr(error, "schema_errors", None)
    if schema_errors:
        for schema_error in schema_errors:
            for leaf in _leaves(schema_error):
                lines.append(f"{leaf.json_path}: {leaf.message}")
    for nested in getattr(error, "context", None) or []:
        if isinstance(nested, BaseException):
            name = getattr(nested, "name", "?")
            lines.extend(f"header {name}: {line}" for line in _describe(nested))
    if error.__cause__ is not None:
        lines.extend(_describe(error.__cause__))
    if not lines:
        lines.append(f"{type(error).__name__}: {error}")
    return lines


def _leaves(schema_error):
    """The most specific errors under a `oneOf`/`anyOf` failure."""
    if schema_error.context:
        for sub in schema_error.context:
            yield from _leaves(sub)
    else:
        yield schema_error


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _headers(response) -> dict:
    return {name: value for name, value in response.items()}


def check_response(request_meta: dict, response, *, custom_urlconf: bool = False) -> None:
    """Raise `SchemaMismatch` naming operation, status and JSON path when `response` is not
    what the document says."""
    method = request_meta["REQUEST_METHOD"].upper()
    path = request_meta["PATH_INFO"]
    if not path.startswith("/api/") or path.startswith(NOT_CHECKED_PATHS):
        return
    if method in NOT_CHECKED_METHODS:
        return
    if _is_https_redirect(request_meta, response):
        return  # SECURE_SSL_REDIRECT's answer to plain HTTP: transport, not the API
    doc = document()
    status = response.status_code
    template, path_params = doc.match(path)
    where = f"{method} {path}"

    if template is None:
        if custom_urlconf and status != 404:
            _check_against_component(doc, where, response, f"Error{status}Envelope")
            return
        if status != 404:
            raise SchemaMismatch(
                f"{where} -> {status}: no operation has this path, so the document says 404 "
                "(#/components/responses/NotFound)"
            )
        response_object = doc.resolve_ref(doc.spec["components"]["responses"]["NotFound"])
        _check_against_response_object(doc, where, response, response_object)
        return

    operations = doc.spec["paths"][template]
    if method.lower() not in operations:
        if status != 405:
            raise SchemaMismatch(
                f"{where} -> {status}: {template} has no {method} operation, so the document "
                "says 405"
            )
        method = next(iter(operations)).upper()  # the 405 every operation declares

    operation_id = operations[method.lower()].get("operationId", f"{method} {template}")
    where = f"{operation_id} ({where})"
    declared = operations[method.lower()]["responses"]
    if str(status) not in declared:
        raise SchemaMismatch(
            f"{where} -> {status}: status not declared (declared: {', '.join(declared)})"
        )
    mock_request = MockRequest(HOST, method, path, path_pattern=template, view_args=path_params)
    content_type = response.get("Content-Type", "")
    mock_response = MockResponse(
        _body(response),
        status_code=status,
        headers=_headers(response),
        content_type=content_type.split(";")[0].strip(),
    )
    try:
        doc.openapi.validate_response(mock_request, mock_response)
    except Exception as error:  # openapi-core raises several unrelated types
        details = "\n  ".join(_describe(error))
        raise SchemaMismatch(f"{where} -> {status}:\n  {details}") from None
    _check_undeclared_headers(where, status, response, doc.resolve_ref(declared[str(status)]))


def _check_undeclared_headers(where: str, status: int, response, response_object: dict) -> None:
    declared = {name.lower() for name in response_object.get("headers", {})}
    for name in POLICED_HEADERS:
        if response.has_header(name) and name.lower() not in declared:
            raise SchemaMismatch(
                f"{where} -> {status}: header {name} sent but not declared for this response"
            )


def _validate_json(doc: Document, where: str, status: int, body: bytes, schema: dict) -> None:
    try:
        data = json.loads(body)
    except ValueError:
        raise SchemaMismatch(f"{where} -> {status}: body is not JSON") from None
    validator = OAS31Validator(schema, registry=doc.registry)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    if errors:
        details = "\n  ".join(
            f"{leaf.json_path}: {leaf.message}" for error in errors for leaf in _leaves(error)
        )
        raise SchemaMismatch(f"{where} -> {status}:\n  {details}")


def _check_against_response_object(doc, where, response, response_object: dict) -> None:
    status = response.status_code
    content = response_object.get("content", {}).get("application/json")
    if not response.get("Content-Type", "").startswith("application/json") or not content:
        raise SchemaMismatch(f"{where} -> {status}: not the documented application/json body")
    _validate_json(doc, where, status, _body(response), _absolute(content["schema"]))
    for name, header in response_object.get("headers", {}).items():
        header = doc.resolve_ref(header)
        if header.get("required") and not response.has_header(name):
            raise SchemaMismatch(f"{where} -> {status}: required header {name} missing")
    _check_undeclared_headers(where, status, response, response_object)


def _absolute(schema: dict) -> dict:
    """A schema whose `$ref`s resolve inside the document, wherever it is validated from."""
    if "$ref" in schema:
        return {"$ref": DOCUMENT_URI + schema["$ref"]}
    return schema


def _check_against_component(doc, where, response, component: str) -> None:
    status = response.status_code
    if component not in doc.spec["components"]["schemas"]:
        raise SchemaMismatch(f"{where} -> {status}: no {component} in the document")
    schema = {"$ref": f"{DOCUMENT_URI}#/components/schemas/{component}"}
    _validate_json(doc, where, status, _body(response), schema)
