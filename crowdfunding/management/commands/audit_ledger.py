from django.core.management.base import BaseCommand, CommandError

from crowdfunding.audit import ledger_mismatches


class Command(BaseCommand):
    help = (
        "Check that every credit balance, collected total and contribution agrees with the "
        "credit ledger. Prints each mismatch and exits with status 1 if there is any."
    )

    def handle(self, *args, **options):
        count = 0
        for mismatch in ledger_mismatches():
            count += 1
            self.stderr.write(f"MISMATCH {mismatch}")
        if count:
            raise CommandError(f"Ledger audit failed: {count} mismatch(es).")
        self.stdout.write(self.style.SUCCESS("Ledger audit clean: every total matches the ledger."))
