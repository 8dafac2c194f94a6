"""Jobs of the livestreams app (the job-queue contract; periodic ones are in CLOCK_JOBS)."""

from django_tasks import task

from livestreams.reminders import reminders_fire_due


@task()
def reminders_sweep() -> int:
    """Fire the BEFORE_START reminders that are due (see `reminders_fire_due`)."""
    return reminders_fire_due()
