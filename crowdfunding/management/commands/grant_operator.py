from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from users.models import User

# What an operator reads: the money records, streams and users (the funds overview needs
# view_contribution), and the job queue (failed jobs, the periodic schedule, the workers).
VIEWER_PERMISSIONS = [
    "crowdfunding.view_contribution",
    "crowdfunding.view_minicrowdfunding",
    "crowdfunding.view_minicrowdfundingsupport",
    "livestreams.view_livestream",
    "livestreams.view_replayrental",
    "livestreams.view_replayrentalcharge",
    "livestreams.view_gift",
    "livestreams.view_gifttype",
    "users.view_creditledgerentry",
    "users.view_creditpackage",
    "users.view_credittransfer",
    "users.view_storeevent",
    "users.view_user",
    "django_tasks_database.view_dbtaskresult",
    "jobs.view_periodicjob",
    "jobs.view_workerheartbeat",
]
# What moves money, on top of reading.
MONEY_PERMISSIONS = [
    "crowdfunding.refund_contribution",
    "livestreams.cancel_stream_with_refunds",
    # The catalogues: what a credit package gives, what a gift costs.
    "users.manage_credit_packages",
    "livestreams.manage_gift_types",
]
GROUPS = {
    "Funds viewers": VIEWER_PERMISSIONS,
    "Funds operators": [*VIEWER_PERMISSIONS, *MONEY_PERMISSIONS],
}


def _permission(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


class Command(BaseCommand):
    help = (
        "Make an existing user an admin operator: staff, in the group 'Funds viewers' (read the "
        "money records and the funds overview) or, with --money, 'Funds operators' (also refund "
        "contributions and cancel streams with refunds). Creates or updates both groups."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--money", action="store_true", help="Also refund and cancel with refunds."
        )

    @transaction.atomic
    def handle(self, *args, username: str, money: bool, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r} (create it with createsuperuser?)")
        for name, permissions in GROUPS.items():
            group, _ = Group.objects.get_or_create(name=name)
            group.permissions.set([_permission(permission) for permission in permissions])
        group = Group.objects.get(name="Funds operators" if money else "Funds viewers")
        user.groups.add(group)
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        self.stdout.write(f"{username} is staff in '{group.name}'.")
