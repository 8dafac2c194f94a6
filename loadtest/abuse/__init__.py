"""Fault-and-abuse suite: races, faults and bursts against a live gunicorn, then the books.

    python -m loadtest.abuse            # full run (a few minutes)
    python -m loadtest.abuse --short    # what CI runs (about a minute)
    python -m loadtest.abuse --only money_race,cache_outage

Run through `scripts/abuse`, which sets up the environment. The suite starts, on this machine:
a redis-server of its own (ports 6395-6399, stopped on purpose in `cache_outage`), a TCP proxy
in front of PostgreSQL (`ABUSE_DB_PROXY_PORT`, cut on purpose in `database_outage`; the shared
server is never touched) and gunicorn (`scripts/serve-production`, `ABUSE_PORT`) on a fresh
database (`ABUSE_DATABASE_URL`, dropped and recreated) behind that proxy. The app trusts one
proxy (`DJANGO_NUM_PROXIES=1`), so clients can stand for many addresses with
`X-Forwarded-For`.

The package, by concern:

- `runner`: the command line, the run (database, processes, one scenario after another) and
  the report of each scenario;
- `processes`: what the run starts (gunicorn through `scripts/serve-production`, `run_worker`);
- `proxy`: the TCP proxy in front of PostgreSQL (a database outage);
- `harness`: the HTTP clients (`Harness.call`, `Harness.parallel`, `AdminBrowser`) that
  record every answer and check its envelope (`loadtest/envelope.py`);
- `data`: users, tokens and streams made through the services, directly in the database;
- `books`: what `audit_ledger` checks and the conservation of credits;
- `scenarios`: one module per family (funding, wallet, clock, accounts, outages, throttles),
  and `SCENARIOS`, the run's order.

Each scenario is one function `scenario(h: Harness) -> None`; a new one (renting a replay,
deleting a stream...) is one more function, added to `SCENARIOS`: make its data with the
`data` helpers, send requests with `h.call(...)` from as many threads as it likes
(`h.parallel`) and say which statuses each operation may answer. After every scenario the
suite checks:

- no 500 (or any status the scenario did not allow), every body the envelope;
- `manage.py audit_ledger` clean;
- conservation: balances + credits held by streams and mini crowd fundings = credits granted
  (`admin_adjustment` + `credit_purchase` ledger rows); the difference is credits invented (> 0)
  or lost (< 0), and must be 0.

Prints the figures per scenario and in total; exits 1 on any violation.
"""
