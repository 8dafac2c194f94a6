"""The original's credit packages (10, 100, 250, 500, 1000, 10000 credits; an Apple and a
Google product each): catalogue data every environment needs before the store webhook can
credit a purchase, so a migration writes it, not the demo seeder. Operators edit it in the
admin afterwards; rerunning changes nothing that exists."""

from django.db import migrations


def seed(apps, schema_editor):
    from users.purchases import credit_packages_seed

    credit_packages_seed(apps.get_model("users", "CreditPackage"))


class Migration(migrations.Migration):

    dependencies = [
        ("users", "0007_credit_packages_store_events_transfers"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
