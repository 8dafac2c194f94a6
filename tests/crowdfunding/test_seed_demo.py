"""`manage.py seed_demo`: deterministic, idempotent, and the books balance."""

import json
import re
from datetime import datetime
from datetime import timezone as dt_timezone
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from crowdfunding.audit import ledger_mismatches
from crowdfunding.models import (
    Contribution,
    FundingPayout,
    FundingStatus,
    IdempotencyRecord,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from crowdfunding.seeding import DEMO_PASSWORD, DEMO_USERNAME, SEED_EMAIL_DOMAIN
from crowdfunding.services import live_stream_delete
from livestreams.models import (
    Broadcaster,
    LiveStream,
    ReplayRental,
    ReplayRentalCharge,
    StreamGuest,
)
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry, Media, StoreEvent, User

pytestmark = pytest.mark.django_db

SMALL = {"users": 40, "streams": 80, "contributions": 400, "demo_funded": 5, "verbosity": 0}
SEEDED_MODELS = [
    Media, User, LiveStream, StreamGuest, Broadcaster, ReplayRental, ReplayRentalCharge,
    CreditLedgerEntry,
    Contribution, MiniCrowdFunding, MiniCrowdFundingSupport, FundingPayout,
]  # fmt: skip


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO(), **{**SMALL, **options})
    return out.getvalue()


def snapshot() -> dict[str, list[tuple]]:
    rows = {}
    for model in SEEDED_MODELS:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "last_login"]
        if model is StreamGuest or model is Broadcaster:  # auto-increment ids differ per run
            fields.remove("id")
        rows[model.__name__] = sorted(model.objects.values_list(*fields))
    return rows


def test_the_same_seed_gives_identical_rows():
    base = datetime(2026, 3, 1, tzinfo=dt_timezone.utc)
    seed(seed=7, base_date=base)
    first = snapshot()
    seed(seed=7, base_date=base, reset=True)
    second = snapshot()
    seed(seed=8, base_date=base, reset=True)
    other = snapshot()

    assert first["LiveStream"] and first["Contribution"]
    assert first == second
    assert first["LiveStream"] != other["LiveStream"]


def test_a_second_run_adds_nothing_and_prints_the_login_again():
    seed()
    counts = {model.__name__: model.objects.count() for model in SEEDED_MODELS}

    out = seed(verbosity=1)

    assert {model.__name__: model.objects.count() for model in SEEDED_MODELS} == counts
    assert "already present" in out
    assert f'"password":"{DEMO_PASSWORD}"' in out
    assert "TOKEN=ey" in out


def printed_variables(out: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in out.splitlines() if re.fullmatch(r"[A-Z_]+=\S+", line)
    )


def test_the_printed_commands_work_as_pasted(monkeypatch):
    """The address is where the service runs ($PORT), no placeholders: the tokens and the
    stream id are real, so funding as the demo user and cancelling as the creator work."""
    monkeypatch.setenv("PORT", "8123")
    out = seed(verbosity=1)

    assert "<" not in out and "http://127.0.0.1:8123/api/v1/live-stream/funded" in out
    assert ":8000" not in out
    names = printed_variables(out)
    assert set(names) == {"TOKEN", "STREAM", "CREATOR_TOKEN"}
    viewer, creator = APIClient(), APIClient()
    viewer.credentials(HTTP_AUTHORIZATION=f"Bearer {names['TOKEN']}")
    creator.credentials(HTTP_AUTHORIZATION=f"Bearer {names['CREATOR_TOKEN']}")
    stream = f"/api/v1/live-stream/{names['STREAM']}"

    assert viewer.get("/api/v1/live-stream/funded").status_code == 200
    funded = viewer.post(f"{stream}/fund", {"amount": 50}, format="json")
    assert funded.status_code == 201, funded.json()
    cancelled = creator.post(f"{stream}/cancel")
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["data"]["status"] == "cancelled_by_host"


def test_the_demo_prints_an_operator_login_that_opens_the_funds_overview():
    out = seed(verbosity=1)

    line = next(line for line in out.splitlines() if line.startswith("Operator login"))
    assert line.endswith(f"/admin/ username operator, password {DEMO_PASSWORD}")
    client = Client()
    assert client.login(username="operator", password=DEMO_PASSWORD)
    overview = client.get(reverse("admin:crowdfunding_funds_overview"))
    assert overview.status_code == 200
    assert User.objects.get(username="operator").has_perm("crowdfunding.refund_contribution")
    seed(verbosity=1)  # a second run keeps the one operator
    assert User.objects.filter(username="operator").count() == 1


def test_the_admins_view_site_link_opens_the_api_docs(admin_client):
    page = admin_client.get(reverse("admin:index"))

    assert page.context["site_url"] == "/api/docs/"
    assert admin_client.get("/api/docs/").status_code == 200


@pytest.mark.parametrize("allowed", [True, False])
def test_the_printed_commands_show_a_purchase_when_the_server_allows_one(settings, allowed):
    settings.ALLOW_TEST_PURCHASES = allowed
    out = seed(verbosity=1)
    token = printed_variables(out)["TOKEN"]
    commands = [line for line in out.splitlines() if line.startswith("curl -s -X POST")]
    purchase = [line for line in commands if "/credit-packages/purchase" in line]
    transfer = [line for line in commands if "/messages/credit-transfer" in line]
    assert len(purchase) == (1 if allowed else 0) and len(transfer) == 1
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for line in purchase + transfer:
        path = line.split()[4].removeprefix("http://127.0.0.1:8000")
        body = json.loads(line.split(" -d ", 1)[1].strip("'"))
        response = client.post(path, body, format="json")
        assert response.status_code == 201, response.json()


@pytest.mark.parametrize("option", ["users", "streams", "contributions", "batch_size"])
def test_sizes_must_be_positive(option):
    with pytest.raises(CommandError):
        call_command("seed_demo", f"--{option.replace('_', '-')}=0", stdout=StringIO())


def test_reset_replaces_seed_data_and_keeps_other_users():
    outsider = UserFactory()
    seed(seed=1)
    seed(seed=2, reset=True, streams=50)

    assert User.objects.filter(pk=outsider.pk).exists()
    assert LiveStream.objects.count() == 50
    assert User.objects.filter(username=DEMO_USERNAME).count() == 1


def test_reset_reports_each_kind_of_row_it_deleted():
    seed()
    demo = User.objects.get(username=DEMO_USERNAME)
    IdempotencyRecord.objects.create(
        user=demo, key="k", fingerprint="f", response_status=201, response_data={}
    )
    expected = {
        "users": User.objects.exclude(username="operator").count(),  # the operator stays
        "streams": LiveStream.objects.count(),
        "contributions": Contribution.objects.count(),
        "supports": MiniCrowdFundingSupport.objects.count(),
        "minis": MiniCrowdFunding.objects.count(),
        "rentals": ReplayRental.objects.count(),
        "rental charges": ReplayRentalCharge.objects.count(),
        "funding payouts": FundingPayout.objects.count(),
        "ledger": CreditLedgerEntry.objects.count(),
        "gifts": 0,
        "store events": StoreEvent.objects.count(),
        "credit transfers": 0,
        "guests": StreamGuest.objects.count(),
        "broadcasters": Broadcaster.objects.count(),
        "media": Media.objects.count(),
        "crowdfunding.IdempotencyRecord": 1,
    }

    out = seed(seed=2, reset=True, verbosity=1)

    line = next(line for line in out.splitlines() if line.startswith("Deleted seed data: "))
    reported = dict(
        part.rsplit(" ", 1) for part in line.removeprefix("Deleted seed data: ").split(", ")
    )
    assert {label: int(count) for label, count in reported.items()} == expected


def test_the_books_balance():
    seed(supports=120, rentals=20)

    assert list(ledger_mismatches()) == []
    for user in User.objects.filter(email__endswith=f"@{SEED_EMAIL_DOMAIN}"):
        running = 0
        for entry in user.ledger_entries.order_by("created_at", "id"):
            running += entry.amount
            assert entry.balance_after == running >= 0
    assert User.objects.get(username=DEMO_USERNAME).credit_balance > 0
    for mini in MiniCrowdFunding.objects.exclude(status=MiniCrowdFunding.Status.CANCELLED):
        assert (mini.status == MiniCrowdFunding.Status.COMPLETED) == (mini.collected >= mini.goal)
    refund_statuses = CreditLedgerEntry.objects.filter(type="stream_funding_refund")
    assert set(refund_statuses.values_list("status", flat=True)) == {"refunded"}
    assert not Contribution.objects.filter(user_id=F("stream__creator_id")).exists()
    assert not MiniCrowdFundingSupport.objects.filter(
        user_id=F("mini_crowd_funding__stream__creator_id")
    ).exists()


def test_deleted_streams_are_refunded_as_the_delete_service_leaves_them():
    """Every seeded deletion looks like `live_stream_delete`'s: contributions and supports
    refunded, mini crowd fundings cancelled, nothing collected, rentals whose window was open
    refunded at the deletion; the audit is clean."""
    seed(supports=200, rentals=20)

    deleted = LiveStream.objects.filter(deleted_at__isnull=False)
    assert deleted.exists()
    assert list(ledger_mismatches()) == []
    for stream in deleted:
        assert stream.collected_funding == 0
        assert not stream.contributions.exclude(status=FundingStatus.REFUNDED).exists()
        minis = MiniCrowdFunding.objects.filter(stream=stream)
        assert not minis.exclude(status=MiniCrowdFunding.Status.CANCELLED, collected=0).exists()
        assert (
            not MiniCrowdFundingSupport.objects.filter(mini_crowd_funding__in=minis)
            .exclude(status=FundingStatus.REFUNDED)
            .exists()
        )
        for charge in ReplayRentalCharge.objects.filter(rental__stream=stream):
            if charge.expires_at > stream.deleted_at:
                assert charge.status == ReplayRentalCharge.Status.REFUNDED
                assert charge.refunded_at == stream.deleted_at
                assert charge.rental.status == ReplayRental.Status.REFUNDED
                assert charge.refund_ledger_entry.created_at == stream.deleted_at
    refunded = Contribution.objects.filter(stream__in=deleted, status=FundingStatus.REFUNDED)
    assert refunded.filter(refunded_at__gte=F("stream__deleted_at")).exists()
    assert ReplayRentalCharge.objects.filter(
        rental__stream__in=deleted, status=ReplayRentalCharge.Status.REFUNDED
    ).exists()


def test_every_status_and_type_and_sensible_streams():
    seed()

    assert set(LiveStream.objects.values_list("status", flat=True)) == set(LiveStream.Status)
    assert set(LiveStream.objects.values_list("live_stream_type", flat=True)) == set(
        LiveStream.Type
    )
    assert set(Contribution.objects.values_list("status", flat=True)) == {"completed", "refunded"}
    assert (
        Contribution.objects.filter(status="completed").count()
        > Contribution.objects.filter(status="refunded").count()
    )
    assert not LiveStream.objects.filter(planned_end_date__lt=F("planned_start_date")).exists()
    assert LiveStream.objects.filter(deleted_at__isnull=False).exists()
    cancelled = LiveStream.objects.filter(status="cancelled_by_host")
    assert cancelled.exists()
    assert not cancelled.filter(
        Q(cancelled_by__isnull=True) | Q(cancelled_at__isnull=True) | ~Q(cancelled_by=F("creator"))
    )
    assert not LiveStream.objects.exclude(status="cancelled_by_host").filter(
        Q(cancelled_by__isnull=False) | Q(cancelled_at__isnull=False)
    )
    assert not LiveStream.objects.filter(
        status="scheduled", planned_start_date__lte=timezone.now()
    ).exists()
    assert ReplayRental.objects.exists()
    assert StreamGuest.objects.exists() and Broadcaster.objects.exists()
    photo = User.objects.exclude(profile_photo=None).first().profile_photo
    assert list(photo.variants) == ["40", "76"]
    assert not LiveStream.objects.values("channel_name").annotate(n=Count("id")).filter(n__gt=1)


def test_the_demo_user_sees_their_funded_streams(api_client):
    seed()

    login = api_client.post(
        "/api/v1/auth/login",
        {"username": DEMO_USERNAME, "password": DEMO_PASSWORD},
        format="json",
    )
    assert login.status_code == 200
    token = login.json()["data"]["accessToken"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = api_client.get("/api/v1/live-stream/funded")

    assert response.status_code == 200
    items = response.json()["data"]
    assert len(items) == SMALL["demo_funded"]
    assert all(item["status"] == "scheduled" for item in items)
    assert all(item["guests"] and item["broadcasters"] for item in items)
    assert all(item["miniCrowdFundings"] for item in items)
    assert {item["role"] for item in items} == {"guest", "audience"}


def test_benchmark_callers_fund_exactly_their_number_of_streams():
    seed(callers=(1, 3))

    for n in (1, 3):
        caller = User.objects.get(username=f"caller{n}")
        funded = (
            LiveStream.objects.filter(
                status="scheduled",
                contributions__user=caller,
                contributions__status="completed",
            )
            .distinct()
            .count()
        )
        assert funded == n


def test_seeded_rentals_are_paid_and_the_demo_sees_every_replay_state(api_client, capsys):
    seed(base_date=timezone.now(), rentals=30)

    call_command("audit_ledger")  # raises CommandError on any mismatch
    assert "Ledger audit clean" in capsys.readouterr().out
    assert not ReplayRental.objects.values("user", "stream").annotate(n=Count("id")).filter(n__gt=1)
    assert ReplayRentalCharge.objects.count() == ReplayRental.objects.count()
    assert set(ReplayRentalCharge.objects.values_list("status", flat=True)) == set(
        ReplayRentalCharge.Status
    )
    assert CreditLedgerEntry.objects.filter(type="stream_revenue").exists()
    assert not ReplayRental.objects.filter(
        Q(user_id=F("stream__creator_id")) | Q(stream__guest_links__user_id=F("user_id"))
    ).exists()

    token = api_client.post(
        "/api/v1/auth/login",
        {"username": DEMO_USERNAME, "password": DEMO_PASSWORD},
        format="json",
    ).json()["data"]["accessToken"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    states = {
        api_client.get(f"/api/v1/live-stream/{stream_id}/replay-status").json()["data"][
            "replayAccess"
        ]["status"]
        for stream_id in LiveStream.objects.alive().values_list("id", flat=True)
    }
    assert states == {"owner", "participant", "rented", "expired", "available", "unavailable"}
    rentals = api_client.get("/api/v1/live-stream/my-replay-rentals").json()["data"]["list"]
    assert [rental["status"] for rental in rentals] == ["active", "expired"]


def _deletion_shapes(streams) -> dict[str, set[tuple]]:
    """What a deletion leaves, row kind by row kind, without ids and times."""
    shapes: dict[str, set[tuple]] = {key: set() for key in ("stream", "funding", "mini", "rental")}
    for stream in streams:
        if not FundingPayout.objects.filter(stream=stream).exists():  # else its funding stays
            shapes["stream"].add((stream.collected_funding, stream.deleted_at is not None))
        fundings = [
            *Contribution.objects.filter(stream=stream).select_related("refund_ledger_entry"),
            *MiniCrowdFundingSupport.objects.filter(
                mini_crowd_funding__stream=stream
            ).select_related("refund_ledger_entry"),
        ]
        for funding in fundings:
            refund = funding.refund_ledger_entry
            if refund is None:  # paid out before the deletion: it stays with the streamers
                assert funding.status == FundingStatus.COMPLETED
                assert FundingPayout.objects.filter(stream=stream).exists()
                continue
            shapes["funding"].add(
                (funding.status, refund.type, refund.status, refund.amount == funding.amount)
            )
        for mini in MiniCrowdFunding.objects.filter(stream=stream):
            shapes["mini"].add((mini.status, mini.collected))
        open_charges = ReplayRentalCharge.objects.filter(
            rental__stream=stream, expires_at__gt=stream.deleted_at
        ).select_related("rental", "refund_ledger_entry")
        for charge in open_charges:
            refund = charge.refund_ledger_entry
            shapes["rental"].add(
                (
                    charge.status,
                    charge.rental.status,
                    refund.type,
                    refund.status,
                    refund.amount == charge.price,
                )
                if refund is not None
                else (charge.status, charge.rental.status)
            )
    return shapes


def test_a_seeded_deletion_leaves_what_the_delete_service_leaves():
    seed(base_date=timezone.now(), supports=300, rentals=30)
    seeded = _deletion_shapes(LiveStream.objects.filter(deleted_at__isnull=False))
    # The replay the demo user rents now: contributions, and an open rental to refund.
    demo = User.objects.get(username=DEMO_USERNAME)
    stream = ReplayRental.objects.get(user=demo, expires_at__gt=timezone.now()).stream

    live_stream_delete(user=stream.creator, stream_id=stream.pk)

    stream.refresh_from_db()
    by_service = _deletion_shapes([stream])
    paid_out = FundingPayout.objects.filter(stream=stream).exists()
    assert by_service["rental"] and (by_service["funding"] or paid_out)
    for kind, shapes in by_service.items():
        assert shapes <= seeded[kind], kind
    assert list(ledger_mismatches()) == []


def _clock_shapes(streams) -> dict[str, set[tuple]]:
    """What the clock leaves on expired and paid-out streams, without ids and times: the
    refunds of an expiry and when they happened against the deadline; a payout's split,
    its ledger rows and when it happened against the due time."""
    from livestreams.clock import expiry_deadline, payout_due_at
    from livestreams.rules import revenue_split

    shapes: dict[str, set[tuple]] = {"expired": set(), "refund": set(), "payout": set()}
    for stream in streams:
        if stream.status == LiveStream.Status.EXPIRED:
            deadline = expiry_deadline(stream.planned_start_date)
            shapes["expired"].add((stream.collected_funding, stream.started_at))
            for record in [
                *Contribution.objects.filter(stream=stream),
                *MiniCrowdFundingSupport.objects.filter(mini_crowd_funding__stream=stream),
            ]:
                refund = record.refund_ledger_entry
                shapes["refund"].add(
                    (record.status, refund.type, refund.status, refund.amount == record.amount,
                     record.refunded_at >= deadline, "expired" in refund.description)
                )  # fmt: skip
        for payout in FundingPayout.objects.filter(stream=stream):
            completed = sum(
                r.amount
                for r in [
                    *Contribution.objects.filter(stream=stream, status="completed"),
                    *MiniCrowdFundingSupport.objects.filter(
                        mini_crowd_funding__stream=stream, status="completed"
                    ),
                ]
            )
            split = revenue_split(
                price=payout.total,
                live_stream_type=stream.live_stream_type,
                has_guest=payout.guest_id is not None,
            )
            entries = [
                (e.type, e.status, e.amount, e.stream_id == stream.pk, e.description)
                for e in (payout.creator_revenue_entry, payout.guest_revenue_entry)
                if e is not None
            ]
            shapes["payout"].add(
                (
                    payout.total == completed,
                    (payout.creator_share, payout.guest_share) == split,
                    payout.paid_at >= payout_due_at(stream.ended_at),
                    tuple(
                        (kind, status, amount > 0, linked, description.startswith(
                            f"Funding payout of live stream “{stream.title}” ({stream.pk})"
                        ))
                        for kind, status, amount, linked, description in entries
                    ),
                )
            )  # fmt: skip
    return shapes


def test_seeded_expiries_and_payouts_are_what_the_clock_leaves(settings):
    from datetime import timedelta

    from crowdfunding.clock import funding_payouts_settle_due, live_streams_expire_due

    # Streams that ended in the last 200 days are not paid out yet (about half of them).
    settings.FUNDING_PAYOUT_DELAY = timedelta(days=200)
    seed(supports=200)
    seeded = _clock_shapes(LiveStream.objects.filter(status__in=["expired", "ended"]))
    assert seeded["expired"] and seeded["refund"] and seeded["payout"]
    assert FundingPayout.objects.filter(total__gt=0).exists()
    assert list(ledger_mismatches()) == []
    already = set(FundingPayout.objects.values_list("stream_id", flat=True))

    later = timezone.now() + timedelta(days=200)  # every unstarted stream expires by then
    expired = live_streams_expire_due(now=later)
    paid = funding_payouts_settle_due(now=later)

    assert expired > 0 and paid > 0
    by_clock = _clock_shapes(
        LiveStream.objects.filter(status="expired", updated_at__gt=timezone.now() - timedelta(1))
        | LiveStream.objects.filter(status="ended").exclude(pk__in=already)
    )
    for kind, shapes in by_clock.items():
        assert shapes and shapes <= seeded[kind], kind
    assert list(ledger_mismatches()) == []
