"""A first set of gift types, so gifts work out of the box (the demo included); operators
manage them in the admin afterwards. Rerunning changes nothing that exists."""

from django.db import migrations

GIFT_TYPES = [("Rose", 1), ("Heart", 5), ("Star", 10), ("Crown", 50), ("Rocket", 100)]


def seed(apps, schema_editor):
    GiftType = apps.get_model("livestreams", "GiftType")
    for name, amount in GIFT_TYPES:
        GiftType.objects.get_or_create(name=name, defaults={"credit_amount": amount})


class Migration(migrations.Migration):

    dependencies = [
        ("livestreams", "0009_gift_types_and_gifts"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
