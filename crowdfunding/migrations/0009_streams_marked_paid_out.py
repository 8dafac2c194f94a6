"""Streams paid out before `LiveStream.funding_paid_out_at` existed get it from their payout,
so the payout sweep's index (`stream_payout_due_idx`) leaves them out."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def mark_paid_out(apps, schema_editor):
    LiveStream = apps.get_model("livestreams", "LiveStream")
    FundingPayout = apps.get_model("crowdfunding", "FundingPayout")
    paid_at = FundingPayout.objects.filter(stream=OuterRef("pk")).values("paid_at")[:1]
    LiveStream.objects.filter(
        funding_paid_out_at__isnull=True, pk__in=FundingPayout.objects.values("stream_id")
    ).update(funding_paid_out_at=Subquery(paid_at))


class Migration(migrations.Migration):
    dependencies = [
        ("crowdfunding", "0008_funding_payout"),
        ("livestreams", "0011_stream_clock_due_indexes"),
    ]

    operations = [migrations.RunPython(mark_paid_out, migrations.RunPython.noop)]
