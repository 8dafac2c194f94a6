"""Benchmark of GET /api/v1/live-stream/funded against the naive version, side by side.

    .venv/bin/python -m bench.funded            # small + large, SQLite + PostgreSQL
    .venv/bin/python -m bench.funded --smoke    # tiny sizes, SQLite, a few seconds (CI)

For each database backend and size, a seed worker builds the database once with
`seed_demo`'s machinery (kept in bench/.data/*.sqlite3 or PostgreSQL databases
`allmine_bench_<size>`, reused while they match) and a fresh measure worker then calls the
endpoint through the full Django stack with Django's test client (URL routing, middleware, JWT
authentication, view, paging, serializers, envelope renderer; no socket or WSGI server) for the
callers `caller1`, `caller20` and `caller100`, who have funded exactly that many scheduled
streams, each with guests, broadcasters and mini crowd fundings. The naive version (bench/naive.py)
runs in the same worker on the same data, and the two payloads are checked equal.

Reported per row: median and p95 latency, queries per request, response bytes, peak Python
memory allocated during one request (tracemalloc), and the worker's peak RSS. The table is
printed and written to --out. Smoke mode asserts correctness and query counts, never time.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "results"
PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
PG_PREFIX = os.environ.get("BENCH_POSTGRES_PREFIX", "allmine_bench")  # database name prefix
SEED = 42
URL = "/api/v1/live-stream/funded"
NAIVE_URL = "/bench/naive/live-stream/funded"
MAX_QUERIES = 7

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
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allmine.settings")
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
    if User.objects.filter(username=top).exists() and LiveStream.objects.count() == spec["streams"]:
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
    from rest_framework_simplejwt.tokens import AccessToken

    from users.authentication import TOKEN_VERSION_CLAIM

    token = AccessToken.for_user(user)
    token[TOKEN_VERSION_CLAIM] = user.token_version
    return str(token)


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def worker_measure(size: str, requests: int, profile: bool, explain: bool) -> None:
    _django()
    import resource
    import tracemalloc

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from crowdfunding.selectors import funded_streams_for_user
    from users.models import User

    rows = []
    extras: dict[str, str] = {}
    with override_settings(ROOT_URLCONF="bench.urls", DEBUG=False):
        for n in SIZES[size]["callers"]:
            user = User.objects.get(username=f"caller{n}")
            client = Client(HTTP_AUTHORIZATION=f"Bearer {_token(user)}")
            payloads = {}
            for variant, url in (("optimized", URL), ("naive", NAIVE_URL)):
                for _ in range(2):  # warm caches, connections, lazy imports
                    client.get(url)
                times = []
                for _ in range(requests):
                    started = time.perf_counter()
                    response = client.get(url)
                    times.append(time.perf_counter() - started)
                    assert response.status_code == 200, response.content[:300]
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url)
                query_count = len(queries)  # the next request resets the log
                tracemalloc.start()
                client.get(url)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                data = response.json()["data"]
                assert len(data) == n, f"{variant}: {len(data)} streams for caller{n}"
                payloads[variant] = data
                rows.append(
                    {
                        "size": size,
                        "funded": n,
                        "variant": variant,
                        "median_ms": statistics.median(times) * 1000,
                        "p95_ms": _percentile(times, 95) * 1000,
                        "queries": query_count,
                        "bytes": len(response.content),
                        "peak_kib": peak / 1024,
                    }
                )
            assert payloads["optimized"] == payloads["naive"], "naive and optimized payloads differ"

        top = User.objects.get(username=f"caller{max(SIZES[size]['callers'])}")
        if explain:
            queryset = funded_streams_for_user(user=top)[:100]
            if connection.vendor == "postgresql":
                extras["explain"] = queryset.explain(analyze=True, buffers=True)
            else:
                extras["explain"] = queryset.explain()
        if profile:
            import cProfile
            import io
            import pstats

            client = Client(HTTP_AUTHORIZATION=f"Bearer {_token(top)}")
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(20):
                client.get(URL)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
            extras["profile"] = out.getvalue()
    maxrss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for row in rows:
        row["rss_mib"] = maxrss_mib
    print(json.dumps({"rows": rows, "extras": extras}))


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


def _run_worker(backend: str, size: str, args: list[str]) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(backend, size),
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",  # no line per request
    }
    env.setdefault("DJANGO_SETTINGS_MODULE", "allmine.settings")
    result = subprocess.run(
        [sys.executable, "-m", "bench.funded", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"[bench] worker {args} on {backend} failed ({result.returncode})")
    return result.stdout


def _table(rows: list[dict]) -> str:
    opt = {(r["backend"], r["size"], r["funded"]): r for r in rows if r["variant"] == "optimized"}
    naive = {(r["backend"], r["size"], r["funded"]): r for r in rows if r["variant"] == "naive"}
    sizes = [s for s in SIZES if any(r["size"] == s for r in rows)]
    lines = [
        "| backend | size | funded | variant | median ms | p95 ms | queries | bytes "
        "| peak KiB/request | worker RSS MiB | naive ÷ optimized | ÷ smallest size |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        key = (r["backend"], r["size"], r["funded"])
        speedup = ""
        if r["variant"] == "optimized" and key in naive:
            speedup = f"{naive[key]['median_ms'] / r['median_ms']:.1f}×"
        vs_small = ""
        base = (r["backend"], sizes[0], r["funded"])
        if r["variant"] == "optimized" and r["size"] != sizes[0] and base in opt:
            vs_small = f"{r['median_ms'] / opt[base]['median_ms']:.2f}×"
        lines.append(
            f"| {r['backend']} | {r['size']} | {r['funded']} | {r['variant']} "
            f"| {r['median_ms']:.1f} | {r['p95_ms']:.1f} | {r['queries']} | {r['bytes']:,} "
            f"| {r['peak_kib']:,.0f} | {r['rss_mib']:.0f} | {speedup} | {vs_small} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="Tiny sizes on SQLite, for CI.")
    parser.add_argument("--sizes", default=None, help="Comma list of small,large (default both).")
    parser.add_argument("--backends", default=None, help="Comma list of sqlite,postgres.")
    parser.add_argument("--requests", type=int, default=None, help="Timed requests per row.")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest caller.")
    parser.add_argument("--out", default=None, help="Markdown file for the table.")
    parser.add_argument("--worker", choices=["seed", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--explain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "seed":
        return worker_seed(args.size)
    if args.worker == "measure":
        return worker_measure(args.size, args.requests, args.profile, args.explain)

    sizes = (args.sizes or ("smoke" if args.smoke else "small,large")).split(",")
    backends = (args.backends or ("sqlite" if args.smoke else "sqlite,postgres")).split(",")
    requests = args.requests or (3 if args.smoke else 25)
    out = Path(args.out or RESULTS / ("funded-smoke.md" if args.smoke else "funded.md"))

    rows, extras = [], []
    for backend in backends:
        for size in sizes:
            print(f"[bench] {backend} {size}: seeding", file=sys.stderr, flush=True)
            _prepare_database(backend, size)
            _run_worker(backend, size, ["--worker", "seed", "--size", size])
            print(f"[bench] {backend} {size}: measuring", file=sys.stderr, flush=True)
            flags = ["--worker", "measure", "--size", size, "--requests", str(requests)]
            if size == sizes[-1]:
                flags.append("--explain")
                if args.profile:
                    flags.append("--profile")
            result = json.loads(_run_worker(backend, size, flags).strip().splitlines()[-1])
            for row in result["rows"]:
                rows.append({"backend": backend, **row})
            for name, text in result["extras"].items():
                extras.append(
                    (f"{name} ({backend}, {size}, caller{max(SIZES[size]['callers'])})", text)
                )

    table = _table(rows)
    print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    body = [f"# Funded list benchmark ({time.strftime('%Y-%m-%d %H:%M')})", "", table, ""]
    for title, text in extras:
        body += [f"## {title}", "", "```", text.rstrip(), "```", ""]
    out.write_text("\n".join(body))
    print(f"[bench] table written to {out.relative_to(ROOT) if out.is_absolute() else out}")

    bad = [r for r in rows if r["variant"] == "optimized" and r["queries"] > MAX_QUERIES]
    if bad:
        raise SystemExit(f"[bench] more than {MAX_QUERIES} queries per request: {bad}")


if __name__ == "__main__":
    main()
