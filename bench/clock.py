"""What the clock's sweeps cost on a seeded database (API.md §9, crowdfunding/clock.py).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python manage.py seed_demo --users 5000 --streams 100000 \\
        --contributions 200000
    DATABASE_URL=... .venv/bin/python -m bench.clock [--repeat 20]

Two measurements, nothing kept:

- the idle tick: both sweeps when nothing is due (what every `CLOCK_TICK_SECONDS` costs in the
  steady state), median and max of --repeat runs, and its queries;
- the work per stream: --burst streams expired and --burst paid out as if the clock had jumped
  400 days ahead (`now=`), each in a transaction of its own as the sweep does; rolled back.
"""

import argparse
import os
import statistics
import time
from datetime import timedelta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--burst", type=int, default=500)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allmine.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from crowdfunding.clock import (
        funding_payout_settle,
        funding_payouts_settle_due,
        live_stream_expire,
        live_streams_expire_due,
    )
    from crowdfunding.models import Contribution, FundingPayout
    from livestreams.clock import EXPIRABLE_STATUSES
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

    # The work per stream: --burst streams expired and --burst paid out as if the clock had
    # jumped 400 days ahead, each in its own transaction as the sweep does; all rolled back.
    later = timezone.now() + timedelta(days=400)
    for label, model_filter, act in (
        (
            "expired",
            {"status__in": EXPIRABLE_STATUSES},
            lambda pk: live_stream_expire(stream_id=pk, now=later),
        ),
        (  # active streams, ended for the measurement (the seed's ended ones are paid)
            "paid out",
            {"status": "active"},
            lambda pk: funding_payout_settle(stream_id=pk, now=later) is not None,
        ),
    ):
        ids = list(
            LiveStream.objects.alive()
            .filter(**model_filter)
            .values_list("pk", flat=True)[: args.burst]
        )
        records = Contribution.objects.filter(stream_id__in=ids, status="completed").count()
        with transaction.atomic():
            LiveStream.objects.filter(pk__in=ids, status="active").update(
                status="ended", ended_at=timezone.now()
            )
            started = time.perf_counter()
            done = 0
            for pk in ids:
                with transaction.atomic():
                    done += bool(act(pk))
            seconds = time.perf_counter() - started
            transaction.set_rollback(True)
        per = seconds * 1000 / done if done else 0
        print(
            f"{label}: {done} streams ({records} contributions) in {seconds:.2f} s, "
            f"{per:.1f} ms per stream"
        )


if __name__ == "__main__":
    main()
