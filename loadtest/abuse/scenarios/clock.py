"""The clock under load: real workers expire streams and pay ended ones while clients fund."""

import os
import random
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from loadtest.abuse.data import make_stream, make_user, tag, token_for
from loadtest.abuse.harness import Harness
from loadtest.abuse.processes import start_worker


def clock_race(h: Harness) -> None:
    """The clock under load, run by real workers (`run_worker`, no command): 32 clients fund
    and support three streams whose planned start passes during the run (no grace: funding
    closes and expiry falls due at the same instant) while two workers sweep, and four ended
    streams fall due for their payout; one worker is SIGKILLed just after the deadline and
    another started. Each fund is refused or refunded, never kept on an expired stream; each
    ended stream is paid exactly once, 80 % to its creator."""
    from django.utils import timezone

    from crowdfunding.models import Contribution, FundingPayout, MiniCrowdFundingSupport
    from livestreams.models import LiveStream

    clients = 32
    creator = make_user(f"clock-creator-{tag()}")
    expiring = [make_stream(creator, minis=1, mini_goal=10**6) for _ in range(3)]
    ended = [make_stream(creator, minis=0)[0] for _ in range(4)]
    funders = [make_user(f"clock-funder-{tag()}", credits=1000) for _ in range(clients)]
    tokens = [token_for(user) for user in funders]
    # The ended streams: funded while scheduled (through the API), then ended two days ago.
    for stream in ended:
        for token in tokens[:4]:
            h.call("fund-ended", "POST", f"/api/v1/live-stream/{stream.pk}/fund",
                   body={"amount": 25}, token=token)  # fmt: skip
    ended_at = timezone.now() - timedelta(days=2)
    LiveStream.objects.filter(pk__in=[s.pk for s in ended]).update(
        status=LiveStream.Status.ENDED, started_at=ended_at - timedelta(hours=1), ended_at=ended_at
    )
    start = timezone.now() + timedelta(seconds=2 if h.short else 5)
    LiveStream.objects.filter(pk__in=[s.pk for s, _ in expiring]).update(
        planned_start_date=start, planned_end_date=start + timedelta(hours=1)
    )
    for operation in ("fund", "support"):
        h.allow(operation, 201, 409, 429)
    h.allow("fund-ended", 201)
    log = Path(os.environ.get("ABUSE_OUT", "/tmp/allmine-abuse")) / "workers.log"
    # The payouts fall due at the deadline too: both sweeps run while the clients hammer.
    delay = round((start - ended_at).total_seconds())
    clock = {"STREAM_START_GRACE": "0", "FUNDING_PAYOUT_DELAY": str(delay)}
    workers = [start_worker(log, **clock) for _ in range(2)]
    stop = threading.Event()

    def funder(index: int) -> None:
        rng = random.Random(index)
        while not stop.is_set():
            stream, minis = rng.choice(expiring)
            if rng.random() < 0.6:
                h.call("fund", "POST", f"/api/v1/live-stream/{stream.pk}/fund",
                       body={"amount": rng.randint(1, 9)}, token=tokens[index])  # fmt: skip
            else:
                h.call("support", "POST",
                       f"/api/v1/live-stream/{stream.pk}/mini-crowd-fundings/{minis[0].pk}/support",
                       body={"amount": rng.randint(1, 9)}, token=tokens[index])  # fmt: skip

    def clock_keeper() -> None:
        """Kill a worker just after the deadline, start another, and stop the clients once
        every stream has expired and every payout is made (or after a minute)."""
        time.sleep(max(0.0, (start - timezone.now()).total_seconds()) + 0.2)
        workers[0].kill()
        workers[0].wait(timeout=10)
        workers.append(start_worker(log, **clock))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            expired = LiveStream.objects.filter(
                pk__in=[s.pk for s, _ in expiring], status=LiveStream.Status.EXPIRED
            ).count()
            paid = FundingPayout.objects.filter(stream__in=ended).count()
            if expired == len(expiring) and paid == len(ended):
                break
            time.sleep(0.1)
        time.sleep(0.5)  # the clients keep trying on the expired streams a moment
        stop.set()

    try:
        h.parallel([lambda i=i: funder(i) for i in range(clients)] + [clock_keeper])
    finally:
        stop.set()
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()

    for stream, _ in expiring:
        stream.refresh_from_db()
        h.expect(stream.status == LiveStream.Status.EXPIRED, f"{stream.pk} is {stream.status}")
        h.expect(stream.collected_funding == 0, f"expired {stream.pk} still holds credits")
        kept = Contribution.objects.filter(stream=stream, status="completed").count()
        kept += MiniCrowdFundingSupport.objects.filter(
            mini_crowd_funding__stream=stream, status="completed"
        ).count()
        h.expect(kept == 0, f"expired {stream.pk} kept {kept} payments")
    made = Counter(status for op, status, _ in h.records if op in ("fund", "support"))
    h.expect(made[201] > 0 and made[409] > 0, f"funding never crossed the deadline: {made}")
    for stream in ended:
        payouts = list(FundingPayout.objects.filter(stream=stream))
        h.expect(len(payouts) == 1 and payouts[0].total == 100, f"{stream.pk}: {payouts}")
    creator.refresh_from_db(fields=["credit_balance"])
    h.expect(creator.credit_balance == 4 * 80, f"creator got {creator.credit_balance}, not 320")
