import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from allmine.api.errors import InvalidInput
from allmine.ids import new_object_id
from livestreams.models import LiveStream
from livestreams.services import (
    channel_name_for,
    channel_slug,
    live_stream_create,
    live_stream_update,
)
from tests.users.factories import UserFactory


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Yeni ürün tanıtımı", "yeni-urun-tanitimi"),
        ("ÇĞİIÖŞÜ çğıöşü", "cgiiosu-cgiosu"),
        ("  Müzik & Sohbet!! 2026  ", "muzik-sohbet-2026"),
        ("Café déjà vu", "cafe-deja-vu"),
        ("!!!", "stream"),
        ("日本語", "stream"),
    ],
)
def test_channel_slug_folds_turkish_letters(title, slug):
    assert channel_slug(title) == slug


def test_channel_name_adds_four_random_hex_characters():
    names = {channel_name_for("Yeni ürün tanıtımı") for _ in range(50)}

    assert all(re.fullmatch(r"yeni-urun-tanitimi-[0-9a-f]{4}", name) for name in names)
    assert len(names) > 40


def test_channel_name_for_a_long_title_fits_the_column():
    assert len(channel_name_for("a" * 120)) <= 140


def test_object_ids_are_24_hex_and_time_ordered():
    ids = [new_object_id() for _ in range(1000)]

    assert all(re.fullmatch(r"[0-9a-f]{24}", value) for value in ids)
    assert len(set(ids)) == 1000
    assert ids == sorted(ids)


@pytest.mark.django_db
def test_live_stream_create_defaults_the_end_and_makes_a_unique_channel():
    start = timezone.now() + timedelta(days=1)
    stream = live_stream_create(
        creator=UserFactory(),
        title="Yeni ürün tanıtımı",
        interest="music",
        planned_start_date=start,
        duration_goal=45,
    )

    assert stream.planned_end_date == start + timedelta(minutes=45)
    assert stream.status == "scheduled"
    assert re.fullmatch(r"yeni-urun-tanitimi-[0-9a-f]{4}", stream.channel_name)


@pytest.mark.django_db
@pytest.mark.parametrize("title", ["", "x" * 121])
def test_live_stream_create_refuses_bad_titles(title):
    with pytest.raises(InvalidInput) as refused:
        live_stream_create(
            creator=UserFactory(),
            title=title,
            interest="music",
            planned_start_date=timezone.now() + timedelta(days=1),  # only the title is wrong
            duration_goal=30,
        )
    assert refused.value.detail == "title: must be 1 to 120 characters"
    assert not LiveStream.objects.exists()


@pytest.mark.django_db
def test_live_stream_create_and_update_take_only_their_named_fields():
    """Status, money and ownership never change through create or update (HackSoft's
    `model_update`: the editable fields are named)."""
    creator = UserFactory()
    common = {"creator": creator, "title": "T", "interest": "music", "duration_goal": 30}
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(TypeError):
        live_stream_create(**common, planned_start_date=start, status="ended")
    stream = live_stream_create(**common, planned_start_date=start)
    for field in ("status", "collected_funding", "creator", "deleted_at"):
        with pytest.raises(TypeError, match=field):
            live_stream_update(user=creator, stream_id=stream.pk, **{field: None})
    stream.refresh_from_db()
    assert (stream.status, stream.collected_funding, stream.deleted_at) == ("scheduled", 0, None)


def test_a_forked_process_draws_its_own_id_bytes():
    """gunicorn forks its workers: each must have its own random bytes, or two workers could
    make the same id in the same second."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its process bytes and leave at once
        os.write(write_end, new_object_id()[8:18].encode())
        os._exit(0)
    os.close(write_end)
    child_bytes = os.read(read_end, 64).decode()
    os.waitpid(pid, 0)
    os.close(read_end)

    assert len(child_bytes) == 10
    assert child_bytes != new_object_id()[8:18]
