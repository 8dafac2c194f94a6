"""`wrk` against gunicorn (allmine/gunicorn.conf.py, the production worker setup with its
collector tuning) for the lists benchmark: the upcoming list of `lister20` as `caller20`, its
floor, and its 304, alternating; requests/s and p50/p99, as ratios to the floor."""

import urllib.error
import urllib.request

from bench.funded import WRK_PORT, _env
from bench.lists_data import LISTS, run_worker, viewer_name
from bench.wrk import gunicorn_server, wrk_run


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
        targets = {
            "endpoint": (endpoint, [auth]),
            "floor": (floor, [auth]),
            "304": (endpoint, [auth, f"If-None-Match: {etag}"]),
        }
        for url, headers in targets.values():
            wrk_run(url, headers, 1)  # warm every worker
        best: dict[str, dict] = {}
        for _ in range(rounds):
            for name, (url, headers) in targets.items():
                result = wrk_run(url, headers, seconds)
                if result["non2xx"]:  # wrk counts 2xx and 3xx as good answers
                    raise SystemExit(f"[bench] wrk {name}: unexpected statuses")
                if name not in best or result["rps"] > best[name]["rps"]:
                    best[name] = result
    return [{"backend": backend, "size": size, "target": name, **r} for name, r in best.items()]


def wrk_table(rows: list[dict]) -> str:
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
