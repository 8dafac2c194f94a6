"""The scenarios, in the order the run takes them (`--only` picks some by name)."""

from collections.abc import Callable

from loadtest.abuse.scenarios.accounts import admin_password_race
from loadtest.abuse.scenarios.clock import clock_race
from loadtest.abuse.scenarios.funding import delete_race, money_race
from loadtest.abuse.scenarios.outages import cache_outage, database_outage
from loadtest.abuse.scenarios.throttles import throttle_bursts
from loadtest.abuse.scenarios.wallet import (
    gift_race,
    purchase_race,
    replay_rental_race,
    transfer_race,
)

SCENARIOS: list[tuple[str, Callable]] = [
    (function.__name__, function)
    for function in (
        money_race,
        replay_rental_race,
        purchase_race,
        transfer_race,
        gift_race,
        delete_race,
        clock_race,
        admin_password_race,
        cache_outage,
        database_outage,
        throttle_bursts,
    )
]
