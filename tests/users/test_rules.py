"""The rules every app asks of a user and their credits, written once (users/rules.py)."""

import pytest

from allmine.api.errors import Forbidden, InvalidInput
from tests.users.factories import UserFactory
from users.models import User
from users.rules import check_amount, ensure_not_suspended


@pytest.mark.parametrize("amount", [1, 1_000_000])
def test_check_amount_takes_the_bounds(amount):
    assert check_amount(amount) == amount


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "amount: must be an integer from 1 to 1000000"),
        (1_000_001, "amount: must be an integer from 1 to 1000000"),
        (True, "amount: A valid integer is required."),
        (2.0, "amount: A valid integer is required."),
    ],
)
def test_check_amount_refuses_with_one_message(amount, message):
    with pytest.raises(InvalidInput) as refused:
        check_amount(amount)
    assert refused.value.detail == message


@pytest.mark.django_db
def test_a_suspended_account_is_refused_with_403_and_an_active_one_passes():
    ensure_not_suspended(UserFactory())
    with pytest.raises(Forbidden) as refused:
        ensure_not_suspended(UserFactory(account_status=User.AccountStatus.SUSPENDED))
    assert refused.value.detail == "Account suspended"
