from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from users.models import User


class Command(BaseCommand):
    help = (
        "Create a user account that signs in with a password (the API has no sign-up: the "
        "original's OTP sign-up is out of scope). Prints the new user's id."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--name", default="", help="First name.")
        parser.add_argument("--surname", default="", help="Last name.")

    def handle(self, *args, username, password, email, name, surname, **options):
        user = User(username=username, email=email, first_name=name, last_name=surname)
        user.set_password(password)
        try:
            user.full_clean(exclude=["password"])
            user.save()
        except (ValidationError, IntegrityError) as error:
            raise CommandError(f"Cannot create {username!r}: {error}") from error
        self.stdout.write(user.pk)
