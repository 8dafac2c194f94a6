"""The hot lists read their query parameters without a DRF serializer (allmine/api/query.py):
the same values, and the same 400 messages, as the serializer fields they replaced."""

import pytest
from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from allmine.api.query import Choice, Integer, read_query


class _DigitsOnly(serializers.IntegerField):
    """The serializer field the lists used: plain digits only, then DRF's integer checks."""

    def to_internal_value(self, data):
        if not (isinstance(data, str) and data.isascii() and data.isdigit()):
            self.fail("invalid")
        return super().to_internal_value(data)


class Reference(serializers.Serializer):
    limit = _DigitsOnly(min_value=1, max_value=100, required=False, default=10)
    minutes = _DigitsOnly(min_value=0, max_value=5000, required=False, default=1440)
    status = serializers.ChoiceField(choices=["active", "ended"], required=False)
    order = serializers.ChoiceField(choices=["asc", "desc"], required=False, default="desc")


SPEC = {
    "limit": Integer(minimum=1, maximum=100, default=10),
    "minutes": Integer(minimum=0, maximum=5000, default=1440),
    "status": Choice(frozenset({"active", "ended"})),
    "order": Choice(frozenset({"asc", "desc"}), default="desc"),
}
BAD_AND_GOOD = [
    "", "0", "1", "7", "100", "101", "5000", "5001", "-1", "+3", " 3", "3 ", "1.0", "1e3",
    "٣", "²", "abc", "9" * 1001, "a" * 1001, "active", "ended", "asc", "desc", "ACTIVE",
]  # fmt: skip


def _reference(query: str):
    params = QueryDict(query)
    serializer = Reference(data={k: v for k, v in params.items() if k in Reference().fields})
    if serializer.is_valid():
        return dict(serializer.validated_data)
    return {name: [str(m) for m in messages] for name, messages in serializer.errors.items()}


def _ours(query: str):
    try:
        return read_query(QueryDict(query), SPEC)
    except ValidationError as error:
        return {name: [str(m) for m in messages] for name, messages in error.detail.items()}


@pytest.mark.parametrize("value", BAD_AND_GOOD)
@pytest.mark.parametrize("name", list(SPEC))
def test_each_value_reads_as_the_serializer_read_it(name, value):
    query = QueryDict(mutable=True)
    query[name] = value
    assert _ours(query.urlencode()) == _reference(query.urlencode())


def test_defaults_several_errors_in_order_and_the_last_value_of_a_repeated_parameter():
    assert _ours("") == _reference("") == {"limit": 10, "minutes": 1440, "order": "desc"}
    both = "order=up&limit=0&status=x&minutes=z"
    assert list(_ours(both)) == list(_reference(both)) == ["limit", "minutes", "status", "order"]
    assert _ours(both) == _reference(both)
    assert _ours("limit=5&limit=6") == _reference("limit=5&limit=6")
    assert _ours("limit=5&limit=6")["limit"] == 6
