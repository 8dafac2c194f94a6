"""Page/limit paging that keeps `data` a plain array and reports the total in a header."""

from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.response import Response


class QueryIntegerField(serializers.IntegerField):
    """A query-string integer written in plain digits only: no sign, spaces or `1.0`."""

    def to_internal_value(self, data):
        if not (isinstance(data, str) and data.isascii() and data.isdigit()):
            self.fail("invalid")
        return super().to_internal_value(data)


class PageLimitQuerySerializer(serializers.Serializer):
    page = QueryIntegerField(min_value=1, max_value=1_000_000, required=False, default=1)
    limit = QueryIntegerField(min_value=1, max_value=100, required=False, default=100)


class HeaderTotalPagination(BasePagination):
    """`?page=` (≥ 1, default 1) and `?limit=` (1–100, default 100); total in `X-Total-Count`.

    A page past the end is an empty array, not an error. Anything that is not such an
    integer is a 400. The count query is skipped when the first page holds everything.
    """

    total_header = "X-Total-Count"
    default_limit = 100
    max_limit = 100

    def paginate_queryset(self, queryset, request, view=None, *, rows=list):
        """The page's items: `rows(queryset[offset:offset + limit])`, model instances by
        default, or whatever `rows` reads from the sliced queryset (e.g. plain rows)."""
        params = {
            key: request.query_params[key]
            for key in ("page", "limit")
            if key in request.query_params
        }
        query = PageLimitQuerySerializer(data=params)
        query.is_valid(raise_exception=True)
        page, limit = query.validated_data["page"], query.validated_data["limit"]
        offset = (page - 1) * limit
        items = rows(queryset[offset : offset + limit])
        if page == 1 and len(items) < limit:
            self.total = len(items)
        else:
            self.total = queryset.count()
        return items

    def get_paginated_response(self, data):
        return Response(data, headers={self.total_header: str(self.total)})

    def get_paginated_response_schema(self, schema):
        return schema

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "description": "Page number, from 1.",
                "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": "Items per page, 1 to 100.",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100},
            },
        ]
