"""Jobs of the livestreams app (the job-queue contract; periodic ones are in CLOCK_JOBS)."""

from django_tasks import task

from livestreams.reminders import reminders_fire_due
from livestreams.services import replay_revenue_settle


@task()
def reminders_sweep() -> int:
    """Fire the BEFORE_START reminders that are due (see `reminders_fire_due`)."""
    return reminders_fire_due()


@task()
def replay_revenue_settle_job() -> int:
    """Settle every replay rental whose window has closed (a sweep: safe to run twice)."""
    return replay_revenue_settle()
