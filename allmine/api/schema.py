"""OpenAPI helpers: describe responses as they really arrive, wrapped in the envelope.

Views say what is specific to them with `@extend_schema(responses=envelope_responses(...))`;
`EnvelopeAutoSchema` (the project's `DEFAULT_SCHEMA_CLASS`) adds what every operation shares:

- error envelopes the server can send on any operation: 400, 405 and 406 always, 415 when
  it takes a body, 401 and 403 when it needs a token, 404 when its path has
  parameters, 429 when it is throttled, 500 and 503;
- response headers: `X-Request-ID` on every response, `X-Total-Count` on a paged list,
  `Idempotent-Replayed` on the success of an operation taking `Idempotency-Key`,
  `Retry-After` on 429 and 503, `RateLimit-Limit/Remaining/Reset` on 429, `WWW-Authenticate`
  on 401, `Allow` on 405, `ETag` on the 200 and 304 of a conditional GET (an operation taking
  `If-None-Match`, allmine/api/conditional.py);
- `required` for every field a response always carries (model fields with defaults too);
  only a field declared `required=False` on a serializer may be absent from a response;
- a `pattern` refusing NUL characters on every request string the server refuses them in.

`postprocess_schema` (a `POSTPROCESSING_HOOKS` entry) then makes nullability exact in OpenAPI
3.1 terms (`type: [..., "null"]`, `oneOf: [$ref, {type: null}]`, never a `NullEnum`) and
documents the 404 once as `#/components/responses/NotFound`, for unknown URLs as well.
"""

from functools import cache

from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_doc
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.throttling import ScopedRateThrottle

from allmine.api.messages import standard_message

TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
NO_NUL_PATTERN = r"^[^\x00]*$"
EXAMPLE_TIMESTAMP = "2026-05-22T16:11:27.028Z"

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=IDEMPOTENCY_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    type={"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7E]+$"},
    description=(
        "Optional, 1–255 printable ASCII characters, kept 24 hours per user. A retry with the "
        "same key and body returns the first response (header `Idempotent-Replayed: true`) "
        "and charges nothing; the same key with another body is a 409."
    ),
)

# The response headers, by name: (schema, description).
RESPONSE_HEADERS = {
    "X-Request-ID": (
        {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
        "The request's id: the caller's `X-Request-ID` when it is 1–128 of "
        "`A-Z a-z 0-9 . _ : -`, else a new one. Also in the server's log lines.",
    ),
    "X-Total-Count": (
        {"type": "integer", "minimum": 0},
        "Number of items over all pages.",
    ),
    "Idempotent-Replayed": (
        {"type": "string", "enum": ["true"]},
        "Present when this is the stored response of an earlier request with the same "
        "`Idempotency-Key` (nothing was charged again).",
    ),
    "Retry-After": (
        {"type": "integer", "minimum": 0},
        "Seconds to wait before retrying.",
    ),
    "RateLimit-Limit": (
        {"type": "integer", "minimum": 1},
        "Requests allowed per window in the bucket that refused this one.",
    ),
    "RateLimit-Remaining": (
        {"type": "integer", "minimum": 0},
        "Requests left in that window: 0 on a 429.",
    ),
    "RateLimit-Reset": (
        {"type": "integer", "minimum": 1},
        "Seconds until that window ends.",
    ),
    "Allow": (
        {"type": "string"},
        "The methods this URL answers, e.g. `GET, HEAD, OPTIONS`.",
    ),
    "ETag": (
        {"type": "string", "pattern": '^"[0-9a-f]{32}"$'},
        "A strong tag of this response's data: send it back in `If-None-Match` to get a 304 "
        "while the data is unchanged.",
    ),
    "WWW-Authenticate": (
        {"type": "string"},
        'The scheme to authenticate with: `Bearer realm="api"`.',
    ),
}

ERROR_EXAMPLE_DETAILS = {
    400: ["amount: Ensure this value is greater than or equal to 1."],
    401: ["Given token not valid for any token type"],
    403: ["You cannot fund your own stream"],
    404: [],
    405: ['Method "GET" not allowed.'],
    406: ["Could not satisfy the request Accept header."],
    409: ["Insufficient credit balance"],
    415: ['Unsupported media type "text/plain" in request.'],
    429: ["Request was throttled. Expected available in 42 seconds."],
    500: [],
    503: ["Database unavailable, retry shortly"],
}


@cache
def _const_field(value) -> type[serializers.Field]:
    """A read-only field whose schema admits exactly `value` (`true`, `201`, `null`...)."""
    if value is None:
        schema = {"type": "null"}
    elif isinstance(value, bool):
        schema = {"type": "boolean", "const": value}
    else:
        schema = {"type": "integer", "const": value}
    return extend_schema_field(schema)(type(f"Const{value}Field", (serializers.ReadOnlyField,), {}))


@extend_schema_field({"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN})
class TimestampField(serializers.ReadOnlyField):
    """`2026-05-22T16:11:27.028Z`: UTC, milliseconds, `Z`."""


def _envelope_name(base: str, status_code: int) -> str:
    if status_code == 200:
        return f"{base}Envelope"
    if status_code == 201:
        return f"{base}CreatedEnvelope"
    return f"{base}Envelope{status_code}"


@cache
def envelope_serializer(
    data_serializer: type[serializers.BaseSerializer] | None,
    many: bool = False,
    status_code: int = 200,
):
    """A serializer class describing the success envelope `{isSuccess: true, statusCode:
    <status>, data, errors: [], timestamp}`.

    Marked `many=False` so drf-spectacular does not wrap a list endpoint's envelope in an
    array or a paginator: `data` is the array, and paging lives in the query and a header.
    """
    if data_serializer is None:
        base = "Empty"
    else:
        base = data_serializer.__name__.removesuffix("Serializer") + ("List" if many else "")
    name = _envelope_name(base, status_code)
    attrs = {
        "isSuccess": _const_field(True)(),
        "statusCode": _const_field(status_code)(help_text="Equals the HTTP status."),
        "data": (
            _const_field(None)(help_text="Always null.")
            if data_serializer is None
            else data_serializer(many=many, read_only=True)
        ),
        "errors": serializers.ListField(
            child=serializers.CharField(), max_length=0, read_only=True, help_text="Always empty."
        ),
        "timestamp": TimestampField(),
        "Meta": type("Meta", (), {"ref_name": name}),
    }
    return extend_schema_serializer(many=False)(type(name, (serializers.Serializer,), attrs))


@cache
def error_envelope_serializer(status_code: int):
    """`{isSuccess: false, statusCode: <status>, data: null, errors: [standard, ...], ...}`."""
    name = f"Error{status_code}Envelope"
    first = standard_message(status_code)
    attrs = {
        "isSuccess": _const_field(False)(),
        "statusCode": _const_field(status_code)(help_text="Equals the HTTP status."),
        "data": _const_field(None)(help_text="Always null on errors."),
        "errors": serializers.ListField(
            child=serializers.CharField(),
            min_length=1,
            read_only=True,
            help_text=f'"{first}" first, then specifics a client can show or log.',
        ),
        "timestamp": TimestampField(),
        "Meta": type("Meta", (), {"ref_name": name}),
    }
    example = OpenApiExample(
        first,
        value={
            "isSuccess": False,
            "statusCode": status_code,
            "data": None,
            "errors": [first, *ERROR_EXAMPLE_DETAILS.get(status_code, [])],
            "timestamp": EXAMPLE_TIMESTAMP,
        },
        response_only=True,
        status_codes=[str(status_code)],
    )
    return extend_schema_serializer(many=False, examples=[example])(
        type(name, (serializers.Serializer,), attrs)
    )


def error_response(status_code: int) -> OpenApiResponse:
    return OpenApiResponse(
        response=error_envelope_serializer(status_code),
        description=f'`errors[0]` is "{standard_message(status_code)}".',
    )


def envelope_responses(
    success_status: int,
    data_serializer=None,
    *,
    many: bool = False,
    errors: tuple[int, ...] = (),
    description: str = "",
) -> dict:
    """`responses=` for `@extend_schema`: the success envelope plus each error envelope.

    Errors every operation of its kind can answer (405, 406, 415, 401/403, 404, 429, 500,
    503...) are added by `EnvelopeAutoSchema`; list here the ones specific to the operation.
    """
    responses = {
        success_status: OpenApiResponse(
            response=envelope_serializer(data_serializer, many, success_status),
            description=description or "Success.",
        )
    }
    for status_code in (*errors, 500, 503):
        responses[status_code] = error_response(status_code)
    return responses


class EnvelopeAutoSchema(AutoSchema):
    """The project's schema class (`REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`); see the module."""

    BODY_METHODS = ("POST", "PUT", "PATCH")

    def get_description(self) -> str:
        """The operation's own text: `description=`, else the method's docstring, else its
        summary; never the class docstring several operations of one view would share."""
        description = super().get_description()
        if not description or description == get_doc(self.view.__class__):
            return self.get_summary() or description
        return description

    def _takes_body(self) -> bool:
        return self.method in self.BODY_METHODS and self.get_request_serializer() is not None

    def _is_public(self) -> bool:
        return any(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _is_throttled(self) -> bool:
        return any(
            not isinstance(throttle, ScopedRateThrottle)
            or getattr(self.view, "throttle_scope", None)
            for throttle in self.view.get_throttles()
        )

    def _total_header(self) -> str | None:
        paginator = self._get_paginator()
        if paginator is None or not self._is_list_view():
            return None
        return getattr(paginator, "total_header", None)

    def _is_conditional(self) -> bool:
        return any(
            isinstance(p, OpenApiParameter) and p.name == "If-None-Match"
            for p in self.get_override_parameters()
        )

    def _takes_idempotency_key(self) -> bool:
        return any(
            isinstance(p, OpenApiParameter) and p.name == IDEMPOTENCY_HEADER
            for p in self.get_override_parameters()
        )

    def _shared_error_statuses(self) -> list[int]:
        # 400 everywhere: a request refused before the view (more than 1000 query parameters,
        # a Host this server does not serve) is a 400 envelope on any operation.
        statuses = [400, 405, 406, 500, 503]
        if self._takes_body():
            statuses.append(415)
        if not self._is_public():
            statuses += [401, 403]
        if "{" in self.path:
            statuses.append(404)
        if self._is_throttled():
            statuses.append(429)
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status_code in sorted(set(self._shared_error_statuses())):
            code = str(status_code)
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    error_response(status_code), code, None, direction
                )
        return dict(sorted(responses.items()))

    def _get_response_headers_for_code(self, status_code, direction="response") -> dict:
        headers = super()._get_response_headers_for_code(status_code, direction)
        code = int(status_code) if str(status_code).isdigit() else 0
        wanted = {"X-Request-ID": True}
        if 200 <= code < 300:
            total_header = self._total_header()
            if total_header:
                wanted[total_header] = True
            if self._takes_idempotency_key():
                wanted["Idempotent-Replayed"] = False
        if (code == 200 or code == 304) and self._is_conditional():
            wanted["ETag"] = True
        if code in (429, 503):
            wanted["Retry-After"] = True
        if code == 429:
            for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
                wanted[name] = False
        if code == 401:
            wanted["WWW-Authenticate"] = True
        if code == 405:
            wanted["Allow"] = True
        for name, required in wanted.items():
            schema, description = RESPONSE_HEADERS[name]
            headers.setdefault(
                name, {"schema": dict(schema), "description": description, "required": required}
            )
        return headers

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        serializer = serializer if not isinstance(serializer, type) else serializer()
        properties = schema.get("properties", {})
        if direction == "response":
            declared = getattr(serializer, "_declared_fields", {})
            required = set(schema.get("required", []))
            for name, field in serializer.fields.items():
                if name not in properties:
                    continue
                explicitly_optional = (
                    name in declared and not field.required and not field.read_only
                )
                if not explicitly_optional:
                    required.add(name)
            if required:
                schema["required"] = sorted(required)
        else:
            for name, field in serializer.fields.items():
                prop = properties.get(name)
                if (
                    prop is not None
                    and "pattern" not in prop
                    and any(
                        isinstance(v, ProhibitNullCharactersValidator) for v in field.validators
                    )
                ):
                    prop["pattern"] = NO_NUL_PATTERN
        return schema


def _walk(node, visit):
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


NOT_FOUND_REF = {"$ref": "#/components/responses/NotFound"}


def postprocess_schema(result, generator, request, public):
    """Final touches on the whole document (after drf-spectacular's enum hook)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    null_refs = {
        f"#/components/schemas/{name}"
        for name, schema in schemas.items()
        if schema.get("type") == "null" or schema.get("enum") == [None]
    }

    def visit(node):
        for key in ("oneOf", "anyOf"):
            if key not in node:
                continue
            options = []
            for option in node[key]:
                if option.get("$ref") in null_refs:
                    option = {"type": "null"}
                elif list(option) == ["allOf"] and len(option["allOf"]) == 1:
                    option = option["allOf"][0]
                if option not in options:
                    options.append(option)
            node[key] = options

    _walk(result.get("paths", {}), visit)
    _walk(schemas, visit)
    for ref in null_refs:
        schemas.pop(ref.rsplit("/", 1)[1], None)

    # Each response header is described once, in components/headers.
    shared_headers = result["components"].setdefault("headers", {})
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for response in operation.get("responses", {}).values():
                for name, header in response.get("headers", {}).items():
                    if name in RESPONSE_HEADERS and "$ref" not in header:
                        shared_headers.setdefault(name, header)
                        response["headers"][name] = {"$ref": f"#/components/headers/{name}"}

    # The 404 is documented once, and used by every operation that can answer it.
    not_found = None
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            if "404" in responses:
                not_found = not_found or responses["404"]
                responses["404"] = dict(NOT_FOUND_REF)
    if not_found is None:
        not_found = {
            "description": "",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error404Envelope"}}
            },
        }
    not_found = dict(not_found)
    not_found["description"] = (
        '`errors[0]` is "Resource not found": an unknown or deleted resource, or any URL '
        "under `/api/` that matches no operation (any method)."
    )
    result["components"].setdefault("responses", {})["NotFound"] = not_found
    return result
