"""Benchmark of GET /api/v1/live-stream/funded against its floor and the naive version.

    .venv/bin/python -m bench.funded            # small + large, SQLite + PostgreSQL, + wrk
    .venv/bin/python -m bench.funded --smoke    # tiny data, SQLite, seconds (CI): checks only

Three implementations of the same body run in one process, behind the same middleware and JWT
authentication, reached through Django's test client (URL routing, middleware, view, paging,
rendering; no socket):

  endpoint  the real one (crowdfunding.views.FundedLiveStreamViewSet)
  floor     the same body the fastest straightforward way: hand-written SQL, plain dicts,
            orjson (bench/floor.py)
  naive     the real serializers' declarations walked by DRF over lazily loaded model
            instances (bench/naive.py)

For each backend and size a seed worker builds the database once with `seed_demo`'s machinery
(bench/.data/<size>.sqlite3, or the PostgreSQL database `$BENCH_POSTGRES_PREFIX_<size>`,
default `allmine_bench_<size>`; reused while it matches), then a fresh measure worker:

1. checks that the endpoint's body equals the floor's byte for byte (the timestamp aside) and
   the `X-Total-Count` header too, for every caller (`caller1`, `caller20`, `caller100`, and
   the demo user, who is a guest of one of their streams) and several pages, and that the
   naive body equals it on the first page;
2. counts queries per request (endpoint = floor, at most 7);
3. times the three interleaved: each round sends endpoint and floor requests alternately, in a
   random order, `--repeat` times each, then one naive request; `--rounds` rounds. Reported:
   median and p90 per variant, and the ratios endpoint ÷ floor and naive ÷ endpoint (medians).

Then (unless --no-wrk) `wrk` runs against gunicorn (allmine/gunicorn.conf.py, 2 workers, the
benchmark's settings) for the endpoint, the floor and /api/v1/health as `caller20`: requests/s
and p50/p99 latency, alternating targets, reported as ratios to the floor.

Smoke mode asserts the bodies and query counts, never time. Results go to stdout and --out.
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
from pathlib import Path

from bench.wrk import HEALTH_URL, gunicorn_server, wrk_rounds

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "results"
PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
PG_PREFIX = os.environ.get("BENCH_POSTGRES_PREFIX", "allmine_bench")  # database name prefix
SETTINGS = "bench.settings"
SEED = 42
URL = "/api/v1/live-stream/funded"
FLOOR_URL = "/bench/floor/live-stream/funded"
NAIVE_URL = "/bench/naive/live-stream/funded"
VARIANTS = {"endpoint": URL, "floor": FLOOR_URL, "naive": NAIVE_URL}
MAX_QUERIES = 7
PAGES = ({}, {"limit": 3}, {"page": 2, "limit": 7}, {"page": 3, "limit": 40}, {"page": 99})
WRK_CALLER = 20
WRK_PORT = int(os.environ.get("BENCH_PORT", "8130"))

SIZES = {
    "smoke": {"users": 60, "streams": 150, "contributions": 600, "callers": (1, 5, 10)},
    "small": {"users": 2000, "streams": 1000, "contributions": 10_000, "callers": (1, 20, 100)},
    "large": {
        "users": 20_000,
        "streams": 100_000,
        "contributions": 1_000_000,
        "callers": (1, 20, 100),
    },
}


def database_url(backend: str, size: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{DATA / f'{size}.sqlite3'}"
    return f"{PG_SERVER}/{PG_PREFIX}_{size}"


# --- workers (run in subprocesses with DATABASE_URL set) ----------------------------------


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    import django

    django.setup()


def worker_seed(size: str) -> None:
    """Migrate and seed unless the database already holds this size's data."""
    _django()
    from django.core.management import call_command

    from livestreams.models import LiveStream
    from users.models import User

    spec = SIZES[size]
    call_command("migrate", verbosity=0)
    top = f"caller{max(spec['callers'])}"
    # bench.lists adds its listers' streams beside the seed's; they do not make it stale.
    seeded = LiveStream.objects.exclude(creator__username__startswith="lister").count()
    if User.objects.filter(username=top).exists() and seeded == spec["streams"]:
        print(f"[bench] {size}: seeded database found, reusing it", file=sys.stderr)
        return
    started = time.monotonic()
    call_command(
        "seed_demo",
        reset=True,
        seed=SEED,
        users=spec["users"],
        streams=spec["streams"],
        contributions=spec["contributions"],
        callers=spec["callers"],
        verbosity=1 if size != "smoke" else 0,
        stdout=sys.stderr,
    )
    print(f"[bench] {size}: seeded in {time.monotonic() - started:.1f}s", file=sys.stderr)


def _token(user) -> str:
    from users.services import access_token_for

    return access_token_for(user)


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


_TIMESTAMP = re.compile(rb',"timestamp":"[^"]*"}$')


def _body(response) -> bytes:
    assert response.status_code == 200, response.content[:300]
    return _TIMESTAMP.sub(b"}", response.content)


def _check_bodies(client_for, callers: list, size: str) -> None:
    """The endpoint's body and total equal the floor's for every caller and page, and the
    naive body equals them on the first page."""
    for user in callers:
        client = client_for(user)
        for params in PAGES:
            endpoint, floor = client.get(URL, params), client.get(FLOOR_URL, params)
            where = f"{user.username} {params} ({size})"
            assert _body(endpoint) == _body(floor), f"endpoint and floor bodies differ: {where}"
            assert endpoint["X-Total-Count"] == floor["X-Total-Count"], where
        naive = client.get(NAIVE_URL)
        assert _body(naive) == _body(client.get(URL)), f"naive body differs: {user.username}"


def worker_measure(size: str, rounds: int, repeat: int, profile: int, explain: bool) -> None:
    _django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crowdfunding.selectors import funded_streams_for_user
    from livestreams.selectors import stream_values
    from users.models import User

    def client_for(user):
        return Client(HTTP_AUTHORIZATION=f"Bearer {_token(user)}")

    callers = {n: User.objects.get(username=f"caller{n}") for n in SIZES[size]["callers"]}
    demo = User.objects.filter(username="demo").first()
    _check_bodies(client_for, [*callers.values(), *([demo] if demo else [])], size)

    rng = random.Random(SEED)
    rows, extras = [], {}
    for n, user in callers.items():
        client = client_for(user)
        row = {"size": size, "funded": n}
        for variant, url in VARIANTS.items():
            for _ in range(2):  # warm caches, connections, lazy imports
                client.get(url)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            row[f"{variant}_queries"] = len(queries)
            row[f"{variant}_bytes"] = len(response.content)
            assert len(response.json()["data"]) == n, f"{variant}: not {n} streams"
        assert row["endpoint_queries"] == row["floor_queries"] <= MAX_QUERIES, row

        times = {variant: [] for variant in VARIANTS}
        gc.collect()  # start each caller's rounds without the garbage of the checks above
        for _ in range(rounds):
            for _ in range(repeat):
                pair = ["endpoint", "floor"]
                rng.shuffle(pair)
                for variant in pair:
                    started = time.perf_counter()
                    client.get(VARIANTS[variant])
                    times[variant].append(time.perf_counter() - started)
            started = time.perf_counter()
            client.get(NAIVE_URL)
            times["naive"].append(time.perf_counter() - started)
        for variant, samples in times.items():
            row[f"{variant}_median"] = statistics.median(samples) * 1000
            row[f"{variant}_p90"] = _percentile(samples, 90) * 1000
            row[f"{variant}_samples"] = len(samples)
        rows.append(row)

    top = callers[max(callers)]
    if explain:
        # the page query of the funded list, as compiled (stream, creator and photo joined)
        queryset = stream_values(funded_streams_for_user(user=top).queryset)[:100]
        if connection.vendor == "postgresql":
            extras["explain"] = queryset.explain(analyze=True, buffers=True)
        else:
            extras["explain"] = queryset.explain()
    if profile:
        extras.update(_profile(client_for(top), profile))
    print(json.dumps({"rows": rows, "extras": extras}))


def _profile(client, requests: int) -> dict:
    """cProfile of `requests` endpoint requests: the top costs by own time, and by cumulative
    time below the view."""
    import cProfile
    import io
    import pstats

    for _ in range(3):
        client.get(URL)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(URL)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(15)
    own = out.getvalue()
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("cumulative").print_stats(40)
    return {"profile (own time)": own, "profile (cumulative)": out.getvalue()}


def worker_token(n: int) -> None:
    _django()
    from users.models import User

    print(_token(User.objects.get(username=f"caller{n}")))


# --- the driver ----------------------------------------------------------------------------


def _prepare_database(backend: str, size: str) -> None:
    if backend == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    name = f"{PG_PREFIX}_{size}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _env(backend: str, size: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url(backend, size),
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",  # no line per request
    }


def _run_worker(backend: str, size: str, args: list[str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bench.funded", *args],
        cwd=ROOT,
        env=_env(backend, size),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"[bench] worker {args} on {backend} failed ({result.returncode})")
    return result.stdout


def _run_wrk(backend: str, size: str, seconds: int, rounds: int) -> list[dict]:
    """gunicorn with the benchmark's settings; wrk on the endpoint, the floor and health in
    turn, `rounds` times (bench.wrk.wrk_rounds: medians, and medians of each round's ratios)."""
    token = _run_worker(backend, size, ["--worker", "token", "--funded", str(WRK_CALLER)])
    auth = [f"Authorization: Bearer {token.strip()}"]
    with gunicorn_server(_env(backend, size), WRK_PORT) as base:
        targets = {"endpoint": (URL, auth), "floor": (FLOOR_URL, auth), "health": (HEALTH_URL, [])}
        summary = wrk_rounds(base, targets, seconds, rounds)
    return [{"backend": backend, "size": size, "target": name, **r} for name, r in summary.items()]


def _table(rows: list[dict]) -> str:
    lines = [
        "| backend | size | funded | endpoint ms (p90) | floor ms (p90) | naive ms (p90) "
        "| **endpoint ÷ floor** | naive ÷ endpoint | queries e/f/n | bytes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['size']} | {r['funded']} "
            f"| {r['endpoint_median']:.2f} ({r['endpoint_p90']:.2f}) "
            f"| {r['floor_median']:.2f} ({r['floor_p90']:.2f}) "
            f"| {r['naive_median']:.1f} ({r['naive_p90']:.1f}) "
            f"| **{r['endpoint_median'] / r['floor_median']:.2f}×** "
            f"| {r['naive_median'] / r['endpoint_median']:.1f}× "
            f"| {r['endpoint_queries']}/{r['floor_queries']}/{r['naive_queries']} "
            f"| {r['endpoint_bytes']:,} |"
        )
    return "\n".join(lines)


def _wrk_table(rows: list[dict]) -> str:
    lines = [
        "| backend | size | target | requests/s | p50 ms | p99 ms | floor ÷ target req/s "
        "| target ÷ floor p50 | target ÷ floor p99 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['size']} | {r['target']} | {r['rps']:.0f} | {r['p50']:.1f} "
            f"| {r['p99']:.1f} | {1 / r['rps_ratio']:.2f}× | {r['p50_ratio']:.2f}× "
            f"| {r['p99_ratio']:.2f}× |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="Tiny data on SQLite, for CI.")
    parser.add_argument("--sizes", default=None, help="Comma list of small,large (default both).")
    parser.add_argument("--backends", default=None, help="Comma list of sqlite,postgres.")
    parser.add_argument("--rounds", type=int, default=None, help="Interleaved rounds (30).")
    parser.add_argument("--repeat", type=int, default=4, help="Endpoint/floor pairs per round.")
    parser.add_argument("--profile", type=int, default=0, help="cProfile N requests of caller100.")
    parser.add_argument("--no-wrk", action="store_true", help="Skip the wrk runs.")
    parser.add_argument("--wrk-seconds", type=int, default=4, help="Seconds per wrk run.")
    parser.add_argument("--wrk-rounds", type=int, default=5, help="wrk runs per target (medians).")
    parser.add_argument("--out", default=None, help="Markdown file for the tables.")
    parser.add_argument("--worker", choices=["seed", "measure", "token"], help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--funded", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--explain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "seed":
        return worker_seed(args.size)
    if args.worker == "measure":
        return worker_measure(args.size, args.rounds, args.repeat, args.profile, args.explain)
    if args.worker == "token":
        return worker_token(args.funded)

    sizes = (args.sizes or ("smoke" if args.smoke else "small,large")).split(",")
    backends = (args.backends or ("sqlite" if args.smoke else "sqlite,postgres")).split(",")
    rounds = args.rounds or (2 if args.smoke else 30)
    wrk = not (args.smoke or args.no_wrk)
    if wrk and not shutil.which("wrk"):
        raise SystemExit("[bench] wrk is not installed (apt-get install wrk), or pass --no-wrk")
    out = Path(args.out or RESULTS / ("funded-smoke.md" if args.smoke else "funded.md"))
    started = time.time()
    load_before = os.getloadavg()

    rows, wrk_rows, extras = [], [], []
    for backend in backends:
        for size in sizes:
            print(f"[bench] {backend} {size}: seeding", file=sys.stderr, flush=True)
            _prepare_database(backend, size)
            _run_worker(backend, size, ["--worker", "seed", "--size", size])
            print(f"[bench] {backend} {size}: measuring", file=sys.stderr, flush=True)
            flags = ["--worker", "measure", "--size", size, "--rounds", str(rounds)]
            flags += ["--repeat", str(args.repeat)]
            if size == sizes[-1]:
                flags.append("--explain")
                if args.profile:
                    flags += ["--profile", str(args.profile)]
            result = json.loads(_run_worker(backend, size, flags).strip().splitlines()[-1])
            for row in result["rows"]:
                rows.append({"backend": backend, **row})
            for name, text in result["extras"].items():
                extras.append(
                    (f"{name} ({backend}, {size}, caller{max(SIZES[size]['callers'])})", text)
                )
            if wrk:
                print(f"[bench] {backend} {size}: wrk", file=sys.stderr, flush=True)
                wrk_rows += _run_wrk(backend, size, args.wrk_seconds, args.wrk_rounds)

    load = f"load average {load_before[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    header = (
        f"{time.strftime('%Y-%m-%d %H:%M')}, {time.time() - started:.0f} s, {load}; "
        f"{rounds} rounds × {args.repeat} endpoint/floor pairs + 1 naive"
    )
    table = _table(rows)
    print(header)
    print(table)
    body = [f"# Funded list benchmark ({header})", "", table, ""]
    if wrk_rows:
        wrk_table = _wrk_table(wrk_rows)
        print(wrk_table)
        body += [f"## wrk -t2 -c16, gunicorn 2 workers, caller{WRK_CALLER}", "", wrk_table, ""]
    for title, text in extras:
        body += [f"## {title}", "", "```", text.rstrip(), "```", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(body))
    print(f"[bench] written to {out}")


if __name__ == "__main__":
    main()
