"""The load test as a locust scenario: signed-in users on the funded list and the fund endpoint.

    locust -f loadtest/locustfile.py --headless -u 64 -r 64 -t 60s --host http://127.0.0.1:8101

`LOAD_DATA` names the JSON that `manage.py seed_load` printed (tokens and stream ids). Each user
takes its own token and alternates at random between `GET /api/v1/live-stream/funded?limit=20`
and `POST /api/v1/live-stream/{id}/fund` `{"amount": 1}` with a fresh `Idempotency-Key`.
Every response must be the envelope with `statusCode` equal to the HTTP status.

Event hooks add what locust does not measure by itself:
- the health endpoint polled every 0.25 s, each change of its status recorded;
- with `LOAD_RESTART_AT` and `LOAD_RESTART_CMD`, the command (a PostgreSQL restart) runs that
  many seconds in; the report says what clients saw meanwhile and how long after the command
  returned the first request succeeded again.
At the end a JSON report goes to `LOAD_REPORT` (if set), and the exit code is 1 on any
unexpected response: a connection error, a body that is not the envelope, or, outside the
outage, any status other than 200/201. Answers during the outage must be 503 envelopes.
"""

import itertools
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import gevent
from gevent import subprocess
from locust import FastHttpUser, between, events, task

# locust loads this file by path: the repository root is not on the path by itself.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from loadtest.envelope import envelope_problem  # noqa: E402


def _load_data() -> dict:
    path = os.environ.get("LOAD_DATA")
    if not path:
        return {}
    with open(path) as file:
        return json.load(file)


DATA = _load_data()
FUND_SHARE = float(os.environ.get("LOAD_FUND_SHARE", "0.5"))
_tokens = itertools.cycle(DATA.get("tokens") or [""])

# What the hooks observe: one tuple per request, the outage window, the health changes.
records: list[tuple[float, str, int, str | None]] = []
restart: dict = {}
health: list[tuple[float, int]] = []
started = time.time()


class Funder(FastHttpUser):
    wait_time = between(0, 0)

    def on_start(self):
        self.headers = {"Authorization": f"Bearer {next(_tokens)}"}

    def _check(self, response, name: str) -> None:
        problem = envelope_problem(response.status_code, response.content or b"")
        if response.status_code == 0:
            problem = f"connection: {response.error}"
        records.append((time.time(), name, response.status_code, problem))
        if problem or response.status_code not in (200, 201):
            response.failure(problem or f"HTTP {response.status_code}")
        else:
            response.success()

    @task
    def funded_or_fund(self):
        if random.random() < FUND_SHARE:
            stream = random.choice(DATA["streams"])
            with self.client.post(
                f"/api/v1/live-stream/{stream}/fund",
                data=b'{"amount": 1}',
                headers={
                    **self.headers,
                    "Content-Type": "application/json",
                    "Idempotency-Key": uuid.uuid4().hex,
                },
                name="fund",
                catch_response=True,
            ) as response:
                self._check(response, "fund")
        else:
            with self.client.get(
                "/api/v1/live-stream/funded?limit=20",
                headers=self.headers,
                name="funded",
                catch_response=True,
            ) as response:
                self._check(response, "funded")


def _poll_health(environment) -> None:
    client = environment.runner.user_classes[0](environment).client
    while True:
        at = time.time()
        try:
            status = client.get("/api/v1/health", name="health (poller)").status_code
        except Exception:  # noqa: BLE001 - a poller records, it never stops the run
            status = 0
        if not health or health[-1][1] != status:
            health.append((round(at - started, 2), status))
        gevent.sleep(max(0.0, 0.25 - (time.time() - at)))


def _restart_later(command: str, after: float) -> None:
    gevent.sleep(after)
    restart["begin"] = time.time()
    result = subprocess.run(command, shell=True, capture_output=True, text=True)
    restart["end"] = time.time()
    restart["exit_code"] = result.returncode
    restart["output"] = (result.stdout + result.stderr).strip()[-500:]


@events.test_start.add_listener
def on_test_start(environment, **_kwargs):
    global started
    started = time.time()
    gevent.spawn(_poll_health, environment)
    command, after = os.environ.get("LOAD_RESTART_CMD"), os.environ.get("LOAD_RESTART_AT")
    if command and after:
        gevent.spawn(_restart_later, command, float(after))


def report() -> tuple[dict, list[str]]:
    """The run's summary and the list of unexpected answers (empty when all is well)."""
    duration = max(time.time() - started, 1e-9)
    begin, end = restart.get("begin"), restart.get("end")
    outage_open = begin is not None
    # An outage lasts from the restart until the first success after the command returned.
    first_ok_after = next(
        (at for at, _n, status, problem in records if end and at >= end and status in (200, 201)),
        None,
    )

    def in_outage(at: float) -> bool:
        return outage_open and at >= begin and (first_ok_after is None or at < first_ok_after)

    unexpected = []
    for at, name, status, problem in records:
        if problem and not (in_outage(at) and problem.startswith("connection")):
            unexpected.append(f"{name} HTTP {status}: {problem}")
        elif status not in (200, 201) and not (in_outage(at) and status == 503):
            unexpected.append(f"{name} HTTP {status} outside an outage")
    summary = {
        "requests": len(records),
        "per_second": round(len(records) / duration, 1),
        "statuses": {
            name: dict(sorted(Counter(str(s) for _a, n, s, _p in records if n == name).items()))
            for name in sorted({r[1] for r in records})
        },
        "fund_created": sum(1 for _a, n, s, _p in records if n == "fund" and s == 201),
        "health_changes": [{"at_s": at, "status": status} for at, status in health],
        "unexpected": dict(Counter(unexpected)),
    }
    if outage_open:
        summary["restart"] = {
            "at_s": round(begin - started, 1),
            "command_s": round(end - begin, 2) if end else None,
            "exit_code": restart.get("exit_code"),
            "answers_during_outage": dict(
                Counter(str(s) for a, _n, s, _p in records if in_outage(a))
            ),
            "recovered_s_after_command": (
                round(first_ok_after - end, 2) if first_ok_after and end else None
            ),
        }
    return summary, unexpected


@events.quitting.add_listener
def on_quitting(environment, **_kwargs):
    summary, unexpected = report()
    text = json.dumps(summary, indent=2)
    print(text)
    if os.environ.get("LOAD_REPORT"):
        with open(os.environ["LOAD_REPORT"], "w") as file:
            file.write(text + "\n")
    failed = bool(unexpected) or not records or bool(restart and restart.get("exit_code") != 0)
    # Decides the exit code: locust's own would fail on the 503s an outage is expected to give.
    environment.process_exit_code = 1 if failed else 0
