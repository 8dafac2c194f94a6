"""ASGI entry point: the live event streams in production (scripts/serve-events), and the whole
service in scripts/demo."""

import os
import re
import warnings

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allmine.settings")

# Static files (whitenoise) and other file responses are sync iterators: Django serves them
# under ASGI as they are, and says so once per file.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")

# The event stream endpoints (allmine/api/sse.py).
EVENT_STREAM_PATH = re.compile(r"^/api/v1/(notifications/stream|live-stream/[^/]+/events)$")


class Handler(ASGIHandler):
    """Django's ASGI handler, except for event streams. Django runs each request in a
    `ThreadSensitiveContext`: a thread of its own for its sync middleware and view, kept until
    the response ends. An event stream lasts hours, so that would be one idle thread per open
    stream; without the context, their sync parts (middleware, authentication: milliseconds)
    share one thread, and an open stream holds nothing but its socket and its queue."""

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and EVENT_STREAM_PATH.match(scope.get("path", "")):
            await self.handle(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


django.setup(set_prefix=False)
application = Handler()
