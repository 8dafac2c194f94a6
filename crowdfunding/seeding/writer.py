"""Writing the plan and resetting: `write()` inserts the `Planner`'s rows phase by phase with
`bulk_create` in batches, one transaction per phase, drawing nothing; `delete_seed_data()`
removes everything the seeder made (`seed_demo --reset`); `Progress` prints both on stderr."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Q

from crowdfunding.models import (
    Contribution,
    FundingPayout,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from crowdfunding.seeding import rows
from crowdfunding.seeding.demo import SEED_MEDIA_PREFIX, seed_users
from crowdfunding.seeding.plans import SeedSummary
from livestreams.models import (
    Broadcaster,
    Gift,
    LiveStream,
    ReplayRental,
    ReplayRentalCharge,
    StreamGuest,
)
from users.models import CreditLedgerEntry, CreditTransfer, Media, StoreEvent, User

if TYPE_CHECKING:
    from crowdfunding.seeding.planner import Planner


def _batched(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Progress:
    """Per-phase and per-batch progress lines on stderr (silent when `write` is None)."""

    def __init__(self, write: Callable[[str], None] | None, every_seconds: float = 1.0):
        self.write = write
        self.every = every_seconds
        self.phase = ""
        self.started = 0.0
        self.last = 0.0
        self.seconds: dict[str, float] = {}

    def start(self, phase: str, total: int | None = None) -> None:
        self.phase = phase
        self.started = self.last = time.monotonic()
        if self.write:
            self.write(
                f"[seed] {phase}: {total:,} rows" if total is not None else f"[seed] {phase}"
            )

    def batch(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.write and (now - self.last >= self.every) and done < total:
            self.last = now
            self.write(f"[seed]   {self.phase}: {done:,}/{total:,} ({done * 100 // total}%)")

    def end(self) -> None:
        took = time.monotonic() - self.started
        self.seconds[self.phase] = self.seconds.get(self.phase, 0.0) + took
        if self.write:
            self.write(f"[seed]   {self.phase}: done in {took:.1f}s")


# --- deletion ------------------------------------------------------------------------------


def delete_seed_data(progress: Progress | None = None) -> dict[str, int]:
    """Delete everything the seeder made, children before parents (money rows are PROTECTed),
    and say how many rows of each kind went.

    Also removes rows other users attached to seeded streams (their contributions, supports,
    rentals), since those streams go away. Large tables are deleted with one SQL statement each.
    """
    progress = progress or Progress(None)
    progress.start("delete previous seed data")
    users = User.objects.filter(seed_users()).values("id")
    streams = LiveStream.objects.filter(creator__in=users).values("id")
    minis = MiniCrowdFunding.objects.filter(stream__in=streams).values("id")
    deleted: dict[str, int] = {}

    def raw(label: str, queryset) -> None:
        # `_raw_delete`: one DELETE, no collector loading millions of rows to check PROTECT
        # relations that the previous steps have already emptied.
        deleted[label] = queryset._raw_delete(queryset.db)

    with transaction.atomic():
        raw(
            "funding payouts",
            FundingPayout.objects.filter(Q(stream__in=streams) | Q(guest__in=users)),
        )
        raw(
            "supports",
            MiniCrowdFundingSupport.objects.filter(
                Q(user__in=users) | Q(mini_crowd_funding__in=minis)
            ),
        )
        raw("contributions", Contribution.objects.filter(Q(user__in=users) | Q(stream__in=streams)))
        raw("minis", MiniCrowdFunding.objects.filter(stream__in=streams))
        raw(
            "rental charges",
            ReplayRentalCharge.objects.filter(
                Q(rental__user__in=users) | Q(rental__stream__in=streams)
            ),
        )
        raw("rentals", ReplayRental.objects.filter(Q(user__in=users) | Q(stream__in=streams)))
        gifts = Gift.objects.filter(Q(sender__in=users) | Q(stream__in=streams))
        raw("gifts", gifts)
        raw("store events", StoreEvent.objects.filter(user__in=users))
        raw(
            "credit transfers",
            CreditTransfer.objects.filter(Q(sender__in=users) | Q(recipient__in=users)),
        )
        raw("ledger", CreditLedgerEntry.objects.filter(user__in=users))
        raw("guests", StreamGuest.objects.filter(Q(user__in=users) | Q(stream__in=streams)))
        raw("broadcasters", Broadcaster.objects.filter(Q(user__in=users) | Q(stream__in=streams)))
        raw("streams", LiveStream.objects.filter(creator__in=users))
        # `delete()`'s total also counts the rows it cascaded to (idempotency records,
        # tokens, admin log entries...): users are counted alone, the rest under their names.
        _, by_model = User.objects.filter(seed_users()).delete()
        deleted["users"] = by_model.pop(User._meta.label, 0)
        for label, count in by_model.items():
            if count:
                deleted[label] = count
        raw("media", Media.objects.filter(url__startswith=SEED_MEDIA_PREFIX))
    progress.end()
    return deleted


# --- writing ------------------------------------------------------------------------------


def _write(planner: Planner, label: str, model, instances: Iterable, total: int) -> None:
    planner.progress.start(label, total)
    size = planner.o.batch_size
    if connection.vendor == "sqlite":  # 999 parameters per statement
        size = max(1, 999 // len(model._meta.concrete_fields))
    done = 0
    with transaction.atomic():
        for batch in _batched(instances, size):
            model.objects.bulk_create(batch, batch_size=size)
            done += len(batch)
            planner.progress.batch(done, total)
    planner.progress.end()


def write(planner: Planner) -> SeedSummary:
    """Insert the rows of `planner` (planned) and say how many of each kind."""
    if connection.vendor == "sqlite":
        # This connection only: a 1 GiB page cache, so index pages of million-row tables
        # stay in memory during the bulk inserts instead of being spilled and re-read.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1048576")
    photos = sum(user.photo_id is not None for user in planner.users)
    guests = sum(len(s.guests) for s in planner.streams)
    for label, model, instances, total in (
        ("media", Media, rows.media_rows(planner), photos),
        ("users", User, rows.user_rows(planner), len(planner.users)),
        ("streams", LiveStream, rows.stream_rows(planner), len(planner.streams)),
        ("guests", StreamGuest, rows.guest_rows(planner), guests),
        ("broadcasters", Broadcaster, rows.broadcaster_rows(planner), len(planner.broadcasters)),
        ("mini crowd fundings", MiniCrowdFunding, rows.mini_rows(planner), len(planner.minis)),
        ("credit ledger", CreditLedgerEntry, rows.ledger_rows(planner), len(planner.ledger)),
        ("store events", StoreEvent, rows.store_event_rows(planner), rows.purchase_count(planner)),
        (
            "contributions",
            Contribution,
            rows.contribution_rows(planner),
            len(planner.contributions),
        ),
        (
            "mini supports",
            MiniCrowdFundingSupport,
            rows.support_rows(planner),
            len(planner.supports),
        ),
        ("replay rentals", ReplayRental, rows.rental_rows(planner), len(planner.rentals)),
        (
            "replay rental charges",
            ReplayRentalCharge,
            rows.charge_rows(planner),
            len(planner.rentals),
        ),
        ("funding payouts", FundingPayout, rows.payout_rows(planner), len(planner.payouts)),
    ):
        _write(planner, label, model, instances, total)
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum would give a while later: without them the
        # planner guesses one row per table and picks scans sized for empty tables.
        planner.progress.start("analyze")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        planner.progress.end()
    counts = {
        "users": len(planner.users),
        "streams": len(planner.streams),
        "deleted_streams": sum(s.deleted is not None for s in planner.streams),
        "contributions": len(planner.contributions),
        "mini_crowd_fundings": len(planner.minis),
        "mini_supports": len(planner.supports),
        "ledger_entries": len(planner.ledger),
        "rentals": len(planner.rentals),
        "rental_charges": len(planner.rentals),
        "funding_payouts": len(planner.payouts),
    }
    return SeedSummary(counts=counts, seconds=dict(planner.progress.seconds))
