"""CompiledQuery runs the queryset's own SQL with new parameters, whatever their number."""

from datetime import timedelta

import pytest
from django.utils import timezone

from allmine.compiled import CompiledQuery
from livestreams.models import LiveStream
from tests.livestreams.factories import LiveStreamFactory

pytestmark = pytest.mark.django_db

BY_IDS = CompiledQuery(
    lambda ids: (
        LiveStream.objects.filter(pk__in=ids)
        .exclude(status=LiveStream.Status.ENDED)
        .order_by("planned_start_date", "id")
        .values_list("id", "title", "planned_start_date", "price", "creator__username")
    ),
    model=LiveStream,
)
BY_CREATOR = CompiledQuery(
    lambda creator_id: (
        LiveStream.objects.filter(creator_id=creator_id)
        .order_by("planned_start_date", "id")
        .values_list("id")
    ),
    model=LiveStream,
    convert=False,
)


def test_rows_equal_the_querysets_for_every_shape_of_parameters():
    start = timezone.now() + timedelta(days=1)
    streams = [
        LiveStreamFactory(planned_start_date=start + timedelta(hours=i), price="9.99")
        for i in range(4)
    ]
    ended = LiveStreamFactory(status=LiveStream.Status.ENDED)  # the constant still applies
    ids = [s.pk for s in streams] + [ended.pk, "0" * 24]

    for chosen in (ids, ids[:1], ids[1:3], list(reversed(ids))):
        expected = list(BY_IDS._build(ids=chosen))
        assert [tuple(row) for row in BY_IDS.rows(ids=chosen)] == expected  # converters too
    assert BY_IDS.rows(ids=[]) == []
    assert BY_IDS.count(ids=ids) == 4
    assert BY_IDS.count(ids=[]) == 0


def test_limit_and_offset_page_through_the_same_sql(django_assert_num_queries):
    creator = LiveStreamFactory().creator
    ordered = [LiveStreamFactory(creator=creator).pk for _ in range(4)]
    ordered = [row[0] for row in BY_CREATOR._build(creator_id=creator.pk)]

    with django_assert_num_queries(3):
        pages = [
            BY_CREATOR.rows(creator_id=creator.pk, offset=offset, limit=2) for offset in (0, 2, 4)
        ]

    assert [[row[0] for row in page] for page in pages] == [ordered[:2], ordered[2:4], ordered[4:]]
    assert BY_CREATOR.count(creator_id=creator.pk) == 5


def test_a_parameter_the_orm_transforms_is_refused():
    numbers = CompiledQuery(
        lambda goal: LiveStream.objects.filter(funding_goal=goal).values_list("id"),
        model=LiveStream,
    )

    with pytest.raises((ValueError, TypeError)):
        numbers.rows(goal="12")
