"""Latency and query count of the operator's admin pages on a seeded database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python manage.py seed_demo --users 2000 --streams 5000 \\
        --contributions 100000
    DATABASE_URL=... .venv/bin/python -m bench.admin_pages [--repeat 5]

Each page is requested through the full Django stack with the test client, signed in as a
superuser `bench_admin` (created if missing); one warm-up, then --repeat timed requests.
Prints the median and max latency, the queries per request and the row counts.
"""

import argparse
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allmine.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crowdfunding.models import Contribution
    from livestreams.models import LiveStream
    from users.models import CreditLedgerEntry, User

    admin = User.objects.filter(username="bench_admin").first() or User.objects.create_superuser(
        "bench_admin", "bench@allmine.test", "bench-admin-password"
    )
    client = Client()
    client.force_login(admin)
    stream = LiveStream.objects.filter(contributions__isnull=False).order_by("pk").first()
    funder = Contribution.objects.order_by("pk").values_list("user__username", flat=True).first()
    pages = [
        ("contributions", "get", "/admin/crowdfunding/contribution/", None),
        ("contributions ?q=user", "get", "/admin/crowdfunding/contribution/", {"q": funder}),
        ("ledger", "get", "/admin/users/creditledgerentry/", None),
        ("ledger ?q=stream title", "get", "/admin/users/creditledgerentry/", {"q": stream.title}),
        ("ledger ?q=stream id", "get", "/admin/users/creditledgerentry/", {"q": stream.pk}),
        ("ledger ?stream_id=", "get", "/admin/users/creditledgerentry/", {"stream_id": stream.pk}),
        (
            "ledger refunds since 2 weeks",
            "get",
            "/admin/users/creditledgerentry/",
            {"type__exact": "stream_funding_refund", "created_at__date__gte": "2000-01-01"},
        ),
        ("supports", "get", "/admin/crowdfunding/minicrowdfundingsupport/", None),
        ("rentals", "get", "/admin/livestreams/replayrental/", None),
        ("rental charges", "get", "/admin/livestreams/replayrentalcharge/", None),
        ("stream page", "get", f"/admin/livestreams/livestream/{stream.pk}/change/", None),
        (
            "overview (audit cached)",
            "get",
            "/admin/crowdfunding/contribution/funds-overview/",
            None,
        ),
        (
            "overview (audit rerun)",
            "post",
            "/admin/crowdfunding/contribution/funds-overview/",
            {"rerun_audit": "1"},
        ),
    ]
    print(
        f"{connection.vendor}: {CreditLedgerEntry.objects.count()} ledger rows, "
        f"{Contribution.objects.count()} contributions, {LiveStream.objects.count()} streams"
    )
    print(f"{'page':32} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    for name, method, url, data in pages:
        getattr(client, method)(url, data)
        times = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = getattr(client, method)(url, data)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.status_code)
        print(
            f"{name:32} {statistics.median(times):10.1f} {max(times):8.1f} "
            f"{len(queries.captured_queries):8d}"
        )


if __name__ == "__main__":
    main()
