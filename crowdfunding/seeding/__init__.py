"""Deterministic demo data: users, streams in every status and type (some deleted), guests,
broadcasters, replay rentals, contributions, mini crowd fundings with supports, and a balanced
credit ledger.

Used by `manage.py seed_demo` and by the benchmark in `bench/`. `DemoSeeder.plan()` draws
everything from one `random.Random(seed)` into plain records (`UserPlan`, `StreamPlan`,
`FundingPlan`, `RentalPlan`, `LedgerEvent`...; ids included, via `object_id_at`); `write()`
turns them into rows, drawing nothing, and inserts them phase by phase with `bulk_create` in
batches, one transaction per phase. Times are integer microseconds from an anchor (default:
today 00:00 UTC), so the same seed and anchor give the same rows.

The rows are those the services would leave: each user first buys credits (`credit_purchase`,
enough for everything they later spend plus a spare); every contribution, support and rental has
its debit row; a stream that expired, was cancelled or was deleted has refunded every
contribution and support (and a deleted one every rental whose window was still open, as
`crowdfunding.services.live_stream_delete` does); a rental whose window closed before the anchor
is settled as `livestreams.services.replay_revenue_settle` settles it. `balance_after` is the
running balance in ledger order (`created_at`, `id`), and the stored totals
(`User.credit_balance`, `LiveStream.collected_funding`, `MiniCrowdFunding.collected`) are the sums
the ledger and the completed rows give: `crowdfunding.audit.ledger_mismatches()` finds nothing.
Which replays can be rented, for how long and how revenue splits are asked of `livestreams`.

The package by concern: `plans` (the options, what to create, the records), `planner` and
`money` (the drawing), `rows` (the row builders), `writer` (bulk writing and reset) and `demo`
(the demo's named user, password, streams and operator).
"""

from crowdfunding.seeding.demo import (
    CALLER_USERNAME,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    OPERATOR_USERNAME,
    SEED_EMAIL_DOMAIN,
    SEED_MEDIA_PREFIX,
    demo_operator,
    demo_user,
    seed_data_present,
    seed_users,
    stream_to_fund,
)
from crowdfunding.seeding.planner import Planner
from crowdfunding.seeding.plans import SeedOptions, SeedSummary
from crowdfunding.seeding.writer import Progress, delete_seed_data, write


class DemoSeeder(Planner):
    """`plan()` draws everything from the seed into plain records (no database writes, and
    nothing is drawn later); `write()` turns the records into rows and inserts them."""

    def write(self) -> SeedSummary:
        return write(self)

    def run(self) -> SeedSummary:
        self.plan()
        return self.write()


__all__ = [
    "CALLER_USERNAME",
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "OPERATOR_USERNAME",
    "SEED_EMAIL_DOMAIN",
    "SEED_MEDIA_PREFIX",
    "DemoSeeder",
    "Progress",
    "SeedOptions",
    "SeedSummary",
    "delete_seed_data",
    "demo_operator",
    "demo_user",
    "seed_data_present",
    "seed_users",
    "stream_to_fund",
]
