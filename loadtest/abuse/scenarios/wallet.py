"""Credits between users: replay rentals, store purchases and refunds, transfers, gifts."""

import uuid
from collections import Counter

from loadtest.abuse.data import WEBHOOK_SECRET, make_stream, make_user, tag, token_for
from loadtest.abuse.harness import Harness


def replay_rental_race(h: Harness) -> None:
    """32 viewers rent one replay, each twice at once (one charge each, the repeat is a free
    200), while 16 viewers who cannot afford it try too."""
    from livestreams.models import LiveStream, ReplayRentalCharge

    price = 7
    creator = make_user(f"creator-{tag()}")
    stream, _ = make_stream(creator, minis=0)
    LiveStream.objects.filter(pk=stream.pk).update(
        status=LiveStream.Status.ENDED,
        recording_url="https://cdn.allmine.example/replay.m3u8",
        is_active_replay_on_creator_profile=True,
        replay_credit_price=price,
    )
    renters = [make_user(f"renter-{tag()}", credits=20) for _ in range(32)]
    poor = [make_user(f"poor-{tag()}", credits=price - 1) for _ in range(16)]
    path = f"/api/v1/live-stream/{stream.pk}/replay-rentals"
    h.allow("rent", 200, 201, 429)
    h.allow("rent-unaffordable", 409, 429)
    rich_tokens = [token_for(user) for user in renters]
    poor_tokens = [token_for(user) for user in poor]
    jobs = [lambda t=t: h.call("rent", "POST", path, token=t) for t in rich_tokens * 2]
    jobs += [lambda t=t: h.call("rent-unaffordable", "POST", path, token=t) for t in poor_tokens]
    h.parallel(jobs)

    rents = Counter(status for op, status, _ in h.records if op == "rent")
    h.expect(rents == {201: 32, 200: 32}, f"one charge and one free repeat each: {dict(rents)}")
    charges = ReplayRentalCharge.objects.filter(rental__stream=stream)
    h.expect(charges.count() == 32, f"{charges.count()} charges for 32 renters")
    for user in renters:
        user.refresh_from_db(fields=["credit_balance"])
        h.expect(user.credit_balance == 20 - price, f"{user.username} charged wrongly")


def purchase_race(h: Harness) -> None:
    """The store webhook under fire: 16 purchases each delivered 4 times at once, deliveries
    with a wrong or no secret, unknown products and users, and refunds (sent twice at once)
    of purchases half of whose buyers have already given the credits away."""
    from users.models import CreditPackage, StoreEvent

    product = f"abuse.credits.{tag()}"
    CreditPackage.objects.create(
        credit_amount=50, revenuecat_product_id=product, store_identifier=product, store_type="web"
    )
    buyers = [make_user(f"buyer-{tag()}") for _ in range(16)]
    friend = make_user(f"friend-{tag()}")
    path = "/api/v1/webhooks/revenuecat"
    auth = {"Authorization": WEBHOOK_SECRET}

    def event(kind: str, user_id: str, transaction: str, **extra) -> dict:
        body = {"id": f"{kind}-{transaction}", "type": kind, "app_user_id": user_id}
        return {"api_version": "1.0", "event": {**body, "product_id": product,
                "transaction_id": transaction, "store": "APP_STORE", **extra}}  # fmt: skip

    h.allow("webhook-purchase", 200)
    h.allow("webhook-bad-secret", 401)
    h.allow("webhook-ignored", 200)
    purchases = {user.pk: event("NON_RENEWING_PURCHASE", user.pk, tag()) for user in buyers}
    jobs = [
        lambda body=body: h.call("webhook-purchase", "POST", path, body=body, headers=auth)
        for body in purchases.values()
        for _ in range(4)
    ]
    jobs += [
        lambda body=body, secret=secret: h.call(
            "webhook-bad-secret", "POST", path, body=body, headers=secret
        )
        for body in list(purchases.values())[:4]
        for secret in ({"Authorization": "wrong"}, {})
    ]
    jobs += [
        lambda body=body: h.call("webhook-ignored", "POST", path, body=body, headers=auth)
        for body in (
            event("NON_RENEWING_PURCHASE", "64d15f9e2e6c8f4d5a123456", tag()),
            {**event("INITIAL_PURCHASE", buyers[0].pk, tag(), product_id="com.unknown")},
            event("RENEWAL", buyers[1].pk, tag()),
        )
    ]
    h.parallel(jobs)
    credited = StoreEvent.objects.filter(user__in=buyers, outcome="credited").count()
    h.expect(credited == 16, f"{credited} purchases credited for 16 events sent 4 times each")
    for user in buyers:
        user.refresh_from_db(fields=["credit_balance"])
        h.expect(user.credit_balance == 50, f"{user.username} has {user.credit_balance}, not 50")

    # Half the buyers give 30 credits away, then every purchase is refunded (twice at once).
    h.allow("give-away", 201)
    h.parallel(
        [
            lambda user=user: h.call(
                "give-away", "POST", "/api/v1/messages/credit-transfer",
                body={"recipientId": friend.pk, "amount": 30}, token=token_for(user),
            )
            for user in buyers[:8]
        ]
    )  # fmt: skip
    h.allow("webhook-refund", 200)
    refunds = [
        event("CANCELLATION", user.pk, purchases[user.pk]["event"]["transaction_id"],
              cancel_reason="CUSTOMER_SUPPORT")
        for user in buyers
    ]  # fmt: skip
    h.parallel(
        [
            lambda body=body: h.call("webhook-refund", "POST", path, body=body, headers=auth)
            for body in refunds * 2
        ]
    )
    outcomes = Counter(
        StoreEvent.objects.filter(user__in=buyers, event_type="CANCELLATION").values_list(
            "outcome", flat=True
        )
    )
    h.expect(outcomes == {"refunded": 8, "refund_short": 8}, f"refund outcomes {dict(outcomes)}")
    for user in buyers:
        user.refresh_from_db(fields=["credit_balance"])
        expected = 20 if user in buyers[:8] else 0
        h.expect(user.credit_balance == expected, f"{user.username}: {user.credit_balance}")


def transfer_race(h: Harness) -> None:
    """64 transfers at once between two users both ways, 32 clients sending around a ring
    (overdrafts, idempotent retries, transfers to oneself, to a suspended user)."""
    from users.models import CreditTransfer, User

    alice, bob = make_user(f"alice-{tag()}", credits=40), make_user(f"bob-{tag()}", credits=40)
    ring = [make_user(f"ring-{tag()}", credits=25) for _ in range(32)]
    banned = make_user(f"banned-{tag()}", account_status=User.AccountStatus.SUSPENDED)
    url = "/api/v1/messages/credit-transfer"
    h.allow("transfer", 201, 409, 429)
    h.allow("transfer-retry", 201, 409, 429)
    h.allow("transfer-refused", 400, 409, 429)
    tokens = {user.pk: token_for(user) for user in (alice, bob)}
    pair = [(alice, bob, 3), (bob, alice, 2)] * 32
    jobs = [
        lambda a=a, b=b, n=n: h.call(
            "transfer", "POST", url, body={"recipientId": b.pk, "amount": n}, token=tokens[a.pk]
        )
        for a, b, n in pair
    ]
    for index, user in enumerate(ring):
        token, after = token_for(user), ring[(index + 1) % len(ring)]
        key = {"Idempotency-Key": uuid.uuid4().hex}
        body = {"recipientId": after.pk, "amount": 10}
        jobs += [
            lambda token=token, body=body, key=key: h.call(
                "transfer-retry", "POST", url, body=body, token=token, headers=key
            )
        ] * 2
        jobs.append(
            lambda token=token, who=(user if index % 2 else banned): h.call(
                "transfer-refused", "POST", url, body={"recipientId": who.pk, "amount": 1},
                token=token,
            )
        )  # fmt: skip
    h.parallel(jobs)
    for user in (alice, bob):
        user.refresh_from_db(fields=["credit_balance"])
    h.expect(alice.credit_balance + bob.credit_balance == 80, "alice and bob's 80 credits")
    ring_total = 0
    for user in ring:
        user.refresh_from_db(fields=["credit_balance"])
        ring_total += user.credit_balance
    h.expect(ring_total == 32 * 25, f"the ring holds {ring_total}, not {32 * 25}")
    sent = CreditTransfer.objects.filter(sender__in=ring).count()
    h.expect(sent == 32, f"{sent} ring transfers for 32 keys sent twice each")


def gift_race(h: Harness) -> None:
    """32 viewers send gifts on a live duo stream while its creator ends it (twice at once):
    every gift lands before the end or is refused, each paid out by the split."""
    from django.utils import timezone

    from livestreams.models import Gift, GiftType, LiveStream, StreamGuest

    creator, guest = make_user(f"creator-{tag()}"), make_user(f"guest-{tag()}")
    stream, _ = make_stream(creator, minis=0)
    LiveStream.objects.filter(pk=stream.pk).update(
        status=LiveStream.Status.ACTIVE, live_stream_type="duocrowd", started_at=timezone.now()
    )
    StreamGuest.objects.create(stream=stream, user=guest)
    gift_type = GiftType.objects.create(name=f"Abuse {tag()}", credit_amount=7)
    viewers = [make_user(f"viewer-{tag()}", credits=30) for _ in range(32)]
    h.allow("gift", 201, 409, 429)
    h.allow("gift-refused", 400, 403, 404, 429)
    h.allow("end", 200, 409)
    body = {"giftTypeId": gift_type.pk, "liveStreamId": stream.pk}
    tokens = [token_for(viewer) for viewer in viewers]
    guest_token, creator_token = token_for(guest), token_for(creator)
    jobs = [
        lambda t=t: h.call("gift", "POST", "/api/v1/gifts/create", body=body, token=t)
        for t in tokens
        for _ in range(5)
    ]
    jobs += [
        lambda: h.call(
            "gift-refused", "POST", "/api/v1/gifts/create", body=body, token=guest_token
        ),
        lambda: h.call(
            "gift-refused", "POST", "/api/v1/gifts/create",
            body={"giftTypeId": "nope", "liveStreamId": stream.pk}, token=tokens[0],
        ),
    ]  # fmt: skip
    jobs += [
        lambda: h.call("end", "POST", f"/api/v1/live-stream/{stream.pk}/end", token=creator_token)
    ] * 2
    h.parallel(jobs)
    stream.refresh_from_db()
    h.expect(stream.status == LiveStream.Status.ENDED, f"stream is {stream.status}")
    late = Gift.objects.filter(stream=stream, created_at__gt=stream.ended_at).count()
    h.expect(late == 0, f"{late} gifts after the stream ended")
    gifts = Gift.objects.filter(stream=stream)
    accepted = sum(1 for op, status, _ in h.records if op == "gift" and status == 201)
    h.expect(gifts.count() == accepted, f"{gifts.count()} gifts for {accepted} 201s")
    for user, share in ((creator, 2), (guest, 2)):  # 7 credits: 40 % floored each
        user.refresh_from_db(fields=["credit_balance"])
        h.expect(user.credit_balance == share * accepted, f"{user.username} paid wrongly")
