"""What the job queue adds to django-tasks-db's `DBTaskResult` rows (one row per job run)."""

from django.db import models
from django_tasks_db.models import DBTaskResult


class PeriodicJob(models.Model):
    """One row per `CLOCK_JOBS` entry: when the clock next enqueues it. Workers take the row
    with a lock and move `next_run_at` on in the same transaction, so a period's run is
    enqueued once however many workers tick."""

    name = models.CharField(max_length=100, primary_key=True)
    task_path = models.CharField(max_length=200)
    every_seconds = models.FloatField()
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_result = models.ForeignKey(
        DBTaskResult, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "periodic job"

    def __str__(self) -> str:
        return self.name


class WorkerHeartbeat(models.Model):
    """A running `run_worker` process: its clock updates `last_seen_at` every tick, even while
    a long job runs. A RUNNING job whose worker has gone quiet is requeued; health reads it."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = "worker"

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}"


class JobAttempt(models.Model):
    """A retry: `result` is attempt `number` (≥ 2) of the job whose failed attempt is
    `previous` (null once pruned). A first attempt has no row. `previous` is unique, so a failure
    is retried once even when two workers' clocks find it at the same moment."""

    result = models.OneToOneField(
        DBTaskResult, primary_key=True, on_delete=models.CASCADE, related_name="attempt"
    )
    number = models.PositiveIntegerField()
    previous = models.OneToOneField(
        DBTaskResult, null=True, on_delete=models.SET_NULL, related_name="next_attempt"
    )

    class Meta:
        verbose_name = "job attempt"

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.previous_id}"
