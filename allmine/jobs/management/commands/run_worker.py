"""`manage.py run_worker`: django-tasks-db's `db_worker` (claims READY jobs with
`SELECT ... FOR UPDATE SKIP LOCKED`, runs them, records the result) plus this project's clock
(allmine/jobs/clock.py) in a thread beside it. Run as many as you like, on any hosts.

A CLOCK_JOBS entry that names no task stops it at start (the system check `jobs.E001`).

SIGTERM or Ctrl+C: the job in hand finishes, then the worker exits (a second signal stops it
at once; its job is then requeued by another worker's clock).
"""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands import db_worker

from allmine.jobs import clock

logger = logging.getLogger("allmine.jobs")


class Clock(threading.Thread):
    def __init__(self, worker_id: str):
        super().__init__(name="clock", daemon=True)
        self.worker_id = worker_id
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                close_old_connections()
                try:
                    clock.tick(self.worker_id)
                except Exception:
                    logger.exception(
                        "Clock tick failed; next tick in %s s", settings.CLOCK_TICK_SECONDS
                    )
                    connection.close()
                close_old_connections()
                self.stopped.wait(settings.CLOCK_TICK_SECONDS)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=30)


class Command(db_worker.Command):
    help = (
        "Run a job worker: django-tasks-db's database worker (every queue by default) plus the "
        "clock: periodic jobs (CLOCK_JOBS), retries with back-off, requeue of jobs whose worker "
        "died, a heartbeat for health."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        # Every queue; no autoreload (its parent process would run a second clock).
        parser.set_defaults(queue_name="*", reload=False)

    def handle(self, *args, **options) -> None:
        worker_id = options["worker_id"]
        clock.heartbeat(worker_id, timezone.now())  # alive before it claims any job
        ticker = Clock(worker_id)
        ticker.start()
        try:
            super().handle(*args, **options)
        finally:
            ticker.stop()
            close_old_connections()
            clock.worker_stopped(worker_id)
            logger.info("Worker %s stopped", worker_id)
