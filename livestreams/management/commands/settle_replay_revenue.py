"""Pay out replay revenue now. The job queue does it every CLOCK_TICK_SECONDS (CLOCK_JOBS);
this command is for operators."""

from django.core.management.base import BaseCommand

from livestreams.services import replay_revenue_settle


class Command(BaseCommand):
    help = (
        "Settle every replay rental whose 24-hour window has closed: solo 80 % to the creator; "
        "duo 40 % creator, 40 % guest; the platform keeps the rest (shares floored). Each "
        "rental window is settled exactly once, even when runs overlap."
    )

    def handle(self, *args, **options):
        settled = replay_revenue_settle()
        self.stdout.write(f"Settled {settled} replay rental(s).")
