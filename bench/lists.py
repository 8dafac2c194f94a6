"""Benchmark of the lists of API.md §11 against their floors (bench/lists_floor.py), and of the
304 path against the floor's full body.

    .venv/bin/python -m bench.lists            # small + large, SQLite + PostgreSQL, + wrk
    .venv/bin/python -m bench.lists --smoke    # tiny data, SQLite, seconds (CI): checks only
    .venv/bin/python -m bench.lists --seed-only  # build the databases now, measure later

The databases are bench.funded's (seeded once with `seed_demo`'s machinery and reused); this
benchmark adds, once, what its lists need (bench/lists_data.py): `listerN` (N = 1, 20, 100;
smoke 1, 5, 10) with N live or preparing streams (each with a guest, a host broadcaster and a
mini crowd funding), N ended ones, and N streams of another creator they are invited to; the
viewer (`caller20`) holds rentals of their ended streams and reminders of their upcoming ones.
Then, per backend and size, a fresh process (Django's test client: routing, middleware, JWT,
view, rendering; no socket), its collector tuned as a production worker's
(allmine/gc_tuning.py, as gunicorn's `post_worker_init` does; `--default-gc` leaves CPython's):

1. asserts each endpoint's body equal to its floor's byte for byte (the timestamp aside), on
   several pages, signed in and (for the public lists) not; the same number of queries;
2. reads the plan of every list's page query on the data set (SQLite `EXPLAIN QUERY PLAN`,
   PostgreSQL `EXPLAIN`) and fails if any reads the stream table without an index;
3. times endpoint, floor, the endpoint's 304 (`If-None-Match` with the current tag) and the
   bare floor (the same middleware and JWT check answering an empty 304 with no query: the
   least any 304 costs) interleaved in a random order; medians and p90 of wall time, endpoint
   ÷ floor and 304 ÷ floor, and the medians of this process's CPU time (robust to a shared
   machine's load; on PostgreSQL it leaves out the server's work: the same queries for
   endpoint, floor and 304; the bare floor makes only the JWT check's user query).

Then (unless --no-wrk) `wrk` against gunicorn (bench/lists_wrk.py) on the upcoming list of
`lister20` as `caller20`: endpoint, floor, and the 304, alternating.
"""

import argparse
import gc
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.funded import (
    RESULTS,
    ROOT,
    SEED,
    SIZES,
    _django,
    _env,
    _percentile,
    _prepare_database,
    _token,
)
from bench.lists_data import (
    FULL_PAGE,
    LISTS,
    MAX_QUERIES,
    PAGES,
    run_worker,
    viewer_name,
    worker_seed_lists,
)
from bench.lists_wrk import run_wrk, wrk_table

# The bare floor: the same middleware and JWT check answering an empty 304 with no query, the
# least any 304 can cost; timed beside the others so that 304 ÷ floor has its lower bound.
BARE_URL = "/bench/floor/not-modified"

_TIMESTAMP = re.compile(rb',"timestamp":"[^"]*"}$')


def _body(response) -> bytes:
    assert response.status_code == 200, response.content[:300]
    return _TIMESTAMP.sub(b"}", response.content)


_REMAINING = re.compile(rb'"remainingSeconds":(\d+)')


def _assert_same(endpoint: bytes, floor: bytes, elapsed: float, where: str) -> None:
    """The same bytes, but for a rental's `remainingSeconds`, which may have counted down by
    the whole seconds that passed between the two requests (the endpoint asked first)."""
    assert _REMAINING.sub(b"", endpoint) == _REMAINING.sub(b"", floor), where
    for mine, theirs in zip(_REMAINING.findall(endpoint), _REMAINING.findall(floor), strict=True):
        assert 0 <= int(mine) - int(theirs) <= elapsed + 1, (where, mine, theirs)


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


def worker_measure(size: str, rounds: int, repeat: int, names: list[str], tune_gc: bool) -> None:
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
    if tune_gc:
        from allmine.gc_tuning import tune_after_start

        tune_after_start()  # what every gunicorn worker does once the app is loaded
    for name, (endpoint_url, floor_url, who) in LISTS.items():
        if name not in names:
            continue
        for n, lister in listers.items():
            caller = {"viewer": viewer, "lister": lister, None: None}[who]
            client = client_for(caller)
            endpoint_url_n = endpoint_url.format(lister=lister.pk)
            floor_url_n = floor_url.format(lister=lister.pk)
            for params in PAGES:
                started = time.monotonic()
                endpoint = _body(client.get(endpoint_url_n, params))
                floor = _body(client.get(floor_url_n, params))
                where = f"{name} lister{n} {params} ({size})"
                _assert_same(endpoint, floor, time.monotonic() - started, where)
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

            # A rental's remainingSeconds moves the past list's tag each second (the body
            # changes): each timed 304 sends the tag of an untimed request just before it, and
            # only answers that were 304s count.
            def current_tag(client=client, e=endpoint_url_n):
                return client.get(e, FULL_PAGE)["ETag"]

            for _ in range(3):
                not_modified = client.get(
                    endpoint_url_n, FULL_PAGE, HTTP_IF_NONE_MATCH=current_tag()
                )
                if not_modified.status_code == 304:
                    break
            assert not_modified.status_code == 304 and not_modified.content == b"", name
            assert client.get(BARE_URL, FULL_PAGE).status_code == 304

            def send(variant, etag, client=client, e=endpoint_url_n, f=floor_url_n):
                if variant == "304":
                    return client.get(e, FULL_PAGE, HTTP_IF_NONE_MATCH=etag)
                if variant == "bare":
                    return client.get(BARE_URL, FULL_PAGE)
                return client.get(e if variant == "endpoint" else f, FULL_PAGE)

            times = {"endpoint": [], "floor": [], "304": [], "bare": []}
            cpu = {variant: [] for variant in times}
            gc.collect()
            for _ in range(rounds):
                for _ in range(repeat):
                    order = list(times)
                    rng.shuffle(order)
                    for variant in order:
                        etag = current_tag() if variant == "304" else None
                        started, started_cpu = time.perf_counter(), time.process_time()
                        response = send(variant, etag)
                        spent_cpu = time.process_time() - started_cpu
                        spent = time.perf_counter() - started
                        if variant == "304" and response.status_code != 304:
                            continue  # a second ticked between the two: not a 304's cost
                        cpu[variant].append(spent_cpu)
                        times[variant].append(spent)
            assert times["304"], f"{name}: no 304 answered"
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


def _table(rows: list[dict]) -> str:
    lines = [
        "| backend | size | list | items | endpoint ms (p90) | floor ms (p90) | 304 ms (p90) "
        "| **endpoint ÷ floor** | **304 ÷ floor** | CPU ms e/f/304 | CPU e÷f | CPU 304÷f "
        "| CPU bare÷f | queries e/f | bytes |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
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
            f"| {r['bare_cpu'] / r['floor_cpu']:.2f}× "
            f"| {r['endpoint_queries']}/{r['floor_queries']} | {r['endpoint_bytes']:,} |"
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
    parser.add_argument("--wrk-seconds", type=int, default=4, help="Seconds per wrk run.")
    parser.add_argument("--wrk-rounds", type=int, default=5, help="wrk runs per target (medians).")
    parser.add_argument("--out", default=None, help="Markdown file for the tables.")
    parser.add_argument(
        "--lists", default=",".join(LISTS), help=f"Comma list of {', '.join(LISTS)} (all)."
    )
    parser.add_argument(
        "--default-gc", action="store_true", help="CPython's collector settings, not a worker's."
    )
    parser.add_argument(
        "--seed-only", action="store_true", help="Seed the databases (if not yet), then stop."
    )
    parser.add_argument(
        "--worker", choices=["seed", "measure", "token", "ids"], help=argparse.SUPPRESS
    )
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--user", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "seed":
        return worker_seed_lists(args.size)
    if args.worker == "measure":
        names = args.lists.split(",")
        return worker_measure(args.size, args.rounds, args.repeat, names, not args.default_gc)
    if args.worker == "token":
        return worker_token(args.user)
    if args.worker == "ids":
        return worker_ids(args.size)

    sizes = (args.sizes or ("smoke" if args.smoke else "small,large")).split(",")
    backends = (args.backends or ("sqlite" if args.smoke else "sqlite,postgres")).split(",")
    rounds = args.rounds or (2 if args.smoke else 20)
    wrk = not (args.smoke or args.no_wrk or args.seed_only)
    unknown = set(args.lists.split(",")) - set(LISTS)
    if unknown:
        raise SystemExit(f"[bench] unknown lists: {', '.join(sorted(unknown))}")
    if wrk and not shutil.which("wrk"):
        raise SystemExit("[bench] wrk is not installed (apt-get install wrk), or pass --no-wrk")
    out = Path(args.out or RESULTS / ("lists-smoke.md" if args.smoke else "lists.md"))
    started, load_before = time.time(), os.getloadavg()
    rows, wrk_rows, plans = [], [], []
    for backend in backends:
        for size in sizes:
            print(f"[bench] {backend} {size}: seeding", file=sys.stderr, flush=True)
            seeding = time.monotonic()
            _prepare_database(backend, size)
            subprocess.run(
                [sys.executable, "-m", "bench.funded", "--worker", "seed", "--size", size],
                cwd=ROOT,
                env=_env(backend, size),
                check=True,
            )
            run_worker(backend, size, ["--worker", "seed", "--size", size])
            took = time.monotonic() - seeding
            print(f"[bench] {backend} {size}: ready in {took:.0f} s", file=sys.stderr, flush=True)
            if args.seed_only:
                continue
            print(f"[bench] {backend} {size}: measuring", file=sys.stderr, flush=True)
            flags = ["--worker", "measure", "--size", size, "--rounds", str(rounds)]
            flags += ["--repeat", str(args.repeat), "--lists", args.lists]
            flags += ["--default-gc"] if args.default_gc else []
            result = json.loads(run_worker(backend, size, flags).strip().splitlines()[-1])
            rows += [{"backend": backend, **row} for row in result["rows"]]
            plans += [
                (f"{name} ({backend}, {size})", plan) for name, plan in result["plans"].items()
            ]
            if wrk:
                print(f"[bench] {backend} {size}: wrk", file=sys.stderr, flush=True)
                wrk_rows += run_wrk(backend, size, args.wrk_seconds, args.wrk_rounds)
    if args.seed_only:
        return
    load = f"load average {load_before[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    header = (
        f"{time.strftime('%Y-%m-%d %H:%M')}, {time.time() - started:.0f} s, {load}; "
        f"{rounds} rounds × {args.repeat} endpoint/floor/304; collector: "
        f"{'CPython defaults' if args.default_gc else 'tuned as a gunicorn worker'}"
    )
    table = _table(rows)
    print(header)
    print(table)
    body = [f"# Lists benchmark ({header})", "", table, ""]
    if wrk_rows:
        wrk_lines = wrk_table(wrk_rows)
        print(wrk_lines)
        body += [
            "## wrk -t2 -c16, gunicorn 2 workers, upcoming of lister20 as caller20",
            "",
            wrk_lines,
            "",
        ]
    for title, plan in plans:
        body += [f"## Plan: {title}", "", "```", plan.rstrip(), "```", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(body))
    print(f"[bench] written to {out}")


if __name__ == "__main__":
    main()
