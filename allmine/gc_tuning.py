"""Garbage collection tuned for a long-running web worker (the p99 of the lists under load).

A request builds thousands of short-lived containers (rows, dicts of the stream object). With
CPython's defaults (a young collection every 700 net allocations, a full one when the old
generation grew by a quarter) a worker pauses several times per large response, and each full
collection walks every object that start-up made (modules, URL patterns, the OpenAPI generator's
classes): that walk is most of the tail latency BENCHMARKS.md measured. After the application
is loaded, `tune_after_start` moves everything alive into the permanent generation
(`gc.freeze()`: never examined again, nothing is freed that could be) and raises the young
threshold so a request's garbage is collected in fewer, larger passes. Reference counting
still frees almost everything at once; the collector only ever finds cycles.
"""

import gc

YOUNG_THRESHOLD = 50_000  # allocations between young collections (CPython's default: 700)


def warm_up() -> None:
    """Import what the first request would: the URL conf and every view module it names."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (imports the URL conf and the views)


def tune_after_start() -> None:
    """Call once per worker process, after the app is loaded (gunicorn's `post_worker_init`)."""
    warm_up()
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
