"""`manage.py seed_demo`: a deterministic, realistic demo database (see crowdfunding/seeding/)."""

import os
import sys
import time
from datetime import datetime
from datetime import timezone as dt_timezone

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crowdfunding import seeding
from crowdfunding.seeding import DemoSeeder, Progress, SeedOptions
from users.models import CreditPackage, User
from users.services import access_token_for


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def _not_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


def _callers(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split(",") if part.strip())


def _date(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt_timezone.utc)


class Command(BaseCommand):
    help = (
        "Seed a realistic demo: users with profile photos, streams in every status and type, "
        "guests, broadcasters, replay rentals, contributions (mostly completed, some refunded), "
        "mini crowd fundings with supports, some deleted streams refunded as a deletion "
        "refunds them, and a credit ledger that balances (audit_ledger finds nothing). "
        "Deterministic: the same --seed and --base-date give the same rows, ids included. "
        "Every time is an offset from the anchor, 00:00 UTC of --base-date (default: today), "
        "and scheduled streams start 2 to 60 days after it, so they are in the future for at "
        "least a day after seeding; pass --base-date for rows that repeat across days. "
        "Safe to rerun: existing seed data is kept (and the login printed again) unless --reset "
        "deletes it first. The demo user 'demo' funds --demo-funded scheduled streams and keeps "
        "a spare balance; --callers 1,20,100 adds users caller1, caller20, caller100 funding "
        "exactly that many scheduled streams (each with guests, broadcasters and mini crowd "
        "fundings), for the benchmark. The demo user's and callers' contributions come on top "
        "of --contributions. Progress goes to stderr; -v0 is quiet."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument("--users", type=_positive, default=200, help="Default 200.")
        parser.add_argument("--streams", type=_positive, default=1000, help="Default 1000.")
        parser.add_argument("--contributions", type=_positive, default=5000, help="Default 5000.")
        parser.add_argument(
            "--supports", type=_not_negative, default=None, help="Default: contributions / 10."
        )
        parser.add_argument(
            "--rentals", type=_not_negative, default=None, help="Default: streams / 10."
        )
        parser.add_argument(
            "--demo-funded", type=_not_negative, default=8, help="Streams the demo user funds (8)."
        )
        parser.add_argument(
            "--callers", type=_callers, default=(), help="Benchmark callers, e.g. 1,20,100."
        )
        parser.add_argument(
            "--base-date", type=_date, default=None, help="Anchor day YYYY-MM-DD (default today)."
        )
        parser.add_argument("--batch-size", type=_positive, default=2000, help="Rows per INSERT.")
        parser.add_argument(
            "--reset", action="store_true", help="Delete the existing seed data, then seed."
        )
        parser.add_argument(
            "--url",
            default=f"http://127.0.0.1:{os.environ.get('PORT') or 8000}",
            help="Where the service runs, for the printed commands (default: 127.0.0.1:$PORT).",
        )

    def handle(self, *args, **options):
        verbosity = options["verbosity"]

        def to_stderr(line: str) -> None:
            print(line, file=sys.stderr, flush=True)

        progress = Progress(to_stderr if verbosity >= 1 else None)
        if options["reset"]:
            deleted = seeding.delete_seed_data(progress)
            if verbosity >= 1:
                self.stdout.write(
                    "Deleted seed data: " + ", ".join(f"{k} {v}" for k, v in deleted.items())
                )
        elif seeding.seed_data_present():
            if seeding.demo_user() is None:
                raise CommandError(
                    "Incomplete seed data found (an interrupted run?); rerun with --reset."
                )
            if verbosity >= 1:
                self.stdout.write("Demo data already present; nothing added (use --reset).")
                self._print_login(options["url"])
            return

        seeder = DemoSeeder(
            SeedOptions(
                seed=options["seed"],
                users=options["users"],
                streams=options["streams"],
                contributions=options["contributions"],
                supports=options["supports"],
                rentals=options["rentals"],
                demo_funded=options["demo_funded"],
                callers=options["callers"],
                anchor=options["base_date"],
                batch_size=max(1, options["batch_size"]),
            ),
            progress,
        )
        started = time.monotonic()
        try:
            summary = seeder.run()
        except ValueError as error:
            raise CommandError(str(error)) from error
        seeding.demo_operator(seeding.DEMO_PASSWORD)
        if verbosity >= 1:
            took = time.monotonic() - started
            counts = ", ".join(f"{k} {v:,}" for k, v in summary.counts.items())
            self.stdout.write(self.style.SUCCESS(f"Seeded in {took:.1f}s: {counts}"))
            self._print_login(options["url"])

    def _print_login(self, base_url: str) -> None:
        """The demo login and commands that work as pasted: real tokens, ids and address."""
        user = seeding.demo_user()
        if user is None:
            return
        password = seeding.DEMO_PASSWORD
        api = f"{base_url.rstrip('/')}/api/v1"
        operator = seeding.demo_operator(password)
        lines = [
            "",
            f"Operator login (the admin and its funds overview): {base_url.rstrip('/')}/admin/ "
            f"username {operator.username}, password {password}",
            f"Demo login: username {user.username}, password {password}",
            f"curl -s -X POST {api}/auth/login -H 'Content-Type: application/json' "
            f'-d \'{{"username":"{user.username}","password":"{password}"}}\'',
            "",
            "Ready to paste (tokens valid 1 hour):",
            f"TOKEN={access_token_for(user)}",
            f'curl -s {api}/live-stream/funded -H "Authorization: Bearer $TOKEN"',
        ]
        stream = seeding.stream_to_fund(user)
        if stream is not None:
            creator = stream.creator
            lines += [
                "",
                f"A scheduled stream to fund: {stream.title!r}, created by {creator.username} "
                f"(password {password} too)",
                f"STREAM={stream.pk}",
                f"CREATOR_TOKEN={access_token_for(creator)}",
                f'curl -s -X POST {api}/live-stream/$STREAM/fund -H "Authorization: Bearer '
                f"$TOKEN\" -H 'Content-Type: application/json' -d '{{\"amount\": 50}}'",
                f'curl -s -X POST {api}/live-stream/$STREAM/cancel -H "Authorization: Bearer '
                f'$CREATOR_TOKEN"',
            ]
        lines += self._money_lines(api, user)
        self.stdout.write("\n".join(lines))

    def _money_lines(self, api: str, user: User) -> list[str]:
        """A purchase (when this server allows test purchases) and a transfer, as pasted."""
        package = CreditPackage.objects.filter(is_active=True).order_by("credit_amount").first()
        other = seeding.stream_to_fund(user)
        lines = []
        if package is not None and settings.ALLOW_TEST_PURCHASES:
            lines += [
                "",
                f"Buy {package.credit_amount} credits (test purchases are on for the demo):",
                f'curl -s -X POST {api}/credit-packages/purchase -H "Authorization: Bearer '
                f"$TOKEN\" -H 'Content-Type: application/json' -d '{{\"packageId\": "
                f'"{package.pk}"}}\'',
            ]
        if other is not None:
            lines += [
                "",
                f"Send 5 credits to {other.creator.username}:",
                f'curl -s -X POST {api}/messages/credit-transfer -H "Authorization: Bearer '
                f"$TOKEN\" -H 'Content-Type: application/json' -d '{{\"recipientId\": "
                f'"{other.creator_id}", "amount": 5}}\'',
            ]
        return lines
