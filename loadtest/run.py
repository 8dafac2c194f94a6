"""A bounded load test of a running server: N clients on the funded list and the fund endpoint.

    python -m loadtest.run --url http://127.0.0.1:8101 --data data.json --clients 64 --duration 60
    python -m loadtest.run ... --restart-at 20 \\
        --restart-cmd "pg_ctlcluster --skip-systemctl-redirect 15 main restart"

Each client is a thread with its own keep-alive connection and its own user's token (from
`loadtest/setup_data.py`), and alternates at random between `GET /api/v1/live-stream/funded`
and `POST /api/v1/live-stream/{id}/fund` with `{"amount": 1}` and a fresh Idempotency-Key.
Threads are spread over several processes so the client is not held back by one GIL.

Every response is checked: a JSON envelope whose `statusCode` equals the HTTP status, and on
errors `isSuccess: false`, `data: null` and a non-empty `errors`. With `--restart-at`, the
given command runs that many seconds in; the report then shows what clients saw during the
outage and how long after the command returned the first request succeeded again.

Prints a JSON report (and writes it to --report); exits 1 on any unexpected response: a
connection error, a body that is not the envelope, or (outside an outage) any status other
than 200/201.
"""

import argparse
import http.client
import json
import math
import multiprocessing
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

ENVELOPE_KEYS = ["isSuccess", "statusCode", "data", "errors", "timestamp"]


def check_envelope(status: int, body: bytes) -> str | None:
    """None if `body` is the envelope for `status`, else what is wrong with it."""
    try:
        doc = json.loads(body)
    except ValueError:
        return "not JSON"
    if not isinstance(doc, dict) or list(doc) != ENVELOPE_KEYS:
        return "not the envelope"
    if doc["statusCode"] != status:
        return f"statusCode {doc['statusCode']} != HTTP {status}"
    if status >= 400 and (doc["isSuccess"] or doc["data"] is not None or not doc["errors"]):
        return "error envelope malformed"
    if status < 400 and (not doc["isSuccess"] or doc["errors"]):
        return "success envelope malformed"
    return None


def client_loop(
    index: int, base: str, token: str, streams: list[str], deadline: float, fund_share: float
) -> list[tuple]:
    """Requests until the deadline: (start, op, status, seconds, problem) for each."""
    parts = urlsplit(base)
    rng = random.Random(index)
    records = []
    conn = None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    while True:
        start = time.time()
        if start >= deadline:
            break
        if rng.random() < fund_share:
            op, method = "fund", "POST"
            path = f"/api/v1/live-stream/{rng.choice(streams)}/fund"
            body = b'{"amount": 1}'
            request_headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
        else:
            op, method, path, body = "funded", "GET", "/api/v1/live-stream/funded?limit=20", None
            request_headers = headers
        try:
            if conn is None:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            conn.request(method, path, body=body, headers=request_headers)
            response = conn.getresponse()
            payload = response.read()
            status = response.status
            problem = check_envelope(status, payload)
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as error:
            status, problem = 0, f"connection: {type(error).__name__}"
            if conn is not None:
                conn.close()
            conn = None
            time.sleep(0.05)
        records.append((start, op, status, time.time() - start, problem))
    if conn is not None:
        conn.close()
    return records


def process_main(args: tuple) -> list[tuple]:
    indexes, base, tokens, streams, deadline, fund_share = args
    results: list[list[tuple]] = [[] for _ in indexes]

    def run(slot: int, index: int) -> None:
        results[slot] = client_loop(
            index, base, tokens[index % len(tokens)], streams, deadline, fund_share
        )

    threads = [
        threading.Thread(target=run, args=(slot, index)) for slot, index in enumerate(indexes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [record for chunk in results for record in chunk]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def summarize(records: list[tuple], started: float, duration: float) -> dict:
    ops = {}
    for op in sorted({r[1] for r in records}):
        mine = [r for r in records if r[1] == op]
        ok = [r[3] for r in mine if r[2] in (200, 201)]
        ops[op] = {
            "requests": len(mine),
            "per_second": round(len(mine) / duration, 1),
            "statuses": dict(sorted(Counter(str(r[2]) for r in mine).items())),
            "latency_ms_ok": {
                "p50": round(percentile(ok, 0.50) * 1000, 1),
                "p95": round(percentile(ok, 0.95) * 1000, 1),
                "p99": round(percentile(ok, 0.99) * 1000, 1),
                "max": round(max(ok, default=0) * 1000, 1),
            },
        }
    return {
        "requests": len(records),
        "per_second": round(len(records) / duration, 1),
        "operations": ops,
        "problems": dict(Counter(r[4] for r in records if r[4])),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8101")
    parser.add_argument("--data", required=True, help="JSON from loadtest/setup_data.py")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--fund-share", type=float, default=0.5)
    parser.add_argument("--restart-at", type=float, default=None)
    parser.add_argument("--restart-cmd", default=None)
    parser.add_argument("--report", default=None)
    args = parser.parse_args()

    with open(args.data) as file:
        data = json.load(file)
    started = time.time()
    deadline = started + args.duration

    restart = {}

    def restart_later() -> None:
        time.sleep(args.restart_at)
        restart["begin"] = time.time()
        result = subprocess.run(args.restart_cmd, shell=True, capture_output=True, text=True)
        restart["end"] = time.time()
        restart["exit_code"] = result.returncode
        restart["output"] = (result.stdout + result.stderr).strip()[-500:]

    restarter = None
    if args.restart_at is not None and args.restart_cmd:
        restarter = threading.Thread(target=restart_later)
        restarter.start()

    health: list[tuple[float, int]] = []

    def poll_health() -> None:
        """The health endpoint's answer every 0.25 s: (seconds since start, status)."""
        parts = urlsplit(args.url)
        while time.time() < deadline:
            at = time.time()
            try:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
                conn.request("GET", "/api/v1/health")
                status = conn.getresponse().status
                conn.close()
            except (OSError, http.client.HTTPException):
                status = 0
            if not health or health[-1][1] != status:
                health.append((round(at - started, 2), status))
            time.sleep(max(0.0, 0.25 - (time.time() - at)))

    poller = threading.Thread(target=poll_health, daemon=True)
    poller.start()

    groups = [list(range(i, args.clients, args.processes)) for i in range(args.processes)]
    jobs = [
        (g, args.url, data["tokens"], data["streams"], deadline, args.fund_share)
        for g in groups
        if g
    ]
    with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
        records = [r for chunk in pool.map(process_main, jobs) for r in chunk]
    if restarter is not None:
        restarter.join()
    poller.join(timeout=6)
    duration = time.time() - started

    report = {
        "fund_created": sum(1 for r in records if r[1] == "fund" and r[2] == 201),
        "clients": args.clients,
        "duration_s": round(duration, 1),
        **summarize(records, started, duration),
    }
    report["health_changes"] = [{"at_s": at, "status": status} for at, status in health]
    unexpected = [r for r in records if r[4] or r[2] not in (200, 201)]
    if restart:
        # Requests the outage could touch: those still running when the restart began.
        failed = [r for r in records if r[2] not in (200, 201) and r[0] + r[3] >= restart["begin"]]
        after = [r for r in records if r[0] >= restart["end"] and r[2] in (200, 201) and not r[4]]
        first_ok_after = min((r[0] + r[3] for r in after), default=None)
        report["restart"] = {
            "at_s": round(restart["begin"] - started, 1),
            "command_s": round(restart["end"] - restart["begin"], 2),
            "exit_code": restart["exit_code"],
            "failed_requests": len(failed),
            "failed_statuses": dict(Counter(str(r[2]) for r in failed)),
            "failed_problems": dict(Counter(r[4] for r in failed if r[4])),
            "first_failure_s": round(min(r[0] for r in failed) - started, 2) if failed else None,
            "last_failure_s": (
                round(max(r[0] + r[3] for r in failed) - started, 2) if failed else None
            ),
            "recovered_s_after_command": (
                round(first_ok_after - restart["end"], 2) if first_ok_after else None
            ),
            "failures_after_recovery": len(
                [r for r in failed if first_ok_after and r[0] > first_ok_after + 5]
            ),
        }
        # During the outage 500/503 envelopes are the expected, clean failure.
        in_outage = {id(r) for r in failed}
        unexpected = [
            r
            for r in records
            if r[4] or (r[2] not in (200, 201) and not (id(r) in in_outage and r[2] in (500, 503)))
        ]
    report["unexpected"] = len(unexpected)
    report["ok"] = not unexpected
    text = json.dumps(report, indent=2)
    print(text)
    if args.report:
        with open(args.report, "w") as file:
            file.write(text + "\n")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
