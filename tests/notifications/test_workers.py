"""Reminders and push delivery run by real `run_worker` processes (the job queue): each
reminder fires once with several workers sweeping at once, and each notification's push is
sent once per device."""

from datetime import timedelta

import pytest
from django.utils import timezone

from livestreams.models import Reminder
from notifications.models import DeviceToken, Notification, RecordedPush
from tests.livestreams.factories import LiveStreamFactory
from tests.support import wait_for
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SWEEP = {"reminders_sweep": {"task": "livestreams.tasks.reminders_sweep", "every": 0.2}}


def test_three_workers_fire_each_due_reminder_once_and_push_it_once(job_workers):
    soon = timezone.now().replace(microsecond=0) + timedelta(minutes=3)
    stream = LiveStreamFactory(planned_start_date=soon, planned_end_date=soon + timedelta(hours=1))
    later = LiveStreamFactory()  # its reminders are not due: they must stay armed
    users = UserFactory.create_batch(30)
    for n, user in enumerate(users):
        DeviceToken.objects.create(user=user, device_id="phone", token=f"t{n}", platform="ios")
    Reminder.objects.bulk_create(
        [Reminder(user=u, stream=stream, minute=10, lead=timedelta(minutes=10), status="ARMED")
         for u in users]
        + [Reminder(user=u, stream=later, minute=10, lead=timedelta(minutes=10), status="ARMED")
           for u in users[:5]]
    )  # fmt: skip

    job_workers.start(3, clock_jobs=SWEEP, CLOCK_TICK_SECONDS="0.1")
    wait_for(lambda: RecordedPush.objects.count() >= len(users), timeout=60)

    assert Reminder.objects.filter(stream=stream, status="SENT").count() == len(users)
    assert Reminder.objects.filter(stream=later, status="ARMED").count() == 5
    notified = Notification.objects.filter(type="reminder").values_list("user_id", flat=True)
    assert sorted(notified) == sorted(user.pk for user in users)  # each exactly once
    wait_for(lambda: not Notification.objects.filter(pushed_at__isnull=True).exists(), timeout=30)
    pushes = RecordedPush.objects.values_list("token", flat=True)
    assert sorted(pushes) == sorted(f"t{n}" for n in range(len(users)))  # once per device
