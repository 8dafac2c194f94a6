"""The demo's named things: its user and password, the seeded users' e-mail domain and media,
the benchmark callers' names, the stream the printed commands fund, and the operator login."""

from io import StringIO

from django.core.management import call_command
from django.db.models import Q

from livestreams.models import LiveStream
from users.models import User

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "allmine-demo-2026"
SEED_EMAIL_DOMAIN = "seed.allmine.test"
SEED_MEDIA_PREFIX = "https://cdn.allmine.example/seed/"
CALLER_USERNAME = "caller{n}"  # benchmark callers: `caller20` funds exactly 20 streams
OPERATOR_USERNAME = "operator"


def seed_users() -> Q:
    """Every user the seeder made (demo user, benchmark callers and the crowd)."""
    return Q(email__endswith=f"@{SEED_EMAIL_DOMAIN}")


def seed_data_present() -> bool:
    return User.objects.filter(seed_users()).exists()


def demo_user() -> User | None:
    return User.objects.filter(seed_users(), username=DEMO_USERNAME).first()


def stream_to_fund(user: User) -> LiveStream | None:
    """A scheduled stream `user` has not funded yet, by an active creator: for the demo's
    ready-to-paste fund and cancel commands."""
    return (
        LiveStream.objects.alive()
        .filter(
            status=LiveStream.Status.SCHEDULED, creator__account_status=User.AccountStatus.ACTIVE
        )
        .exclude(creator=user)
        .exclude(contributions__user=user)
        .select_related("creator")
        .order_by("planned_start_date", "id")
        .first()
    )


def demo_operator(password: str) -> User:
    """The demo's admin login: a staff user allowed to refund and cancel with refunds
    (`grant_operator --money`), made once, not a seeded user (`--reset` keeps it)."""
    operator = User.objects.filter(username=OPERATOR_USERNAME).first()
    if operator is None:
        operator = User.objects.create_user(
            OPERATOR_USERNAME, f"{OPERATOR_USERNAME}@admin.allmine.test", password
        )
        call_command("grant_operator", OPERATOR_USERNAME, "--money", stdout=StringIO())
    return operator
