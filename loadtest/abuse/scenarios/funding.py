"""Funding races: fund and support under cancels and deletes; everything paid is refunded."""

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable

from loadtest.abuse.data import make_stream, make_user, tag, token_for
from loadtest.abuse.harness import Harness

MONEY_STATUSES = (200, 201, 400, 409, 429)


def money_race(h: Harness) -> None:
    """64 clients fund and support in parallel (overdrafts, idempotent retries, bad amounts)
    while the creators cancel streams under them, each cancel sent twice at once."""
    from crowdfunding.models import Contribution, MiniCrowdFundingSupport
    from livestreams.models import LiveStream

    clients = 64
    rounds = 6 if h.short else 30
    creator = make_user(f"creator-{tag()}")
    canceller = make_user(f"canceller-{tag()}")
    kept = [make_stream(creator, minis=2) for _ in range(3)]
    doomed = [make_stream(canceller, minis=1) for _ in range(2)]
    targets = [(stream.pk, [mini.pk for mini in minis]) for stream, minis in kept + doomed]
    # Balances of 100: the clients try to spend more and must be refused, never overdrawn.
    funders = [make_user(f"funder-{tag()}", credits=100) for _ in range(clients)]
    tokens = [token_for(user) for user in funders]
    canceller_token = token_for(canceller)
    for operation in ("fund", "support", "fund-retry", "bad-amount"):
        h.allow(operation, *MONEY_STATUSES)
    h.allow("cancel", 200, 409)

    def client(index: int) -> Callable[[], None]:
        def run() -> None:
            rng = random.Random(index)
            for _ in range(rounds):
                stream_id, mini_ids = rng.choice(targets)
                action = rng.random()
                amount = rng.randint(1, 30)
                if action < 0.45:
                    h.call(
                        "fund",
                        "POST",
                        f"/api/v1/live-stream/{stream_id}/fund",
                        body={"amount": amount},
                        token=tokens[index],
                    )
                elif action < 0.8:
                    h.call(
                        "support",
                        "POST",
                        f"/api/v1/live-stream/{stream_id}/mini-crowd-fundings/"
                        f"{rng.choice(mini_ids)}/support",
                        body={"amount": amount},
                        token=tokens[index],
                    )
                elif action < 0.95:
                    key = {"Idempotency-Key": uuid.uuid4().hex}
                    first = h.call(
                        "fund-retry",
                        "POST",
                        f"/api/v1/live-stream/{stream_id}/fund",
                        body={"amount": amount},
                        token=tokens[index],
                        headers=key,
                    )
                    again = h.call(
                        "fund-retry",
                        "POST",
                        f"/api/v1/live-stream/{stream_id}/fund",
                        body={"amount": amount},
                        token=tokens[index],
                        headers=key,
                    )
                    if first[0] == 201:
                        h.expect(
                            again[0] == 201 and again[2].get("Idempotent-Replayed") == "true",
                            f"idempotent retry answered {again[0]} instead of the replay",
                        )
                else:
                    h.call(
                        "bad-amount",
                        "POST",
                        f"/api/v1/live-stream/{stream_id}/fund",
                        body={"amount": rng.choice([0, -5, "ten", 10**12, None])},
                        token=tokens[index],
                    )

        return run

    def cancel(stream_id: str) -> Callable[[], None]:
        def run() -> None:
            time.sleep(0.5)
            h.call(
                "cancel", "POST", f"/api/v1/live-stream/{stream_id}/cancel", token=canceller_token
            )

        return run

    jobs = [client(index) for index in range(clients)]
    jobs += [cancel(stream.pk) for stream, _ in doomed for _ in range(2)]
    h.parallel(jobs)

    for stream, _ in doomed:
        stream.refresh_from_db()
        h.expect(stream.status == LiveStream.Status.CANCELLED_BY_HOST, f"{stream.pk} not cancelled")
        h.expect(stream.collected_funding == 0, f"cancelled {stream.pk} still holds credits")
        live = Contribution.objects.filter(stream=stream, status="completed").count()
        live += MiniCrowdFundingSupport.objects.filter(
            mini_crowd_funding__stream=stream, status="completed"
        ).count()
        h.expect(live == 0, f"cancelled {stream.pk} has {live} unrefunded payments")
    cancels = Counter(status for op, status, _ in h.records if op == "cancel")
    h.expect(cancels == {200: 2, 409: 2}, f"each stream cancelled exactly once: {dict(cancels)}")
    for user in funders:
        user.refresh_from_db(fields=["credit_balance"])
        h.expect(user.credit_balance >= 0, f"{user.username} overdrawn: {user.credit_balance}")


def delete_race(h: Harness) -> None:
    """The creator deletes two streams (each delete sent twice at once) while 24 clients fund
    and support the scheduled one and 16 rent the ended one's replay: everything paid is
    refunded in the deleting transaction, whatever slipped in before it."""
    from crowdfunding.models import Contribution, MiniCrowdFundingSupport
    from livestreams.models import LiveStream, ReplayRentalCharge

    creator = make_user(f"creator-{tag()}")
    scheduled, minis = make_stream(creator, minis=1, mini_goal=10**6)
    ended, _ = make_stream(creator, minis=0)
    LiveStream.objects.filter(pk=ended.pk).update(
        status=LiveStream.Status.ENDED,
        recording_url="https://cdn.allmine.example/replay.m3u8",
        is_active_replay_on_creator_profile=True,
        replay_credit_price=5,
    )
    funders = [token_for(make_user(f"funder-{tag()}", credits=1000)) for _ in range(24)]
    renters = [token_for(make_user(f"renter-{tag()}", credits=100)) for _ in range(16)]
    creator_token = token_for(creator)
    for operation in ("fund", "support", "rent"):
        h.allow(operation, 200, 201, 404, 409, 429)
    h.allow("delete", 200, 404)
    fund_path = f"/api/v1/live-stream/{scheduled.pk}/fund"
    support_path = f"/api/v1/live-stream/{scheduled.pk}/mini-crowd-fundings/{minis[0].pk}/support"
    rent_path = f"/api/v1/live-stream/{ended.pk}/replay-rentals"

    def funder(token: str) -> None:
        for n in range(8):
            if n % 2:
                h.call("support", "POST", support_path, body={"amount": 3}, token=token)
            else:
                h.call("fund", "POST", fund_path, body={"amount": 5}, token=token)

    def renter(token: str) -> None:
        for _ in range(3):
            h.call("rent", "POST", rent_path, token=token)
            time.sleep(0.1)

    def delete(stream_id: str) -> None:
        time.sleep(1.0)
        h.call("delete", "DELETE", f"/api/v1/live-stream/{stream_id}", token=creator_token)

    jobs = [lambda t=t: funder(t) for t in funders] + [lambda t=t: renter(t) for t in renters]
    jobs += [lambda s=s: delete(s) for s in (scheduled.pk, ended.pk) for _ in range(2)]
    h.parallel(jobs)

    deletes = Counter(status for op, status, _ in h.records if op == "delete")
    h.expect(deletes[200] == 2, f"each stream deleted exactly once: {dict(deletes)}")
    for stream in (scheduled, ended):
        stream.refresh_from_db()
        h.expect(stream.deleted_at is not None, f"{stream.pk} not deleted")
        h.expect(stream.collected_funding == 0, f"deleted {stream.pk} still holds credits")
    paid = Contribution.objects.filter(stream=scheduled, status="completed").count()
    paid += MiniCrowdFundingSupport.objects.filter(
        mini_crowd_funding__stream=scheduled, status="completed"
    ).count()
    h.expect(paid == 0, f"{paid} payments to the deleted stream not refunded")
    open_charges = ReplayRentalCharge.objects.filter(
        rental__stream=ended, status=ReplayRentalCharge.Status.ACTIVE
    ).count()
    h.expect(open_charges == 0, f"{open_charges} rentals of the deleted stream not refunded")
