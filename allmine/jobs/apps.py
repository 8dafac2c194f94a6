from django.apps import AppConfig
from django.core import checks


class JobsConfig(AppConfig):
    name = "allmine.jobs"
    label = "jobs"
    verbose_name = "Job queue"

    def ready(self) -> None:
        checks.register(clock_jobs_check)


def clock_jobs_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`manage.py check` (and so scripts/serve-production) refuses a CLOCK_JOBS entry that names
    no task, before any worker starts and fails on it."""
    from allmine.jobs.clock import check_clock_jobs

    try:
        check_clock_jobs()
    except (ImportError, TypeError, ValueError, KeyError) as error:
        return [checks.Error(f"CLOCK_JOBS: {error}", id="jobs.E001")]
    return []
