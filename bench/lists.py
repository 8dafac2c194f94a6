"""Benchmark of the lists of API.md §11 against their floors (bench/lists_floor.py), and of the
304 path against the floor's full body.

    .venv/bin/python -m bench.lists            # small + large, SQLite + PostgreSQL, + wrk
    .venv/bin/python -m bench.lists --smoke    # tiny data, SQLite, seconds (CI): checks only

The databases are bench.funded's (seeded once with `seed_demo`'s machinery and reused); this
benchmark adds, once, what its lists need: `listerN` (N = 1, 20, 100; smoke 1, 5, 10) with N
live or preparing streams (each with a guest, a host broadcaster and a mini crowd funding), N
ended ones, and N streams of another creator they are invited to; the viewer (`caller20`) holds
rentals of their ended streams and reminders of their upcoming ones. Then, per backend and size,
a fresh process (Django's test client: routing, middleware, JWT, view, rendering; no socket):

1. asserts each endpoint's body equal to its floor's byte for byte (the timestamp aside), on
   several pages, signed in and (for the public lists) not; the same number of queries;
2. reads the plan of every list's page query on the data set (SQLite `EXPLAIN QUERY PLAN`,
   PostgreSQL `EXPLAIN`) and fails if any reads the stream table without an index;
3. times endpoint, floor and the endpoint's 304 (`If-None-Match` with the current tag)
   interleaved in a random order; medians and p90 of wall time, endpoint ÷ floor and 304 ÷
   floor, and the medians of this process's CPU time (robust to a shared machine's load; on
   PostgreSQL it leaves out the server's work, the same queries for all three).

Then (unless --no-wrk) `wrk` against gunicorn (allmine/gunicorn.conf.py) on the upcoming list of
`lister20` as `caller20`: endpoint, floor, and the 304, alternating.
"""

import argparse
import gc
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

from bench.funded import (
    _UNITS,
    HEALTH_URL,
    RESULTS,
    ROOT,
    SEED,
    SIZES,
    WRK_PORT,
    _django,
    _env,
    _percentile,
    _prepare_database,
    _token,
)


def viewer_name(size: str) -> str:
    """The viewer: the funded seed's middle caller (`caller20`; `caller5` in smoke)."""
    return f"caller{SIZES[size]['callers'][1]}"


MAX_QUERIES = 9
LISTS = {
    # name: (endpoint, floor, who calls it: "viewer" | "lister" | None (anonymous), params)
    "upcoming": (
        "/api/v2/live-stream/user/{lister}/upcoming-live-streams",
        "/bench/floor/live-stream/user/{lister}/upcoming-live-streams",
        "viewer",
    ),
    "upcoming (anonymous)": (
        "/api/v2/live-stream/user/{lister}/upcoming-live-streams",
        "/bench/floor/live-stream/user/{lister}/upcoming-live-streams",
        None,
    ),
    "past": (
        "/api/v1/live-stream/user/{lister}/past-streams",
        "/bench/floor/live-stream/user/{lister}/past-streams",
        "viewer",
    ),
    "my-past": (
        "/api/v1/live-stream/my-past-streams",
        "/bench/floor/live-stream/my-past-streams",
        "lister",
    ),
    "guest": (
        "/api/v1/live-stream/guest-streams",
        "/bench/floor/live-stream/guest-streams",
        "lister",
    ),
}
FULL_PAGE = {"limit": 100}
PAGES = (FULL_PAGE, {}, {"limit": 3}, {"page": 2, "limit": 7})


def worker_seed_lists(size: str) -> None:
    """Add the listers' streams once (bulk inserts; bench data, not a story of the API)."""
    _django()
    from django.utils import timezone

    from crowdfunding.models import MiniCrowdFunding
    from livestreams.models import Broadcaster, LiveStream, Reminder, ReplayRental, StreamGuest
    from users.models import User

    counts = SIZES[size]["callers"]
    if User.objects.filter(username=f"lister{max(counts)}").exists():
        print(f"[bench] {size}: listers found, reusing them", file=sys.stderr)
        return
    rng = random.Random(SEED)
    now = timezone.now().replace(microsecond=0)
    viewer = User.objects.get(username=viewer_name(size))
    others = list(
        User.objects.exclude(username__startswith="caller").values_list("pk", flat=True)[:500]
    )
    host = User.objects.create_user(
        username="lister-host", email="lister-host@bench.example", password=None
    )
    streams, guests, broadcasters, minis, rentals, reminders = [], [], [], [], [], []

    def stream(creator, n: int, kind: str, i: int, **fields) -> LiveStream:
        start = fields.pop("start")
        item = LiveStream(
            creator=creator,
            title=f"Lister {n} {kind} {i}",
            channel_name=f"lister-{n}-{kind}-{i}",
            live_stream_type=LiveStream.Type.SOLO,
            interest="music",
            duration_goal=60,
            motivation="Bench",
            planned_start_date=start,
            planned_end_date=start + timedelta(hours=1),
            funding_goal=1000,
            collected_funding=rng.randrange(0, 1500),
            created_at=start - timedelta(days=3),
            **fields,
        )
        streams.append(item)
        guests.append(StreamGuest(stream=item, user_id=rng.choice(others)))
        minis.append(
            MiniCrowdFunding(stream=item, title="Mic", goal=100, collected=rng.randrange(0, 100))
        )
        return item

    for n in counts:
        lister = User.objects.create_user(
            username=f"lister{n}", email=f"lister{n}@bench.example", password=None
        )
        for i in range(n):
            live = stream(
                lister,
                n,
                "live",
                i,
                start=now + timedelta(minutes=i - n),
                status=LiveStream.Status.ACTIVE if i % 5 == 0 else LiveStream.Status.PREPARING,
            )
            broadcasters.append(
                Broadcaster(
                    stream=live, user=lister, role=Broadcaster.Role.HOST, uid=i, has_joined=True
                )
            )
            if i % 2 == 0:
                reminders.append(
                    Reminder(user=viewer, stream=live, status=Reminder.Status.ARMED_ON_START)
                )
            ended = stream(
                lister,
                n,
                "ended",
                i,
                start=now - timedelta(days=2, minutes=i),
                status=LiveStream.Status.ENDED,
                recording=True,
                recording_url=f"https://cdn.allmine.example/recordings/lister-{n}-{i}.mp4",
                is_active_replay_on_creator_profile=True,
                replay_credit_price=30,
                started_at=now - timedelta(days=2, minutes=i),
                ended_at=now - timedelta(days=2, minutes=i) + timedelta(hours=1),
            )
            if i % 3 == 0:
                rentals.append(
                    ReplayRental(
                        user=viewer,
                        stream=ended,
                        price=30,
                        rented_at=now - timedelta(hours=1),
                        expires_at=now + timedelta(hours=23),
                    )
                )
            invited = stream(host, n, "invited", i, start=now + timedelta(days=3, minutes=i))
            guests.append(StreamGuest(stream=invited, user=lister))
    LiveStream.objects.bulk_create(streams, batch_size=500)
    for model, rows in (
        (StreamGuest, guests),
        (Broadcaster, broadcasters),
        (MiniCrowdFunding, minis),
        (ReplayRental, rentals),
        (Reminder, reminders),
    ):
        model.objects.bulk_create(rows, batch_size=500)
    print(f"[bench] {size}: listers added ({len(streams)} streams)", file=sys.stderr)


_TIMESTAMP = re.compile(rb',"timestamp":"[^"]*"}$')


def _body(response) -> bytes:
    assert response.status_code == 200, response.content[:300]
    return _TIMESTAMP.sub(b"}", response.content)


def _plans(listers: dict) -> dict[str, str]:
    """Each list's page query plan on this data set; fails on a stream table read without an
    index (SQLite: `SCAN`; PostgreSQL: a Seq Scan of it) or, on SQLite, through the status
    index alone (every stream of a status on the platform, not the user's)."""
    from django.db import connection
    from django.utils import timezone

    from livestreams.selectors import (
        guest_streams_of,
        past_streams_of,
        stream_values,
        upcoming_streams_of,
    )

    lister = listers[max(listers)]
    now = timezone.now()
    querysets = {
        "upcoming": upcoming_streams_of(
            user_id=lister.pk, since=now - timedelta(days=1), until=now + timedelta(days=1)
        )[:100],
        "past": past_streams_of(user_id=lister.pk)[:100],
        "guest": guest_streams_of(
            user_id=lister.pk, status=None, sort_by="createdAt", descending=True
        )[:100],
        "guest (status, endedAt asc)": guest_streams_of(
            user_id=lister.pk, status="scheduled", sort_by="endedAt", descending=False
        )[:100],
    }
    plans = {}
    for name, queryset in querysets.items():
        plan = stream_values(queryset).explain()
        if connection.vendor == "postgresql":
            bad = re.search(r"Seq Scan on livestreams_livestream", plan)
        else:
            # a full scan, or a walk of the status index through the whole platform
            bad = re.search(r"\bSCAN (livestreams_livestream|s)\b(?! USING)", plan) or re.search(
                r"SEARCH \w+ USING INDEX stream_status_start_idx \(status=\?\)", plan
            )
        assert not bad, f"{name}: the stream table is scanned:\n{plan}"
        plans[name] = plan
    return plans


def worker_measure(size: str, rounds: int, repeat: int) -> None:
    _django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from users.models import User

    listers = {n: User.objects.get(username=f"lister{n}") for n in SIZES[size]["callers"]}
    viewer = User.objects.get(username=viewer_name(size))
    tokens = {user.pk: _token(user) for user in [viewer, *listers.values()]}

    def client_for(user):
        if user is None:
            return Client()
        return Client(HTTP_AUTHORIZATION=f"Bearer {tokens[user.pk]}")

    rng = random.Random(SEED)
    rows = []
    for name, (endpoint_url, floor_url, who) in LISTS.items():
        for n, lister in listers.items():
            caller = {"viewer": viewer, "lister": lister, None: None}[who]
            client = client_for(caller)
            endpoint_url_n = endpoint_url.format(lister=lister.pk)
            floor_url_n = floor_url.format(lister=lister.pk)
            for params in PAGES:
                # Asked again when a rental's remainingSeconds ticked between the two requests.
                bodies = [
                    (
                        _body(client.get(endpoint_url_n, params)),
                        _body(client.get(floor_url_n, params)),
                    )
                    for _ in range(3)
                ]
                where = f"{name} lister{n} {params} ({size})"
                assert any(endpoint == floor for endpoint, floor in bodies), where
            row = {"size": size, "list": name, "items": n}
            params = FULL_PAGE
            for variant, url in (("endpoint", endpoint_url_n), ("floor", floor_url_n)):
                client.get(url, params)
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url, params)
                row[f"{variant}_queries"] = len(queries)
                row[f"{variant}_bytes"] = len(response.content)
            data = response.json()["data"]
            assert len(data if isinstance(data, list) else data["list"]) == n, (name, n)
            assert row["endpoint_queries"] == row["floor_queries"] <= MAX_QUERIES, row
            etag = client.get(endpoint_url_n, params)["ETag"]
            not_modified = client.get(endpoint_url_n, params, HTTP_IF_NONE_MATCH=etag)
            assert not_modified.status_code == 304 and not_modified.content == b"", name

            def send(variant, client=client, e=endpoint_url_n, f=floor_url_n, etag=etag):
                if variant == "304":
                    return client.get(e, FULL_PAGE, HTTP_IF_NONE_MATCH=etag)
                return client.get(e if variant == "endpoint" else f, FULL_PAGE)

            times = {"endpoint": [], "floor": [], "304": []}
            cpu = {variant: [] for variant in times}
            gc.collect()
            for _ in range(rounds):
                for _ in range(repeat):
                    order = list(times)
                    rng.shuffle(order)
                    for variant in order:
                        started, started_cpu = time.perf_counter(), time.process_time()
                        send(variant)
                        cpu[variant].append(time.process_time() - started_cpu)
                        times[variant].append(time.perf_counter() - started)
            for variant, samples in times.items():
                row[f"{variant}_median"] = statistics.median(samples) * 1000
                row[f"{variant}_p90"] = _percentile(samples, 90) * 1000
                row[f"{variant}_cpu"] = statistics.median(cpu[variant]) * 1000
            rows.append(row)
    print(json.dumps({"rows": rows, "plans": _plans(listers)}))


def worker_token(username: str) -> None:
    _django()
    from users.models import User

    print(_token(User.objects.get(username=username)))


def worker_ids(size: str) -> None:
    _django()
    from users.models import User

    print(User.objects.get(username=f"lister{SIZES[size]['callers'][1]}").pk)


# --- the driver ----------------------------------------------------------------------------


def _run_worker(backend: str, size: str, args: list[str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bench.lists", *args],
        cwd=ROOT,
        env=_env(backend, size),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"[bench] worker {args} on {backend} failed ({result.returncode})")
    return result.stdout


def _wrk(url: str, headers: list[str], seconds: int) -> dict:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Socket errors" in out:
        raise SystemExit(f"[bench] wrk saw errors on {url}:\n{out}")

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * _UNITS[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rps, "p50": latency("50"), "p99": latency("99"), "non2xx": "Non-2xx" in out}


def _run_wrk(backend: str, size: str, seconds: int, rounds: int) -> list[dict]:
    token = _run_worker(backend, size, ["--worker", "token", "--user", viewer_name(size)]).strip()
    lister = _run_worker(backend, size, ["--worker", "ids", "--size", size]).strip()
    env = {**_env(backend, size), "HOST": "127.0.0.1", "PORT": str(WRK_PORT)}
    env.update({"WEB_CONCURRENCY": "2", "GUNICORN_LOG_LEVEL": "warning"})
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "allmine/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{WRK_PORT}"
    auth = f"Authorization: Bearer {token}"
    endpoint = f"{base}{LISTS['upcoming'][0].format(lister=lister)}?limit=100"
    floor = f"{base}{LISTS['upcoming'][1].format(lister=lister)}?limit=100"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(base + HEALTH_URL, timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("[bench] gunicorn did not start")
        request = urllib.request.Request(endpoint, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request) as response:
            etag = response.headers["ETag"]
        request.add_header("If-None-Match", etag)
        try:
            urllib.request.urlopen(request)
            raise SystemExit("[bench] the 304 target answers 200")
        except urllib.error.HTTPError as error:
            assert error.code == 304, error.code
        targets = {
            "endpoint": (endpoint, [auth]),
            "floor": (floor, [auth]),
            "304": (endpoint, [auth, f"If-None-Match: {etag}"]),
        }
        for url, headers in targets.values():
            _wrk(url, headers, 1)  # warm every worker
        best: dict[str, dict] = {}
        for _ in range(rounds):
            for name, (url, headers) in targets.items():
                result = _wrk(url, headers, seconds)
                if result["non2xx"]:  # wrk counts 2xx and 3xx as good answers
                    raise SystemExit(f"[bench] wrk {name}: unexpected statuses")
                if name not in best or result["rps"] > best[name]["rps"]:
                    best[name] = result
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return [{"backend": backend, "size": size, "target": name, **r} for name, r in best.items()]


def _table(rows: list[dict]) -> str:
    lines = [
        "| backend | size | list | items | endpoint ms (p90) | floor ms (p90) | 304 ms (p90) "
        "| **endpoint ÷ floor** | **304 ÷ floor** | CPU ms e/f/304 | CPU e÷f | CPU 304÷f "
        "| queries e/f | bytes |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['size']} | {r['list']} | {r['items']} "
            f"| {r['endpoint_median']:.2f} ({r['endpoint_p90']:.2f}) "
            f"| {r['floor_median']:.2f} ({r['floor_p90']:.2f}) "
            f"| {r['304_median']:.2f} ({r['304_p90']:.2f}) "
            f"| **{r['endpoint_median'] / r['floor_median']:.2f}×** "
            f"| **{r['304_median'] / r['floor_median']:.2f}×** "
            f"| {r['endpoint_cpu']:.2f}/{r['floor_cpu']:.2f}/{r['304_cpu']:.2f} "
            f"| {r['endpoint_cpu'] / r['floor_cpu']:.2f}× | {r['304_cpu'] / r['floor_cpu']:.2f}× "
            f"| {r['endpoint_queries']}/{r['floor_queries']} | {r['endpoint_bytes']:,} |"
        )
    return "\n".join(lines)


def _wrk_table(rows: list[dict]) -> str:
    lines = [
        "| backend | size | target | requests/s | p50 ms | p99 ms | target ÷ floor req/s "
        "| target ÷ floor p99 |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    floors = {(r["backend"], r["size"]): r for r in rows if r["target"] == "floor"}
    for r in rows:
        f = floors[(r["backend"], r["size"])]
        lines.append(
            f"| {r['backend']} | {r['size']} | {r['target']} | {r['rps']:.0f} | {r['p50']:.1f} "
            f"| {r['p99']:.1f} | {r['rps'] / f['rps']:.2f}× | {r['p99'] / f['p99']:.2f}× |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="Tiny data on SQLite, for CI.")
    parser.add_argument("--sizes", default=None, help="Comma list of small,large (default both).")
    parser.add_argument("--backends", default=None, help="Comma list of sqlite,postgres.")
    parser.add_argument("--rounds", type=int, default=None, help="Interleaved rounds (20).")
    parser.add_argument("--repeat", type=int, default=3, help="Endpoint/floor/304 per round.")
    parser.add_argument("--no-wrk", action="store_true", help="Skip the wrk runs.")
    parser.add_argument("--wrk-seconds", type=int, default=6, help="Seconds per wrk run.")
    parser.add_argument("--wrk-rounds", type=int, default=2, help="wrk runs per target.")
    parser.add_argument("--out", default=None, help="Markdown file for the tables.")
    parser.add_argument(
        "--worker", choices=["seed", "measure", "token", "ids"], help=argparse.SUPPRESS
    )
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--user", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "seed":
        return worker_seed_lists(args.size)
    if args.worker == "measure":
        return worker_measure(args.size, args.rounds, args.repeat)
    if args.worker == "token":
        return worker_token(args.user)
    if args.worker == "ids":
        return worker_ids(args.size)

    sizes = (args.sizes or ("smoke" if args.smoke else "small,large")).split(",")
    backends = (args.backends or ("sqlite" if args.smoke else "sqlite,postgres")).split(",")
    rounds = args.rounds or (2 if args.smoke else 20)
    wrk = not (args.smoke or args.no_wrk)
    if wrk and not shutil.which("wrk"):
        raise SystemExit("[bench] wrk is not installed (apt-get install wrk), or pass --no-wrk")
    out = Path(args.out or RESULTS / ("lists-smoke.md" if args.smoke else "lists.md"))
    started, load_before = time.time(), os.getloadavg()
    rows, wrk_rows, plans = [], [], []
    for backend in backends:
        for size in sizes:
            print(f"[bench] {backend} {size}: seeding", file=sys.stderr, flush=True)
            _prepare_database(backend, size)
            subprocess.run(
                [sys.executable, "-m", "bench.funded", "--worker", "seed", "--size", size],
                cwd=ROOT,
                env=_env(backend, size),
                check=True,
            )
            _run_worker(backend, size, ["--worker", "seed", "--size", size])
            print(f"[bench] {backend} {size}: measuring", file=sys.stderr, flush=True)
            flags = [
                "--worker",
                "measure",
                "--size",
                size,
                "--rounds",
                str(rounds),
                "--repeat",
                str(args.repeat),
            ]
            result = json.loads(_run_worker(backend, size, flags).strip().splitlines()[-1])
            rows += [{"backend": backend, **row} for row in result["rows"]]
            plans += [
                (f"{name} ({backend}, {size})", plan) for name, plan in result["plans"].items()
            ]
            if wrk:
                print(f"[bench] {backend} {size}: wrk", file=sys.stderr, flush=True)
                wrk_rows += _run_wrk(backend, size, args.wrk_seconds, args.wrk_rounds)
    load = f"load average {load_before[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    header = (
        f"{time.strftime('%Y-%m-%d %H:%M')}, {time.time() - started:.0f} s, {load}; "
        f"{rounds} rounds × {args.repeat} endpoint/floor/304"
    )
    table = _table(rows)
    print(header)
    print(table)
    body = [f"# Lists benchmark ({header})", "", table, ""]
    if wrk_rows:
        wrk_table = _wrk_table(wrk_rows)
        print(wrk_table)
        body += [
            "## wrk -t2 -c16, gunicorn 2 workers, upcoming of lister20 as caller20",
            "",
            wrk_table,
            "",
        ]
    for title, plan in plans:
        body += [f"## Plan: {title}", "", "```", plan.rstrip(), "```", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(body))
    print(f"[bench] written to {out}")


if __name__ == "__main__":
    main()
