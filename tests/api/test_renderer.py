"""The envelope's JSON (`allmine.api.renderers.dumps`, orjson) is byte for byte what DRF's own
JSONRenderer writes, for every kind of value our responses hold and the odd ones it falls back
on the standard encoder for."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from allmine.api.renderers import dumps

VALUES = [
    {"id": "6b143997930c7ff85b313358", "title": "Grüße, 日本語 ✓", "price": 12.5, "n": 3},
    {"nested": [{"a": None, "b": True, "c": False}, [], {}], "empty": ""},
    {"separators": "line\u2028paragraph\u2029end", "quote": '"\\/'},
    # Their UTF-8 starts E2 80, as do these (kept as they are) and E2 alone (€, ✓).
    {"ellipsis": "wait\u2026", "dash": "a\u2014b", "euro": "5\u20ac", "mixed": "\u2026\u2028"},
    {"when": datetime(2026, 5, 22, 16, 11, 27, 28000, tzinfo=timezone.utc)},
    {"amount": Decimal("1.50")},
    {"huge": 2**70, "negative": -(2**64)},
    {1: "an integer key", "2": "a string key"},
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_the_body_is_drfs_byte_for_byte(value):
    assert dumps(value) == JSONRenderer().render(value)


@pytest.mark.parametrize("value", [{1: float("nan")}, {1: [float("-inf")]}])
def test_the_standard_encoders_path_never_writes_what_is_not_json(value):
    """A key that is not a string sends the body to the standard encoder: NaN and infinities
    are refused there, as DRF refuses them, never written as `NaN`. (orjson's own path writes
    them as `null`; no response of ours holds one.)"""
    with pytest.raises(ValueError):
        JSONRenderer().render(value)
    with pytest.raises(ValueError):
        dumps(value)
