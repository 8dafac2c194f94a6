"""Admin for live streams, guests, broadcasters and replay rentals."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from livestreams.models import LiveStream, ReplayRental
from tests.livestreams.factories import (
    BroadcasterFactory,
    LiveStreamFactory,
    ReplayRentalFactory,
    StreamGuestFactory,
)
from tests.support import queries_for
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db


def _assert_constant_queries(client, url, make_one, django_assert_num_queries) -> str:
    """With one row already made: the changelist costs as many queries with 20 rows as with 1.
    Returns the 20-row page."""
    at_one_size = queries_for(client, url)
    for _ in range(19):
        make_one()
    with django_assert_num_queries(at_one_size):
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 20
    return response.content.decode()


def test_stream_changelist_shows_funding_columns_with_constant_queries(
    admin_client, django_assert_num_queries
):
    url = reverse("admin:livestreams_livestream_changelist")
    LiveStreamFactory(title="Canlı konser", creator=UserFactory(username="ayse"), funding_goal=400)
    LiveStream.objects.filter(title="Canlı konser").update(collected_funding=150)

    body = _assert_constant_queries(admin_client, url, LiveStreamFactory, django_assert_num_queries)

    assert "Canlı konser" in body
    assert "ayse" in body
    row = next(line for line in body.splitlines() if "Canlı konser" in line)
    assert '<td class="field-funding_goal">400</td>' in row
    assert '<td class="field-collected_funding">150</td>' in row
    assert '<td class="field-funding_percentage">37</td>' in row  # floor(150 * 100 / 400)


def test_stream_changelist_filters_and_searches(admin_client):
    url = reverse("admin:livestreams_livestream_changelist")
    concert = LiveStreamFactory(
        title="Canlı konser", creator=UserFactory(username="ayse"), interest="music"
    )
    match = LiveStreamFactory(
        title="Derby", interest="sports", status=LiveStream.Status.ENDED, deleted_at=timezone.now()
    )

    def found(params) -> list[str]:
        return [stream.pk for stream in admin_client.get(url, params).context["cl"].result_list]

    assert found({"q": "ayse"}) == [concert.pk]
    assert found({"q": "konser"}) == [concert.pk]
    assert found({"q": concert.channel_name}) == [concert.pk]
    assert found({"status__exact": "ended"}) == [match.pk]
    assert found({"interest__exact": "music"}) == [concert.pk]
    assert found({"live_stream_type__exact": "solo"}) == [concert.pk, match.pk]
    assert found({"deleted_at__isempty": "0"}) == [match.pk]


def test_stream_change_page_shows_inlines_and_read_only_fields(admin_client):
    stream = LiveStreamFactory(title="Canlı konser")
    StreamGuestFactory(stream=stream, user=UserFactory(username="guest_ayse"))
    BroadcasterFactory(stream=stream, user=UserFactory(username="caster_mehmet"), uid=4242)

    response = admin_client.get(reverse("admin:livestreams_livestream_change", args=[stream.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert stream.channel_name in body
    assert "guest_ayse" in body
    assert "4242" in body
    readonly = set(response.context["adminform"].readonly_fields)
    assert {"collected_funding", "channel_name"} <= readonly
    assert 'name="collected_funding"' not in body
    assert 'name="channel_name"' not in body
    prefixes = {formset.formset.prefix for formset in response.context["inline_admin_formsets"]}
    assert {"guest_links", "broadcasters"} <= prefixes


def test_stream_add_makes_channel_name_and_ignores_collected_funding(admin_client):
    creator = UserFactory(username="ayse")
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    end = start + timedelta(minutes=60)
    url = reverse("admin:livestreams_livestream_add")
    assert admin_client.get(url).status_code == 200
    data = {
        "creator": creator.pk,
        "title": "Yeni Ürün Tanıtımı",
        "live_stream_type": "solo",
        "status": "scheduled",
        "interest": "technology",
        "duration_goal": 60,
        "funding_goal": 500,
        "collected_funding": 99999,
        "channel_name": "hand-made",
        "planned_start_date_0": start.strftime("%Y-%m-%d"),
        "planned_start_date_1": start.strftime("%H:%M:%S"),
        "planned_end_date_0": end.strftime("%Y-%m-%d"),
        "planned_end_date_1": end.strftime("%H:%M:%S"),
    }
    for prefix in ("guest_links", "broadcasters"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": 0,
                f"{prefix}-INITIAL_FORMS": 0,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    stream = LiveStream.objects.get(title="Yeni Ürün Tanıtımı")
    assert stream.collected_funding == 0
    assert stream.channel_name.startswith("yeni-urun-tanitimi-")
    assert len(stream.channel_name) == len("yeni-urun-tanitimi-") + 4


def test_stream_without_contributions_can_be_deleted(admin_client):
    stream = LiveStreamFactory()
    url = reverse("admin:livestreams_livestream_delete", args=[stream.pk])

    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not LiveStream.objects.filter(pk=stream.pk).exists()


def test_guest_changelist_and_change_page(admin_client, django_assert_num_queries):
    url = reverse("admin:livestreams_streamguest_changelist")
    guest = StreamGuestFactory(user=UserFactory(username="guest_ayse"))

    body = _assert_constant_queries(
        admin_client, url, StreamGuestFactory, django_assert_num_queries
    )

    assert "guest_ayse" in body
    assert guest.stream.title in body
    response = admin_client.get(reverse("admin:livestreams_streamguest_change", args=[guest.pk]))
    assert response.status_code == 200
    assert "guest_ayse" in response.content.decode()


def test_broadcaster_changelist_and_change_page(admin_client, django_assert_num_queries):
    url = reverse("admin:livestreams_broadcaster_changelist")
    broadcaster = BroadcasterFactory(user=UserFactory(username="caster_mehmet"))

    body = _assert_constant_queries(
        admin_client, url, BroadcasterFactory, django_assert_num_queries
    )

    assert "caster_mehmet" in body
    assert admin_client.get(url, {"role__exact": "host"}).context["cl"].result_count == 0
    response = admin_client.get(
        reverse("admin:livestreams_broadcaster_change", args=[broadcaster.pk])
    )
    assert response.status_code == 200
    assert "caster_mehmet" in response.content.decode()


def test_rental_changelist_and_read_only_change_page(admin_client, django_assert_num_queries):
    url = reverse("admin:livestreams_replayrental_changelist")
    rental = ReplayRentalFactory(user=UserFactory(username="viewer_ali"), price=75)

    body = _assert_constant_queries(
        admin_client, url, ReplayRentalFactory, django_assert_num_queries
    )

    assert "viewer_ali" in body
    change_url = reverse("admin:livestreams_replayrental_change", args=[rental.pk])
    response = admin_client.get(change_url)
    assert response.status_code == 200
    assert "viewer_ali" in response.content.decode()
    assert 'name="price"' not in response.content.decode()
    assert admin_client.post(change_url, {"price": 1}).status_code == 403
    assert admin_client.get(reverse("admin:livestreams_replayrental_add")).status_code == 403
    rental.refresh_from_db()
    assert rental.price == 75
    assert ReplayRental.objects.count() == 20


def _paid_charge():
    from livestreams.services import replay_rental_create
    from tests.livestreams.factories import EndedStreamFactory
    from users.services import credits_grant

    renter = UserFactory()
    credits_grant(user=renter, amount=100)
    replay_rental_create(user=renter, stream_id=EndedStreamFactory().id)
    return renter.replay_rentals.get().charges.get()


def test_rental_charges_are_visible_and_read_only(admin_client, django_assert_num_queries):
    from livestreams.models import ReplayRentalCharge

    url = reverse("admin:livestreams_replayrentalcharge_changelist")
    charge = _paid_charge()

    _assert_constant_queries(admin_client, url, _paid_charge, django_assert_num_queries)

    change_url = reverse("admin:livestreams_replayrentalcharge_change", args=[charge.pk])
    assert admin_client.get(change_url).status_code == 200
    assert admin_client.post(change_url, {"price": 1}).status_code == 403
    rental_url = reverse("admin:livestreams_replayrental_change", args=[charge.rental_id])
    assert charge.pk in admin_client.get(rental_url).content.decode()
    assert ReplayRentalCharge.objects.get(pk=charge.pk).price == 50
