"""A write answers with the stream as it left it, even when the stream is deleted the moment
the write commits: the answer is read in the write's own transaction, never after its commit
(an answer re-read after commit turned a successful write into a 404)."""

import pytest
from django.db import transaction
from django.utils import timezone

from crowdfunding import services as funding_services
from livestreams import services as stream_services
from livestreams.models import LiveStream
from tests.livestreams.factories import LiveStreamFactory, StreamGuestFactory


def deleted_when_committed(write):
    """`write`, and a delete of its stream that runs as soon as the write's transaction commits
    (what a delete racing right behind the write does)."""

    def wrapped(**kwargs):
        result = write(**kwargs)
        stream_id = getattr(result, "stream", result).pk
        transaction.on_commit(
            lambda: LiveStream.objects.filter(pk=stream_id).update(deleted_at=timezone.now())
        )
        return result

    return wrapped


CASES = {
    # action: (service module, service name, stream status, who acts, HTTP method, body, status)
    "start": (stream_services, "live_stream_start", "scheduled", "creator", "post", None, "active"),
    "end": (stream_services, "live_stream_end", "active", "creator", "post", None, "ended"),
    "join": (stream_services, "live_stream_join", "preparing", "guest", "post", None, "preparing"),
    "update": (
        stream_services, "live_stream_update", "scheduled", "creator", "patch",
        {"title": "Renamed"}, "scheduled",
    ),
    "cancel": (
        funding_services, "live_stream_cancel", "scheduled", "creator", "post", None,
        "cancelled_by_host",
    ),
}  # fmt: skip


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", list(CASES))
def test_a_write_answers_with_what_it_wrote_though_a_delete_follows_its_commit(
    action, client_for, monkeypatch
):
    module, name, status, who, method, body, after = CASES[action]
    stream = LiveStreamFactory(status=status)
    guest = StreamGuestFactory(stream=stream).user
    actor = stream.creator if who == "creator" else guest
    monkeypatch.setattr(module, name, deleted_when_committed(getattr(module, name)))
    url = f"/api/v1/live-stream/{stream.pk}" + ("" if action == "update" else f"/{action}")

    response = getattr(client_for(actor), method)(url, body, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["data"]["id"] == stream.pk
    assert response.json()["data"]["status"] == after
    stream.refresh_from_db()
    assert stream.status == after and stream.deleted_at is not None  # the delete did follow
