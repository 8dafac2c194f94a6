"""`manage.py demo_env`: the shell variables README's blocks start from (`scripts/demo-env`).

TOKEN: the demo user's access token; STREAM: a scheduled stream the demo user has not funded
yet (so a block that funds, cancels or starts it leaves the next call another one); CREATOR:
its creator's username; CREATOR_TOKEN: the creator's access token. Tokens are signed here, as
seed_demo's are, so no sign-in is spent on the rate limit. Each line is `NAME=value`, quoted
for the shell.
"""

import shlex

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from crowdfunding.seeding import demo_user, stream_to_fund
from users.models import User
from users.services import access_token_for

NO_DEMO = "no demo data here: start scripts/demo in this folder first"


class Command(BaseCommand):
    help = "Print TOKEN, STREAM, CREATOR and CREATOR_TOKEN for the README's blocks (eval them)."

    def handle(self, *args, **options):
        if User._meta.db_table not in connection.introspection.table_names():
            raise CommandError(NO_DEMO)  # a database never migrated
        user = demo_user()
        if user is None:
            raise CommandError(NO_DEMO)
        stream = stream_to_fund(user)
        if stream is None:
            raise CommandError(
                "the demo user has funded every scheduled stream (seed_demo --reset)"
            )
        for name, value in (
            ("TOKEN", access_token_for(user)),
            ("STREAM", stream.pk),
            ("CREATOR", stream.creator.username),
            ("CREATOR_TOKEN", access_token_for(stream.creator)),
        ):
            self.stdout.write(f"{name}={shlex.quote(str(value))}")
