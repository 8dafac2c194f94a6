"""Benchmark of the live event streams (API.md §10) on one uvicorn process, loopback only.

    .venv/bin/python -m bench.sse                      # Redis broker (production's), defaults
    .venv/bin/python -m bench.sse --broker memory      # the demo's in-process broker
    .venv/bin/python -m bench.sse --idle 500 --hold 5 --fanout 100 --funds 5   # quick

A throwaway SQLite database (migrated, one stream, one funder with credits) and, for the Redis
broker, a throwaway redis-server (loadtest/redis_server.py) are made; one uvicorn process
(`allmine.asgi`, no access log, the default 15 s heartbeat) serves them on a free port.

1. Idle subscribers: `--idle` connections to `GET /api/v1/live-stream/{id}/events`, opened in
   steps of 250; the server's resident memory (VmRSS) after each step, then `--hold` seconds
   later with every connection still open (steady memory?), and that every stream is still
   alive at the end (each gets one more event).
2. Fund → event latency: `--fanout` subscribers (each size of it) on one stream; `--funds`
   times, `POST /fund` through the same server and the time until each subscriber has the
   `funding` event, from just before the request is sent. p50/p99 over every (fund, subscriber)
   pair, the time until the last subscriber had it, and the fund request's own time.

Bounded: every wait has a deadline, connection counts are capped by the arguments, all
processes are stopped at the end. Results are printed and written to bench/results/sse.md.
"""

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_status(pid: int) -> tuple[float, int]:
    """(resident memory in MB, threads) of a process."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


def prepare_database(path: Path) -> tuple[str, str]:
    """Migrate a fresh SQLite file; one scheduled stream and one funder: (stream id, token)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "DJANGO_SETTINGS_MODULE":
           "allmine.settings", "REDIS_URL": ""}  # fmt: skip
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    script = (
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from users.models import User\n"
        "from users.services import access_token_for, credits_grant\n"
        "creator = User.objects.create_user('bench-creator', password='x')\n"
        "funder = User.objects.create_user('bench-funder', password='x')\n"
        "credits_grant(user=funder, amount=1_000_000)\n"
        "from livestreams.models import LiveStream\n"
        "start = timezone.now() + timedelta(days=1)\n"
        "s = LiveStream.objects.create(creator=creator, title='Bench', channel_name='bench-0000',\n"
        "    interest='music', duration_goal=60, planned_start_date=start,\n"
        "    planned_end_date=start + timedelta(hours=1), funding_goal=10_000)\n"
        "print(s.pk, access_token_for(funder))\n"
    )
    out = subprocess.run(
        [py, "manage.py", "shell", "-v0", "-c", script],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    return out[-2], out[-1]


class Server:
    def __init__(self, database: Path, redis_url: str):
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{database}",
            "DJANGO_SETTINGS_MODULE": "allmine.settings",
            "REDIS_URL": "",
            "LIVE_EVENTS_REDIS_URL": redis_url,
            "LOG_LEVEL": "WARNING",
            "THROTTLE_FUNDING_RATE": "100000/min",
        }
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (closed with the process)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "allmine.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--no-access-log", "--lifespan", "off",
             "--backlog", "4096"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    raise RuntimeError(self.log.read().decode()) from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Subscriber:
    """One raw SSE connection (asyncio streams), reading `funding` events."""

    def __init__(self):
        self.reader = self.writer = None

    async def open(self, port: int, path: str) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Accept: text/event-stream\r\n\r\n".encode())  # fmt: skip
        await self.writer.drain()
        status = await self.reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"subscription refused: {status!r}")
        while await self.reader.readline() not in (b"\r\n", b""):
            pass  # headers
        await self.until(b": connected")

    async def until(self, marker: bytes) -> bytes:
        while True:
            line = await self.reader.readline()
            if not line:
                raise RuntimeError("stream closed")
            if marker in line:
                return line

    async def next_funding(self) -> dict:
        await self.until(b"event: funding")
        line = await self.until(b"data: ")
        return json.loads(line.split(b"data: ", 1)[1])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def fund(port: int, stream: str, token: str, amount: int = 1) -> float:
    """POST /fund on a fresh connection; returns its duration in seconds."""
    body = json.dumps({"amount": amount}).encode()
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST /api/v1/live-stream/{stream}/fund HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    status = await reader.readline()
    await reader.read()
    writer.close()
    if b" 201 " not in status:
        raise RuntimeError(f"fund refused: {status!r}")
    return time.perf_counter() - started


async def open_many(port: int, path: str, count: int) -> list[Subscriber]:
    subscribers = [Subscriber() for _ in range(count)]
    for start in range(0, count, 100):  # 100 at a time: the server's accept backlog is finite
        await asyncio.wait_for(
            asyncio.gather(*(s.open(port, path) for s in subscribers[start : start + 100])),
            timeout=60,
        )
    return subscribers


async def idle_run(server: Server, stream: str, token: str, idle: int, hold: float) -> dict:
    path = f"/api/v1/live-stream/{stream}/events"
    steps, subscribers = [(0, *process_status(server.process.pid))], []
    while len(subscribers) < idle:
        step = min(250, idle - len(subscribers))
        subscribers += await open_many(server.port, path, step)
        steps.append((len(subscribers), *process_status(server.process.pid)))
    await asyncio.sleep(hold)
    held = process_status(server.process.pid)
    await fund(server.port, stream, token)
    received = await asyncio.wait_for(
        asyncio.gather(*(s.next_funding() for s in subscribers)), timeout=120
    )
    for subscriber in subscribers:
        subscriber.close()
    return {"steps": steps, "held": held, "alive": len(received), "idle": idle, "hold": hold}


async def latency_run(server: Server, stream: str, token: str, fanout: int, funds: int) -> dict:
    path = f"/api/v1/live-stream/{stream}/events"
    subscribers = await open_many(server.port, path, fanout)
    latencies, lasts, fund_times = [], [], []
    try:
        for _ in range(funds):
            started = time.perf_counter()
            arrivals: list[float] = []

            async def receive(subscriber: Subscriber, arrivals=arrivals) -> None:
                await subscriber.next_funding()
                arrivals.append(time.perf_counter())

            waiting = [asyncio.create_task(receive(s)) for s in subscribers]
            fund_times.append(await fund(server.port, stream, token))
            await asyncio.wait_for(asyncio.gather(*waiting), timeout=60)
            latencies += [(arrival - started) * 1000 for arrival in arrivals]
            lasts.append((max(arrivals) - started) * 1000)
            await asyncio.sleep(0.2)
    finally:
        for subscriber in subscribers:
            subscriber.close()
    latencies.sort()
    return {
        "fanout": fanout,
        "funds": funds,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "last_p50": statistics.median(lasts),
        "fund_p50": statistics.median(fund_times) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--broker", choices=["redis", "memory"], default="redis")
    parser.add_argument("--idle", type=int, default=2000, help="idle subscribers (max 5000)")
    parser.add_argument("--hold", type=float, default=30, help="seconds to hold them open")
    parser.add_argument("--fanout", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--funds", type=int, default=20, help="funds per fan-out size")
    args = parser.parse_args()
    args.idle = min(args.idle, 5000)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 3 * args.idle + 100)), hard))

    workdir = Path(tempfile.mkdtemp(prefix="allmine-bench-sse-"))
    redis = None
    server = None
    try:
        stream, token = prepare_database(workdir / "db.sqlite3")
        redis_url = ""
        if args.broker == "redis":
            from loadtest.redis_server import RedisServer

            redis = RedisServer(ports=range(6440, 6480)).start()
            redis_url = redis.url
        server = Server(workdir / "db.sqlite3", redis_url)
        idle = asyncio.run(idle_run(server, stream, token, args.idle, args.hold))
        runs = [
            asyncio.run(latency_run(server, stream, token, fanout, args.funds))
            for fanout in args.fanout
        ]
    finally:
        if server is not None:
            server.stop()
        if redis is not None:
            redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    lines = [
        f"## bench/sse: broker {args.broker}, one uvicorn process, loopback",
        "",
        f"Idle subscribers on one stream, held {idle['hold']:.0f} s; server memory (VmRSS):",
        "",
        "| open connections | server RSS (MB) | server threads |",
        "|---:|---:|---:|",
        *[f"| {count} | {mb:.1f} | {threads} |" for count, mb, threads in idle["steps"]],
        f"| {idle['idle']} after {idle['hold']:.0f} s | {idle['held'][0]:.1f} | "
        f"{idle['held'][1]} |",
        "",
        f"Every one still alive at the end: {idle['alive']} of {idle['idle']} got the next event.",
        "",
        "| subscribers | funds | event p50 (ms) | event p99 (ms) | last subscriber p50 (ms) | "
        "fund request p50 (ms) |",
        "|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {r['fanout']} | {r['funds']} | {r['p50']:.1f} | {r['p99']:.1f} | "
            f"{r['last_p50']:.1f} | {r['fund_p50']:.1f} |"
            for r in runs
        ],
        "",
        "Latency: from just before `POST /fund` is sent until the subscriber has parsed the "
        "`funding` event (the fund's own transaction and response included).",
    ]
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"sse-{args.broker}.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
