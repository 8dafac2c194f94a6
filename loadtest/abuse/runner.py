"""The run: a fresh database, the processes, each scenario, its report; exit 1 on any
violation. The command line is `python -m loadtest.abuse` (`scripts/abuse`)."""

import argparse
import json
import os
import signal
import sys
import time
import urllib.parse
import uuid
from collections import Counter
from pathlib import Path

import loadtest.abuse
from loadtest.abuse.books import books
from loadtest.abuse.data import django_setup
from loadtest.abuse.harness import Harness
from loadtest.abuse.processes import start_server
from loadtest.abuse.proxy import TcpProxy
from loadtest.abuse.scenarios import SCENARIOS
from loadtest.redis_server import RedisServer


def recreate_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.abuse", description=loadtest.abuse.__doc__.split("\n\n")[0]
    )
    parser.add_argument("--short", action="store_true", help="CI's quick run")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    args = parser.parse_args()

    port = int(os.environ.get("ABUSE_PORT", "8120"))
    proxy_port = int(os.environ.get("ABUSE_DB_PROXY_PORT", "8128"))
    database_url = os.environ.get(
        "ABUSE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/allmine_abuse"
    )
    out = Path(os.environ.get("ABUSE_OUT", "/tmp/allmine-abuse"))
    out.mkdir(parents=True, exist_ok=True)
    parts = urllib.parse.urlsplit(database_url)
    credentials = parts.netloc.rpartition("@")[0]
    proxy_netloc = f"127.0.0.1:{proxy_port}"
    proxied = urllib.parse.urlunsplit(
        parts._replace(netloc=f"{credentials}@{proxy_netloc}" if credentials else proxy_netloc)
    )
    os.environ["DATABASE_URL"] = database_url  # this process reads and checks directly
    # One key for the server and this process, which signs the clients' tokens.
    os.environ["DJANGO_SECRET_KEY"] = os.environ["JWT_SIGNING_KEY"] = uuid.uuid4().hex * 2
    os.environ.pop("REDIS_URL", None)

    # Stopped from outside: still stop the server, Redis and proxy (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    recreate_database(database_url)
    wanted = [name for name in args.only.split(",") if name]
    chosen = [(name, f) for name, f in SCENARIOS if not wanted or name in wanted]
    proxy = TcpProxy(proxy_port, (parts.hostname, parts.port or 5432))
    redis = RedisServer(ports=range(6395, 6400)).start()
    server = None
    results = []
    try:
        server = start_server(
            port=port, database_url=proxied, redis_url=redis.url, log=out / "server.log"
        )
        django_setup()
        harness = Harness(
            base=f"http://127.0.0.1:{port}", short=args.short, redis=redis, proxy=proxy
        )
        for name, function in chosen:
            harness.reset()
            before = books()
            started = time.time()
            try:
                function(harness)
            except Exception as error:
                harness.fail(f"scenario crashed: {type(error).__name__}: {error}")
            if not redis.ping():  # a scenario that stops Redis brings it back; make sure
                redis.start()
            proxy.restore()
            results.append(report(name, harness, before, books(), time.time() - started))
    finally:
        if server is not None:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
        redis.stop()
        proxy.close()

    log_text = (out / "server.log").read_text(errors="replace")
    # Answers of 500 in the request log (503s log their database error on purpose).
    logged_500s = log_text.count('"status": 500')
    total = Counter()
    for result in results:
        total.update({k: result[k] for k in ("requests", "500s", "unexpected")})
    failed = [r["scenario"] for r in results if not r["ok"]]
    print(
        f"\n== total: {total['requests']} requests, {total['500s']} answered 500, "
        f"{total['unexpected']} unexpected; 500s in the server log: {logged_500s}; "
        f"scenarios failed: {', '.join(failed) or 'none'}"
    )
    (out / "report.json").write_text(json.dumps(results, indent=2) + "\n")
    return 1 if failed or logged_500s or len(results) != len(chosen) else 0


def report(name: str, h: Harness, before: dict, ledger: dict, seconds: float) -> dict:
    """Figures of one scenario; its violations are what it changed (an earlier scenario's
    mismatch is reported there, not again)."""
    by_operation: dict[str, Counter] = {}
    for operation, status, _ in h.records:
        by_operation.setdefault(operation, Counter())[status] += 1
    unexpected = [
        (op, status, problem)
        for op, status, problem in h.records
        if problem or status not in h.allowed.get(op, set())
    ]
    errors_500 = sum(1 for _, status, _ in h.records if status >= 500 and status != 503)
    violations = list(h.failures)
    if unexpected:
        sample = Counter(
            f"{op} {status} {problem or ''}".strip() for op, status, problem in unexpected
        )
        violations.append(f"unexpected answers: {dict(sample.most_common(6))}")
    new_mismatches = [m for m in ledger["mismatches"] if m not in before["mismatches"]]
    for mismatch in new_mismatches[:10]:
        violations.append(f"audit_ledger: {mismatch}")
    invented = ledger["invented"] - before["invented"]
    if invented:
        violations.append(f"{abs(invented)} credits {'invented' if invented > 0 else 'lost'}")
    result = {
        "scenario": name,
        "seconds": round(seconds, 1),
        "requests": len(h.records),
        "outcomes": {op: dict(sorted(c.items())) for op, c in sorted(by_operation.items())},
        "500s": errors_500,
        "unexpected": len(unexpected),
        "audit_ledger": "clean" if not new_mismatches else f"{len(new_mismatches)} mismatches",
        "credits_granted": ledger["granted"],
        "credits_in_balances": ledger["balances"],
        "credits_held_by_streams": ledger["held"],
        "credits_invented_or_lost": invented,
        "violations": violations,
        "ok": not violations,
    }
    print(f"\n== {name}: {'ok' if result['ok'] else 'FAILED'} ({result['seconds']} s)")
    print(
        f"   requests {result['requests']}, 500s {errors_500}, unexpected {len(unexpected)}; "
        f"audit_ledger {result['audit_ledger']}; credits granted {ledger['granted']}, "
        f"in balances {ledger['balances']}, held by streams {ledger['held']}; "
        f"invented (+) or lost (-) here: {invented}"
    )
    for operation, counts in result["outcomes"].items():
        print(f"   {operation:24} {counts}")
    for violation in violations:
        print(f"   VIOLATION: {violation}")
    return result
