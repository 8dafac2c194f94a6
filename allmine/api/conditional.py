"""Conditional GET (API.md §11) for every stream list and the stream detail.

The `ETag` is a strong validator of what the caller would see, computed one of two ways:

- `conditional_read` (the stream lists and the detail): a hash of the bytes that decide the
  body, taken before anything is built: the rows the queries returned, the caller, the
  clock's part of the body (`crowdfunding.selectors.StreamReads.tag_source`), paging, and the
  headers that carry data (`X-Total-Count`). A 304 costs the queries and the hash; a 200
  builds the body from the same rows.
- `conditional_response` (the other lists): a hash of the response's `data` serialized as the
  envelope writes it (the `timestamp` aside), plus the headers that carry data.

Either way any change the caller would see (a fund, a status, their own rental or reminder, a
rental's remaining seconds) changes the tag, and an unchanged body keeps it. `If-None-Match`
naming it (or `*`) → 304 with no body; the envelope and the JSON the client already holds are
not built, rendered or sent again.
"""

import hashlib
from collections.abc import Callable
from typing import Any

from django.http import HttpResponseBase, HttpResponseNotModified
from django.utils.http import parse_etags
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.response import Response

from allmine.api.renderers import dumps

IF_NONE_MATCH_HEADER = "If-None-Match"
IF_NONE_MATCH_PARAMETER = OpenApiParameter(
    name=IF_NONE_MATCH_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    type={"type": "string", "maxLength": 2000},
    description=(
        "The `ETag` of a response you hold (or a comma-separated list of them, or `*`): "
        "while the data is unchanged the answer is a 304 with no body."
    ),
)
NOT_MODIFIED_RESPONSE = OpenApiResponse(
    response=None,
    description="`If-None-Match` named the current `ETag`: the data you hold is current. No body.",
)


def entity_tag(data, headers: dict[str, str] | None = None) -> str:
    """The strong ETag of `data` (and of `headers` that carry data, when given)."""
    return source_tag(dumps(data), headers)


def source_tag(source: bytes, headers: dict[str, str] | None = None) -> str:
    """The strong ETag of a body decided by `source` (and of `headers` that carry data)."""
    # SHA-256 (128 bits of it): twice as fast as BLAKE2b on a list's ~100 KB source on the CPUs
    # with SHA instructions (AMD Zen, Intel since Ice Lake, ARMv8: the benchmark host has them);
    # on a CPU without them it is the slower of the two (BENCHMARKS.md, issue 19's round).
    digest = hashlib.sha256(source)
    for name, value in sorted((headers or {}).items()):
        digest.update(f"\0{name}:{value}".encode())
    return f'"{digest.hexdigest()[:32]}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = parse_etags(if_none_match)  # ['*'] or the quoted tags; junk → []
    # Weak comparison (RFC 9110 §13.1.2): a tag the client kept with a `W/` prefix matches too.
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def _not_modified(etag: str) -> HttpResponseNotModified:
    response = HttpResponseNotModified()
    response["ETag"] = etag
    return response


def conditional_response(
    request, data, *, headers: dict[str, str] | None = None
) -> HttpResponseBase:
    """`Response(data)` with its `ETag`, or a 304 without a body when `If-None-Match` names it."""
    etag = entity_tag(data, headers)
    if _matches(request.META.get("HTTP_IF_NONE_MATCH"), etag):
        return _not_modified(etag)
    return Response(data, headers={**(headers or {}), "ETag": etag})


def conditional_read(
    request,
    source: bytes,
    build: Callable[[], Any],
    *,
    headers: dict[str, str] | None = None,
) -> HttpResponseBase:
    """`Response(build())` with the `ETag` of `source` (bytes that decide the data entirely),
    or a 304 without a body, and nothing built, when `If-None-Match` names it."""
    etag = source_tag(source, headers)
    if _matches(request.META.get("HTTP_IF_NONE_MATCH"), etag):
        return _not_modified(etag)
    return Response(build(), headers={**(headers or {}), "ETag": etag})


def conditional_responses(responses: dict) -> dict:
    """`responses=` of a conditional GET: `responses` plus the 304 (pass
    `IF_NONE_MATCH_PARAMETER` in `parameters=` too, which makes the `ETag` header documented)."""
    return {**responses, 304: NOT_MODIFIED_RESPONSE}
