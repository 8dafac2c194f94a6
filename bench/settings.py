"""The project's settings with the benchmark's URLs (the naive and the floor lists beside the
API), for the in-process benchmark and for gunicorn under wrk."""

from allmine.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
