"""Primary + a real streaming standby (see conftest.py): what a client sees while the standby
lags (replay paused), and while it is down.

Rows are written with committed transactions on the primary (transactional_db), then read
through the HTTP API. Whether a GET was served by the standby shows in its data (stale while
replay is paused) or in the queries the standby's connection ran."""

import time
from unittest import mock

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from allmine import db_router
from allmine.jobs.clock import heartbeat
from crowdfunding.models import Contribution
from livestreams.models import LiveStream
from tests.livestreams.factories import LiveStreamFactory
from tests.users.factories import UserFactory
from users.models import User
from users.services import credits_grant, user_logout

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

REPLICA = db_router.REPLICA_ALIAS
FUNDED = "/api/v1/live-stream/funded"
HEALTH = "/api/v1/health"


def fund(client, stream, amount):
    response = client.post(
        f"/api/v1/live-stream/{stream.id}/fund", {"amount": amount}, format="json"
    )
    assert response.status_code == 201, response.json()


def funded(client) -> dict[str, int]:
    """The caller's funded list as {stream id: collected funding}."""
    response = client.get(FUNDED)
    assert response.status_code == 200, response.json()
    return {item["id"]: item["collectedFunding"] for item in response.json()["data"]}


def funder():
    user = UserFactory()
    credits_grant(user=user, amount=1000)
    return user


def reads_on_replica(client, url=FUNDED) -> int:
    """How many queries of this GET read data from the standby (not counting the router's
    probe of its replay position)."""
    with CaptureQueriesContext(connections[REPLICA]) as queries:
        assert client.get(url).status_code == 200
    return sum("pg_last_wal_replay_lsn" not in query["sql"] for query in queries)


@pytest.fixture
def stream():
    return LiveStreamFactory(funding_goal=1000)


class TestReadYourWrites:
    def test_a_funder_sees_their_funding_at_once_others_read_the_lagging_replica(
        self, standby, client_for, stream
    ):
        alice, bob = funder(), funder()
        alice_client, bob_client = client_for(alice), client_for(bob)
        fund(bob_client, stream, 100)
        standby.pause()

        fund(alice_client, stream, 300)

        # The standby has not replayed it...
        assert not Contribution.objects.using(REPLICA).filter(user=alice).exists()
        # ...yet the writer sees it at once, from the primary,
        assert funded(alice_client) == {stream.id: 400}
        # while another user reads the standby: stale, within the allowed lag.
        assert funded(bob_client) == {stream.id: 100}

        standby.resume()
        standby.catch_up()
        assert funded(bob_client) == {stream.id: 400}

    def test_the_writer_returns_to_the_replica_once_it_has_replayed_the_write(
        self, standby, client_for, stream
    ):
        alice = funder()
        alice_client = client_for(alice)
        standby.pause()
        fund(alice_client, stream, 300)
        assert reads_on_replica(alice_client) == 0

        standby.resume()
        standby.catch_up()
        db_router.forget_replica_state()  # else up to DATABASE_REPLICA_CHECK_SECONDS later

        assert reads_on_replica(alice_client) > 0
        assert funded(alice_client) == {stream.id: 300}

    def test_after_a_cancel_the_refunded_funders_no_longer_see_the_stream(
        self, standby, client_for, stream
    ):
        alice, bob = funder(), funder()
        other_stream = LiveStreamFactory()
        fund(client_for(alice), stream, 200)
        fund(client_for(bob), other_stream, 50)
        alice_client, bob_client = client_for(alice), client_for(bob)
        standby.pause()

        response = client_for(stream.creator).post(f"/api/v1/live-stream/{stream.id}/cancel")

        assert response.status_code == 200
        assert LiveStream.objects.using(REPLICA).get(pk=stream.id).status == "scheduled"
        # Alice's refund is a write for her: her list comes from the primary, without it.
        assert funded(alice_client) == {}
        assert alice_client.get(FUNDED).json()["data"] == []
        alice_balance = User.objects.using(REPLICA).get(pk=alice.pk).credit_balance
        assert alice_balance == 800  # the standby still has her money in the stream
        # Bob's data did not change: he keeps reading the standby.
        assert reads_on_replica(bob_client) > 0
        assert funded(bob_client) == {other_stream.id: 50}


class TestAuthenticationReadsThePrimary:
    def test_a_signed_out_token_is_refused_at_once(self, standby, client_for):
        alice = funder()
        old_client = client_for(alice)
        assert funded(old_client) == {}
        standby.pause()

        user_logout(user=alice)  # e.g. signed out on another app server: no pin here

        assert User.objects.using(REPLICA).get(pk=alice.pk).token_version == 0
        response = old_client.get(FUNDED)
        assert response.status_code == 401
        assert response.json()["errors"] == ["Authentication required", "Token has been revoked"]

    def test_logout_through_the_api_then_the_old_token_is_refused(self, standby, client_for):
        alice = funder()
        old_client = client_for(alice)
        standby.pause()

        assert old_client.post("/api/v1/auth/logout").status_code == 200

        assert old_client.get(FUNDED).status_code == 401

    def test_a_suspended_account_is_refused_at_once(self, standby, client_for):
        alice = funder()
        alice_client = client_for(alice)
        assert funded(alice_client) == {}
        standby.pause()

        User.objects.filter(pk=alice.pk).update(account_status=User.AccountStatus.SUSPENDED)

        assert User.objects.using(REPLICA).get(pk=alice.pk).account_status == "active"
        response = alice_client.get(FUNDED)
        assert response.status_code == 403
        assert response.json()["errors"] == ["Insufficient permissions", "Account suspended"]


class TestReplicaFailure:
    def test_reads_fall_back_to_the_primary_and_return_when_it_is_back(
        self, standby, client_for, stream, settings, api_client
    ):
        settings.DATABASE_REPLICA_RETRY_SECONDS = 1
        heartbeat("worker-1", timezone.now())  # a job worker runs: the queue is not what degrades
        bob = funder()
        bob_client = client_for(bob)
        fund(bob_client, stream, 100)
        assert reads_on_replica(bob_client) > 0  # an open connection to the standby

        standby.stop()

        # The first GET finds the standby gone and reads the primary; no error.
        assert funded(bob_client) == {stream.id: 100}
        # The failure is remembered: the next GETs do not try to connect again.
        with mock.patch.object(
            connections[REPLICA], "connect", side_effect=AssertionError("tried the replica")
        ):
            for _ in range(3):
                assert funded(bob_client) == {stream.id: 100}
            health = api_client.get(HEALTH)
        # Health: the service is up, the replica degraded.
        assert health.status_code == 200
        data = health.json()["data"]
        assert data["status"] == "degraded"
        assert data["checks"] == {
            "database": "ok",
            "replica": "unavailable",
            "cache": "ok",
            "queue": "ok",
        }
        assert data["replicaLagSeconds"] is None
        fund(bob_client, stream, 10)  # writes never needed it

        standby.start()
        standby.catch_up()
        time.sleep(1.1)  # DATABASE_REPLICA_RETRY_SECONDS

        assert reads_on_replica(bob_client) > 0
        assert funded(bob_client) == {stream.id: 110}
        health = api_client.get(HEALTH).json()["data"]
        assert health["status"] == "ok"
        assert health["checks"]["replica"] == "ok"
        lag = health["replicaLagSeconds"]  # 0 unless the shared server wrote meanwhile
        assert isinstance(lag, float) and 0 <= lag <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS

    def test_a_replica_beyond_the_lag_limit_is_not_read_and_shows_in_health(
        self, standby, client_for, stream, settings, api_client
    ):
        settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 1
        alice, bob = funder(), funder()
        fund(client_for(bob), stream, 100)
        bob_client = client_for(bob)
        standby.pause()
        fund(client_for(alice), stream, 300)
        time.sleep(1.2)  # the last commit the standby replayed is now older than the limit
        db_router.forget_replica_state()  # and no earlier sample of the primary's position

        # Bob, who wrote nothing, now reads the primary: fresh.
        assert funded(bob_client) == {stream.id: 400}
        assert reads_on_replica(bob_client) == 0
        health = api_client.get(HEALTH)
        assert health.status_code == 200
        data = health.json()["data"]
        assert data["status"] == "degraded"
        assert data["checks"]["replica"] == "lagging"
        assert data["replicaLagSeconds"] > 1

        standby.resume()
        standby.catch_up()
        # Within the limit again (a generous one: other runs may write to the shared server).
        settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 600
        db_router.forget_replica_state()

        assert reads_on_replica(bob_client) > 0
        assert api_client.get(HEALTH).json()["data"]["checks"]["replica"] == "ok"
