"""Creation and update times: a bulk insert keeps the times it was given; a save stamps now."""

from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone

from users.models import Media

pytestmark = pytest.mark.django_db

PAST = datetime(2024, 5, 1, 12, tzinfo=dt_timezone.utc)


def test_bulk_insert_keeps_the_given_times_and_a_new_row_defaults_to_now():
    before = timezone.now()
    Media.objects.bulk_create(
        [Media(url="https://x.example/a.png", created_at=PAST, updated_at=PAST)]
    )
    fresh = Media.objects.create(url="https://x.example/b.png")

    kept = Media.objects.get(url="https://x.example/a.png")
    assert (kept.created_at, kept.updated_at) == (PAST, PAST)
    assert fresh.created_at >= before and fresh.updated_at >= before


@pytest.mark.parametrize("update_fields", [None, ["url", "updated_at"]])
def test_saving_an_existing_row_stamps_updated_at_only(update_fields):
    Media.objects.bulk_create(
        [Media(url="https://x.example/a.png", created_at=PAST, updated_at=PAST)]
    )
    media = Media.objects.get()
    before = timezone.now()

    media.url = "https://x.example/c.png"
    media.save(update_fields=update_fields)

    media.refresh_from_db()
    assert media.created_at == PAST
    assert media.updated_at >= before
