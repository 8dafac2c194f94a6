"""What the clock's sweeps cost on a seeded database (API.md §9, crowdfunding/clock.py).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python manage.py seed_demo --users 5000 --streams 100000 \\
        --contributions 200000
    DATABASE_URL=... .venv/bin/python -m bench.clock [--repeat 20]

Two measurements, nothing kept:

- the idle tick: both sweeps when nothing is due (what every `CLOCK_TICK_SECONDS` costs in the
  steady state), median and max of --repeat runs, and its queries;
- a burst: every scheduled stream expires and every ended stream not paid out is paid, as if the
  clock jumped 400 days ahead (`now=`), timed per stream; then rolled back.
"""

import argparse
import os
import statistics
import time
from datetime import timedelta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allmine.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from crowdfunding.clock import funding_payouts_settle_due, live_streams_expire_due
    from crowdfunding.models import Contribution, FundingPayout
    from livestreams.models import LiveStream

    print(
        f"{connection.vendor}: {LiveStream.objects.count()} streams "
        f"({LiveStream.objects.filter(status='ended').count()} ended, "
        f"{FundingPayout.objects.count()} paid out), {Contribution.objects.count()} contributions"
    )

    def tick() -> int:
        return live_streams_expire_due() + funding_payouts_settle_due()

    print(f"first tick: {tick()} streams were due")  # then the ticks are (nearly) idle
    timings, acted = [], 0
    for _ in range(args.repeat):
        started = time.perf_counter()
        acted += tick()  # a stream may fall due meanwhile
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        tick()
    print(
        f"idle tick: median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms, "
        f"{len(queries.captured_queries)} queries ({acted} streams fell due meanwhile)"
    )

    later = timezone.now() + timedelta(days=400)
    with transaction.atomic():
        started = time.perf_counter()
        expired = live_streams_expire_due(now=later)
        expiring = time.perf_counter() - started
        started = time.perf_counter()
        paid = funding_payouts_settle_due(now=later)
        paying = time.perf_counter() - started
        transaction.set_rollback(True)
    for label, count, seconds in (("expired", expired, expiring), ("paid out", paid, paying)):
        per = seconds * 1000 / count if count else 0
        print(f"burst: {count} streams {label} in {seconds:.2f} s ({per:.2f} ms per stream)")


if __name__ == "__main__":
    main()
