"""The queue's own periodic job (CLOCK_JOBS): finished job rows do not pile up for ever."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult


@task()
def job_results_prune() -> int:
    """Delete successful and failed job rows finished over JOB_RESULTS_KEPT_DAYS ago (as
    django-tasks-db's `prune_db_task_results` command does): how many."""
    cutoff = timezone.now() - timedelta(days=settings.JOB_RESULTS_KEPT_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lte=cutoff).delete()
    return deleted
