from django.core.management.base import BaseCommand, CommandError

from allmine.api.errors import DomainError
from users.selectors import user_by_identifier
from users.services import credits_grant


class Command(BaseCommand):
    help = "Top up a user's credits (one `admin_adjustment` row in the credit ledger)."

    def add_arguments(self, parser):
        parser.add_argument("username", help="Username or e-mail address.")
        parser.add_argument("amount", type=int, help="Credits to add, a positive integer.")
        parser.add_argument("--reason", default="", help="Note stored on the ledger row.")

    def handle(self, *args, username, amount, reason, **options):
        user = user_by_identifier(identifier=username)
        if user is None:
            raise CommandError(
                f"No user {username!r} (an e-mail address must belong to exactly one account)."
            )
        try:
            entry = credits_grant(user=user, amount=amount, description=reason)
        except DomainError as error:
            raise CommandError(error.detail) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Granted {amount} credits to {user.username}; balance {entry.balance_after} "
                f"(ledger entry {entry.pk})."
            )
        )
