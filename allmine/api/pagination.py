"""Page/limit paging: the funded list's plain array with the total in a header, and the
`{list, pagination}` page of API.md §5 for every other list."""

from dataclasses import dataclass
from functools import cache

from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from allmine.api.query import Integer, read_query

PAGE = Integer(minimum=1, maximum=1_000_000, default=1)


@cache
def _page_limit(default_limit: int) -> dict:
    return {"page": PAGE, "limit": Integer(minimum=1, maximum=100, default=default_limit)}


@dataclass(frozen=True)
class Page:
    """One page of a §5 list: its items and where it stands."""

    items: list
    number: int
    limit: int
    total: int

    def response_data(self, serialized: list) -> dict:
        """`{"list": serialized, "pagination": {...}}` for this page's serialized items."""
        total_pages = -(-self.total // self.limit)
        return {
            "list": serialized,
            "pagination": {
                "currentPage": self.number,
                "totalPages": total_pages,
                "totalItems": self.total,
                "itemsPerPage": self.limit,
                "hasNextPage": self.number < total_pages,
                "hasPrevPage": self.number > 1,
            },
        }


def read_page(queryset, request, *, default_limit: int, rows=list) -> Page:
    """The page `?page=` and `?limit=` ask for (a 400 naming the parameter unless they are
    plain integers in range): `rows(queryset[offset:offset + limit])` and the total, whose
    count query is skipped when the first page holds everything."""
    query = read_query(request.query_params, _page_limit(default_limit))
    number, limit = query["page"], query["limit"]
    offset = (number - 1) * limit
    items = rows(queryset[offset : offset + limit])
    total = len(items) if number == 1 and len(items) < limit else queryset.count()
    return Page(items=items, number=number, limit=limit, total=total)


class HeaderTotalPagination(BasePagination):
    """`?page=` (≥ 1, default 1) and `?limit=` (1–100, default 100); total in `X-Total-Count`.

    A page past the end is an empty array, not an error. Anything that is not such an
    integer is a 400. The count query is skipped when the first page holds everything.
    """

    total_header = "X-Total-Count"

    def paginate_queryset(self, queryset, request, view=None, *, rows=list):
        """The page's items: `rows(queryset[offset:offset + limit])`, model instances by
        default, or whatever `rows` reads from the sliced queryset (e.g. plain rows)."""
        page = read_page(queryset, request, default_limit=100, rows=rows)
        self.total = page.total
        return page.items

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


class PaginationSerializer(serializers.Serializer):
    """The `pagination` object of API.md §5."""

    currentPage = serializers.IntegerField()
    totalPages = serializers.IntegerField()
    totalItems = serializers.IntegerField()
    itemsPerPage = serializers.IntegerField()
    hasNextPage = serializers.BooleanField()
    hasPrevPage = serializers.BooleanField()


def paged_serializer(item_serializer: type[serializers.BaseSerializer]):
    """A serializer class describing `{"list": [item...], "pagination": {...}}` (for schemas)."""
    name = f"{item_serializer.__name__.removesuffix('Serializer')}Page"
    return _paged_serializer(item_serializer, name)


@cache
def _paged_serializer(item_serializer, name: str):
    attrs = {
        "list": item_serializer(many=True),
        "pagination": PaginationSerializer(),
        "Meta": type("Meta", (), {"ref_name": name}),
    }
    return type(f"{name}Serializer", (serializers.Serializer,), attrs)


class ListPagination:
    """Paging of API.md §5: `?page=` (≥ 1) and `?limit=` (1–100, default `default_limit`),
    answered as `data: {"list": [...], "pagination": {currentPage, totalPages, totalItems,
    itemsPerPage, hasNextPage, hasPrevPage}}`. A page past the end has an empty list. Values
    that are not such integers are a 400 naming the parameter. The count query is skipped when
    the first page holds everything. Stateless: one instance per list serves every request."""

    def __init__(self, *, default_limit: int = 10):
        self.default_limit = default_limit

    def paginate(self, queryset, request, *, rows=list) -> Page:
        """The page asked for; `rows` reads the sliced `queryset` (see `read_page`)."""
        return read_page(queryset, request, default_limit=self.default_limit, rows=rows)

    def schema_parameters(self) -> list:
        """`parameters=` for `@extend_schema`."""
        from drf_spectacular.utils import OpenApiParameter

        return [
            OpenApiParameter(
                name="page",
                location=OpenApiParameter.QUERY,
                required=False,
                type={"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1},
                description="Page number, from 1.",
            ),
            OpenApiParameter(
                name="limit",
                location=OpenApiParameter.QUERY,
                required=False,
                type={
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 100,
                    "default": self.default_limit,
                },
                description="Items per page, 1 to 100.",
            ),
        ]
