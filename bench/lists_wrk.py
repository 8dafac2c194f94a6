"""`wrk` against gunicorn (allmine/gunicorn.conf.py, the production worker setup with its
collector tuning) for the lists benchmark: the upcoming list of `lister20` as `caller20`, its
floor, and its 304, in turn for some rounds; medians of requests/s and p50/p99, and the medians
of each round's ratios to the floor (bench.wrk.wrk_rounds)."""

import urllib.error
import urllib.request

from bench.funded import WRK_PORT, _env
from bench.lists_data import LISTS, run_worker, viewer_name
from bench.wrk import gunicorn_server, wrk_rounds


def run_wrk(backend: str, size: str, seconds: int, rounds: int) -> list[dict]:
    token = run_worker(backend, size, ["--worker", "token", "--user", viewer_name(size)]).strip()
    lister = run_worker(backend, size, ["--worker", "ids", "--size", size]).strip()
    with gunicorn_server(_env(backend, size), WRK_PORT) as base:
        auth = f"Authorization: Bearer {token}"
        endpoint = f"{base}{LISTS['upcoming'][0].format(lister=lister)}?limit=100"
        floor = f"{base}{LISTS['upcoming'][1].format(lister=lister)}?limit=100"
        request = urllib.request.Request(endpoint, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request) as response:
            etag = response.headers["ETag"]
        request.add_header("If-None-Match", etag)
        try:
            urllib.request.urlopen(request)
            raise SystemExit("[bench] the 304 target answers 200")
        except urllib.error.HTTPError as error:
            assert error.code == 304, error.code
        path = endpoint.removeprefix(base)
        targets = {
            "endpoint": (path, [auth]),
            "floor": (floor.removeprefix(base), [auth]),
            "304": (path, [auth, f"If-None-Match: {etag}"]),
        }
        summary = wrk_rounds(base, targets, seconds, rounds)
    return [{"backend": backend, "size": size, "target": name, **r} for name, r in summary.items()]


def wrk_table(rows: list[dict]) -> str:
    lines = [
        "| backend | size | target | requests/s | p50 ms | p99 ms | target ÷ floor req/s "
        "| target ÷ floor p99 |",  # medians over the rounds; ratios: medians of each round's
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['size']} | {r['target']} | {r['rps']:.0f} | {r['p50']:.1f} "
            f"| {r['p99']:.1f} | {r['rps_ratio']:.2f}× | {r['p99_ratio']:.2f}× |"
        )
    return "\n".join(lines)
