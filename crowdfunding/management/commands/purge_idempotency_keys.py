from django.core.management.base import BaseCommand

from crowdfunding.idempotency import idempotency_records_purge


class Command(BaseCommand):
    help = (
        "Delete Idempotency-Key records older than IDEMPOTENCY_KEY_TTL (24 hours). The job "
        "queue does it hourly (CLOCK_JOBS); expired keys are ignored either way."
    )

    def handle(self, *args, **options):
        deleted, cutoff = idempotency_records_purge()
        self.stdout.write(
            f"Deleted {deleted} idempotency record(s) older than {cutoff:%Y-%m-%d %H:%M} UTC."
        )
