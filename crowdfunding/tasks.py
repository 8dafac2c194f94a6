"""Clock-driven jobs of crowdfunding (run by `manage.py run_worker`; see CLOCK_JOBS)."""

from django_tasks import task

from crowdfunding.clock import funding_payouts_settle_due, live_streams_expire_due
from crowdfunding.idempotency import idempotency_records_purge


@task()
def idempotency_keys_purge_job() -> int:
    """Delete Idempotency-Key records older than IDEMPOTENCY_KEY_TTL: how many."""
    deleted, _ = idempotency_records_purge()
    return deleted


@task()
def live_streams_expire_job() -> int:
    """The expiry sweep (`crowdfunding.clock`): streams not started by their deadline expire
    and refund their funders; how many. Safe to run twice or on two workers at once."""
    return live_streams_expire_due()


@task()
def funding_payouts_settle_job() -> int:
    """The payout sweep (`crowdfunding.clock`): ended streams whose delay has passed pay
    their funding out, once; how many."""
    return funding_payouts_settle_due()
