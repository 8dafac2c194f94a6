"""`wrk` against gunicorn, for the benchmarks (bench/funded.py, bench/lists_wrk.py): the server
as production runs it (allmine/gunicorn.conf.py and its collector tuning), one wrk run read back
as requests/s and p50/p99, and rounds of runs over several targets compared with a floor."""

import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEALTH_URL = "/api/v1/health"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
WORKERS = 2
CONNECTIONS = 16  # wrk's, kept open for a whole run


@contextlib.contextmanager
def gunicorn_server(env: dict, port: int):
    """gunicorn (2 workers) with `env` (the database and settings) on 127.0.0.1:`port`;
    yields its base URL once /api/v1/health answers, and stops it afterwards."""
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
    env.update({"WEB_CONCURRENCY": str(WORKERS), "GUNICORN_LOG_LEVEL": "warning"})
    # Steady state: a worker replaced mid-run (max_requests: every ~25 s at these rates) would
    # charge its start-up to whichever target happens to be running.
    env["GUNICORN_MAX_REQUESTS"] = "0"
    # wrk opens its connections at once and keeps them: whichever worker wakes first may accept
    # most of them, and a run then measures one worker of two (seen: 214-256 against 492-614
    # requests/s for the same target, run to run, both targets alike). Each worker takes at most
    # its share (gunicorn's own setting, through its environment variable). gthread keeps at most
    # worker_connections - threads connections idle in keep-alive and closes the next one; wrk's
    # are never idle that long: 17 connections accepted per run with the cap as without it
    # (nstat TcpPassiveOpens), so no run pays for reconnecting.
    env["GUNICORN_CMD_ARGS"] = f"--worker-connections={CONNECTIONS // WORKERS}"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "allmine/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
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
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def wrk_run(url: str, headers: list[str], seconds: int) -> dict:
    """`wrk -t2 -c16` (CONNECTIONS) for `seconds` on `url` with `headers`: requests/s, p50 and
    p99 (ms), and whether any answer was not 2xx or 3xx (`non2xx`). Socket errors end the
    benchmark."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
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


def wrk_rounds(base: str, targets: dict, seconds: int, rounds: int) -> dict[str, dict]:
    """wrk on each target (name: (path, headers)) in turn, `rounds` times, after a one-second
    run of each to warm every worker. Per target: the medians over the rounds of requests/s,
    p50 and p99, and the medians of its per-round ratios to the target named `floor`
    (`rps_ratio`, `p50_ratio`, `p99_ratio`: target ÷ floor). A ratio compares two runs a few
    seconds apart, so a drift of the machine's other work over the minutes cancels out, and
    medians of several rounds are not pulled by one disturbed run (the best of two, as before,
    reported whichever run was least disturbed; `rounds` odd keeps each median one run's)."""

    def run(name: str, path: str, headers: list[str], run_seconds: int) -> dict:
        result = wrk_run(base + path, headers, run_seconds)
        if result["non2xx"]:  # wrk counts 2xx and 3xx as good answers
            raise SystemExit(f"[bench] wrk {name}: answers other than 2xx or 3xx")
        return result

    for name, (path, headers) in targets.items():
        run(name, path, headers, 1)
    runs: dict[str, list[dict]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, (path, headers) in targets.items():
            runs[name].append(run(name, path, headers, seconds))
    summary = {}
    for name, results in runs.items():
        rounds_with_floor = list(zip(results, runs["floor"], strict=True))
        summary[name] = {}
        for key in ("rps", "p50", "p99"):
            summary[name][key] = statistics.median(r[key] for r in results)
            ratios = [r[key] / f[key] for r, f in rounds_with_floor]
            summary[name][f"{key}_ratio"] = statistics.median(ratios)
    return summary
