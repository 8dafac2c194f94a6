"""OpenAPI helpers: describe responses as they really arrive, wrapped in the envelope."""

from functools import cache

from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

from allmine.api.messages import standard_message


@cache
def envelope_serializer(
    data_serializer: type[serializers.BaseSerializer] | None, many: bool = False
):
    """A serializer class describing `{isSuccess, statusCode, data, errors, timestamp}`.

    Marked `many=False` so drf-spectacular does not wrap a list endpoint's envelope in an
    array or a paginator: `data` is the array, and paging lives in the query and a header.
    """
    if data_serializer is None:
        name = "EmptyEnvelope"
    else:
        base = data_serializer.__name__.removesuffix("Serializer")
        name = f"{base}ListEnvelope" if many else f"{base}Envelope"
    attrs = {
        "isSuccess": serializers.BooleanField(help_text="Always true."),
        "statusCode": serializers.IntegerField(help_text="Equals the HTTP status."),
        "data": (
            serializers.JSONField(allow_null=True, help_text="Always null.")
            if data_serializer is None
            else data_serializer(many=many)
        ),
        "errors": serializers.ListField(child=serializers.CharField(), max_length=0),
        "timestamp": serializers.DateTimeField(),
        "Meta": type("Meta", (), {"ref_name": name}),
    }
    return extend_schema_serializer(many=False)(type(name, (serializers.Serializer,), attrs))


class ErrorEnvelopeSerializer(serializers.Serializer):
    isSuccess = serializers.BooleanField(help_text="Always false.")
    statusCode = serializers.IntegerField(help_text="Equals the HTTP status.")
    data = serializers.JSONField(allow_null=True, help_text="Always null on errors.")
    errors = serializers.ListField(
        child=serializers.CharField(),
        min_length=1,
        help_text="The standard message for the status first, then specifics.",
    )
    timestamp = serializers.DateTimeField()

    class Meta:
        ref_name = "ErrorEnvelope"


def error_response(status_code: int) -> OpenApiResponse:
    return OpenApiResponse(
        response=ErrorEnvelopeSerializer,
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
    """`responses=` for `@extend_schema`: the success envelope plus each error envelope."""
    responses = {
        success_status: OpenApiResponse(
            response=envelope_serializer(data_serializer, many),
            description=description or "Success.",
        )
    }
    for status_code in (*errors, 500, 503):
        responses[status_code] = error_response(status_code)
    return responses
