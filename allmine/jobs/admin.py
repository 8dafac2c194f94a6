"""Operators' view of the job queue, read-only: every job run (ready, running, failed with its
traceback, successful) with its attempt number, the periodic schedule and the workers.

django-tasks-db's own `DBTaskResult` admin is replaced by one in this project's style (short
date columns, links between a failed attempt and its retry)."""

from django.conf import settings
from django.contrib import admin
from django.utils import timezone
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult, get_date_max

from allmine.admin_mixins import ReadOnlyAdminMixin, admin_link, datetime_column
from allmine.jobs.models import PeriodicJob, WorkerHeartbeat


def attempt_number(result: DBTaskResult) -> int:
    attempt = getattr(result, "attempt", None)  # a first attempt has no JobAttempt row
    return attempt.number if attempt is not None else 1


admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class JobAdmin(ReadOnlyAdminMixin, DBTaskResultAdmin):
    list_display = (
        "task_name",
        "status",
        "attempt_label",
        "enqueued",
        "due",
        "started",
        "finished",
        "error",
        "queue_name",
    )
    list_filter = ("status", "queue_name", "task_path")
    search_fields = ("=id", "task_path", "exception_class_path")
    ordering = ["-enqueued_at"]
    list_per_page = 50

    enqueued = datetime_column("enqueued_at", "enqueued")
    started = datetime_column("started_at", "started")
    finished = datetime_column("finished_at", "finished")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("attempt", "next_attempt")

    @admin.display(description="attempt")
    def attempt_label(self, obj: DBTaskResult) -> str:
        return f"{attempt_number(obj)} of {settings.JOB_MAX_ATTEMPTS}"

    @admin.display(description="due", ordering="run_after")
    def due(self, obj: DBTaskResult) -> str:
        if obj.run_after == get_date_max():
            return "at once"
        return timezone.localtime(obj.run_after).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="error", ordering="exception_class_path")
    def error(self, obj: DBTaskResult) -> str:
        return obj.exception_class_path.rsplit(".", 1)[-1] or "-"

    @admin.display(description="retried as")
    def retried_as(self, obj: DBTaskResult) -> str:
        following = getattr(obj, "next_attempt", None)
        return admin_link(following.result if following else None, "next attempt")

    @admin.display(description="retry of")
    def retry_of(self, obj: DBTaskResult) -> str:
        attempt = getattr(obj, "attempt", None)
        return admin_link(attempt.previous if attempt else None, "previous attempt")

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        fields = super().get_readonly_fields(request, obj)
        position = fields.index("status") + 1
        return [*fields[:position], "attempt_label", "retry_of", "retried_as", *fields[position:]]


@admin.register(PeriodicJob)
class PeriodicJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """CLOCK_JOBS as the workers' clock runs them."""

    list_display = ("name", "task_path", "every", "next_run", "last_enqueued", "last_run")
    fields = list_display
    readonly_fields = list_display

    next_run = datetime_column("next_run_at", "next run")
    last_enqueued = datetime_column("last_enqueued_at", "last enqueued")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("last_result")

    @admin.display(description="every")
    def every(self, obj: PeriodicJob) -> str:
        return f"{obj.every_seconds:g} s"

    @admin.display(description="last run")
    def last_run(self, obj: PeriodicJob) -> str:
        result = obj.last_result
        return admin_link(result, result.status.lower()) if result else "-"


@admin.register(WorkerHeartbeat)
class WorkerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Running `run_worker` processes (a cleanly stopped one removes its row)."""

    list_display = ("worker_id", "hostname", "pid", "started", "last_seen", "alive")
    fields = list_display
    readonly_fields = list_display

    started = datetime_column("started_at", "started")
    last_seen = datetime_column("last_seen_at", "last seen")

    @admin.display(description="alive", boolean=True)
    def alive(self, obj: WorkerHeartbeat) -> bool:
        age = (timezone.now() - obj.last_seen_at).total_seconds()
        return age < settings.JOB_STALE_SECONDS
