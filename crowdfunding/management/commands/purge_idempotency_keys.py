from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from crowdfunding.models import IdempotencyRecord


class Command(BaseCommand):
    help = (
        "Delete Idempotency-Key records older than IDEMPOTENCY_KEY_TTL (24 hours). "
        "Run it periodically (e.g. hourly from cron); expired keys are ignored either way."
    )

    def handle(self, *args, **options):
        cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(
            f"Deleted {deleted} idempotency record(s) older than {cutoff:%Y-%m-%d %H:%M} UTC."
        )
