"""Server-Sent Events responses (API.md §10) for DRF views served by the ASGI server.

The view is an ordinary DRF view: it authenticates, checks its input and answers errors in the
envelope, then returns `event_stream_response(...)`, whose body is an async generator. Before
returning, the view's thread closes its database connection, so an open stream holds neither
a connection nor a thread: it only awaits the broker (allmine/events.py).

Each event is `id:`, `event:` and `data:` (JSON) lines; a comment line `: heartbeat` is sent
every `LIVE_EVENTS_HEARTBEAT_SECONDS` on an idle stream so proxies keep it open and clients see
it alive. A client reconnecting with `Last-Event-ID` first receives the events it missed that
are still in the channel's backlog.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import StreamingHttpResponse
from rest_framework.exceptions import APIException
from rest_framework.negotiation import BaseContentNegotiation

from allmine.events import CLOSED, REVOKED_EVENT, broker, event_key

EVENT_STREAM = "text/event-stream"
LAST_EVENT_ID_HEADER = "Last-Event-ID"


class NotServedHere(APIException):
    """A WSGI worker (gunicorn, the test client) would hold its thread for as long as a
    stream stays open: only the ASGI server serves them (503, try the right server later)."""

    status_code = 503
    default_detail = "Live events are served by the ASGI server (scripts/serve-events)"
    wait = 60  # Retry-After


class EnvelopeErrorsNegotiation(BaseContentNegotiation):
    """An event stream view answers its errors in the JSON envelope whatever the client
    accepts (EventSource sends `Accept: text/event-stream`)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


async def _events(
    channel: str,
    last_event_id: str | None,
    *,
    heartbeat: float,
    closes_at: float | None,
    token_version: int | None,
    still_valid: Callable[[], Awaitable[bool]] | None,
) -> AsyncIterator[bytes]:
    live = broker()
    subscription = await live.subscribe(channel)
    try:
        # A revocation committed between the view's check and the subscription was missed:
        # checked once more now that every later one arrives.
        if still_valid is not None and not await still_valid():
            return
        yield b": connected\n\n"  # subscribed: every event from now on reaches this client
        last = event_key(last_event_id)
        if last is not None:
            for event in await live.backlog(channel, last):
                last = event_key(event.id)
                if not event.event.startswith("_"):
                    yield event.encode()
        while True:
            timeout = heartbeat
            if closes_at is not None:
                timeout = min(timeout, closes_at - time.time())
                if timeout <= 0:
                    return  # the access token expired: the client signs in again
            try:
                event = await asyncio.wait_for(subscription.queue.get(), timeout)
            except TimeoutError:
                yield b": heartbeat\n\n"
                continue
            if event is CLOSED:
                return
            key = event_key(event.id)
            if last is not None and key is not None and key <= last:
                continue  # already sent from the backlog
            last = key
            if event.event == REVOKED_EVENT:
                if token_version is not None and event.data.get("tokenVersion", 0) > token_version:
                    return  # the token this stream was opened with has been revoked
                continue
            yield event.encode()
    finally:
        await live.unsubscribe(subscription)


def event_stream_response(
    request,
    channel: str,
    *,
    closes_at: float | None = None,
    token_version: int | None = None,
    still_valid: Callable[[], Awaitable[bool]] | None = None,
) -> StreamingHttpResponse:
    """The open event stream of `channel` for this request (see the module). `closes_at`: a
    Unix time at which to end it (the access token's expiry); `token_version`: the version of
    the token it was opened with (a revocation that bumps it closes the stream); `still_valid`:
    awaited once after subscribing, False ends the stream (see `_events`). Under WSGI: 503."""
    if not isinstance(getattr(request, "_request", request), ASGIRequest):
        raise NotServedHere()
    connections.close_all()  # this thread's connections: the stream never needs them
    response = StreamingHttpResponse(
        _events(
            channel,
            request.headers.get(LAST_EVENT_ID_HEADER),
            heartbeat=settings.LIVE_EVENTS_HEARTBEAT_SECONDS,
            closes_at=closes_at,
            token_version=token_version,
            still_valid=still_valid,
        ),
        content_type=EVENT_STREAM,
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event through at once
    return response
