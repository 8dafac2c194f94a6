"""The stream's life in one table, and the pure rules every layer asks (livestreams/rules.py)."""

import pytest

from allmine.api.errors import Conflict
from livestreams.models import LiveStream
from livestreams.rules import (
    TRANSITIONS,
    Action,
    allows,
    mini_status,
    require,
    revenue_split,
    statuses_for,
)

S = LiveStream.Status
ALLOWED = {
    Action.EDIT: {S.SCHEDULED, S.PREPARING},
    Action.START: {S.SCHEDULED, S.PREPARING},
    Action.END: {S.ACTIVE},
    Action.JOIN: {S.PREPARING, S.ACTIVE},
    Action.FUND: {S.SCHEDULED},
    Action.SUPPORT: {S.SCHEDULED},
    Action.ADD_MINI: {S.SCHEDULED},
    Action.CANCEL: {S.SCHEDULED, S.PREPARING},
    Action.DELETE: set(S) - {S.ACTIVE},
    Action.EXPIRE: {S.SCHEDULED, S.PREPARING},
    Action.REMIND: {S.SCHEDULED},
}


def test_every_action_has_one_row_and_every_status_is_a_model_choice():
    assert set(TRANSITIONS) == set(Action)
    assert {value for value, _ in LiveStream._meta.get_field("status").choices} == {
        "active", "ended", "scheduled", "preparing", "expired", "cancelled_by_host",
        "cancelled_by_guest",
    }  # fmt: skip


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("status", list(S))
def test_the_table_allows_each_action_in_exactly_its_statuses(action, status):
    assert allows(action, status) is (status in ALLOWED[action])
    assert statuses_for(action) == tuple(sorted(ALLOWED[action]))


@pytest.mark.parametrize(
    ("action", "status", "to"),
    [
        (Action.START, S.PREPARING, S.ACTIVE),
        (Action.END, S.ACTIVE, S.ENDED),
        (Action.CANCEL, S.SCHEDULED, S.CANCELLED_BY_HOST),
        (Action.EXPIRE, S.PREPARING, S.EXPIRED),
        (Action.FUND, S.SCHEDULED, None),
    ],
)
def test_require_answers_where_the_action_leads(action, status, to):
    assert require(action, status) == to


@pytest.mark.parametrize(
    ("action", "status", "message"),
    [
        (Action.EDIT, S.ENDED, "Live stream is ended, it cannot be changed"),
        (Action.FUND, S.ENDED, "Live stream is ended, only scheduled streams can be funded"),
        (Action.DELETE, S.ACTIVE, "Live stream is active, it cannot be deleted"),
        (Action.CANCEL, S.EXPIRED, "Live stream is expired, it cannot be cancelled"),
    ],
)
def test_require_refuses_with_a_409_naming_the_status(action, status, message):
    with pytest.raises(Conflict) as refused:
        require(action, status)
    assert refused.value.detail == message


@pytest.mark.parametrize(
    ("status", "collected", "goal", "after"),
    [
        ("active", 99, 100, "active"),
        ("active", 100, 100, "completed"),
        ("active", 150, 100, "completed"),
        ("completed", 10, 100, "completed"),
        ("cancelled", 100, 100, "cancelled"),
    ],
)
def test_mini_status(status, collected, goal, after):
    assert mini_status(status=status, collected=collected, goal=goal) == after


@pytest.mark.parametrize(
    ("price", "kind", "has_guest", "shares"),
    [
        (50, "solo", False, (40, 0)),
        (99, "solo", False, (79, 0)),  # 79.2 floored; the platform keeps 20
        (1, "solo", False, (0, 0)),
        (50, "duocrowd", True, (20, 20)),
        (99, "duoself", True, (39, 39)),  # 39.6 each, floored; the platform keeps 21
        (99, "duoself", False, (39, 0)),
    ],
)
def test_revenue_split(price, kind, has_guest, shares):
    assert revenue_split(price=price, live_stream_type=kind, has_guest=has_guest) == shares
