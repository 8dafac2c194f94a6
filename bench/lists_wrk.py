"""`wrk` against gunicorn (allmine/gunicorn.conf.py, the production worker setup with its
collector tuning) for the lists benchmark: the upcoming list of `lister20` as `caller20`, its
floor, and its 304, alternating; requests/s and p50/p99, as ratios to the floor."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.funded import _UNITS, HEALTH_URL, ROOT, WRK_PORT, _env
from bench.lists_data import LISTS, run_worker, viewer_name


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


def run_wrk(backend: str, size: str, seconds: int, rounds: int) -> list[dict]:
    token = run_worker(backend, size, ["--worker", "token", "--user", viewer_name(size)]).strip()
    lister = run_worker(backend, size, ["--worker", "ids", "--size", size]).strip()
    env = {**_env(backend, size), "HOST": "127.0.0.1", "PORT": str(WRK_PORT)}
    # Steady state: a worker replaced mid-run (max_requests: every ~25 s at these rates) would
    # charge its start-up to whichever target happens to be running.
    env.update({"WEB_CONCURRENCY": "2", "GUNICORN_LOG_LEVEL": "warning"})
    env["GUNICORN_MAX_REQUESTS"] = "0"
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
