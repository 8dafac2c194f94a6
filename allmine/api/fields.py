"""Serializer fields for the wire formats of API.md §1."""

from rest_framework import serializers

from allmine.api.formats import format_datetime


class ApiDateTimeField(serializers.DateTimeField):
    """Read-only datetime as `2026-05-22T16:11:27.028Z`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return format_datetime(value)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer and nothing else: no strings, floats or booleans."""

    default_error_messages = {"invalid": "A valid integer is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)
