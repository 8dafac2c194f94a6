"""Clock-driven jobs of crowdfunding (run by `manage.py run_worker`; see CLOCK_JOBS)."""

from django_tasks import task

from crowdfunding.idempotency import idempotency_records_purge


@task()
def idempotency_keys_purge_job() -> int:
    """Delete Idempotency-Key records older than IDEMPOTENCY_KEY_TTL: how many."""
    deleted, _ = idempotency_records_purge()
    return deleted
