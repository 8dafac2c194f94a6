"""Settings of the `run_worker` processes tests start (tests/support.py `WorkerPool`): the
project's own, read from the same environment, plus TEST_CLOCK_JOBS (JSON) replacing
CLOCK_JOBS, so a test can run a periodic job of its own."""

import json
import os

from allmine.settings import *  # noqa: F403

if os.environ.get("TEST_CLOCK_JOBS"):
    CLOCK_JOBS = json.loads(os.environ["TEST_CLOCK_JOBS"])
