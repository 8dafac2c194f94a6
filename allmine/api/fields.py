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


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else: numbers and booleans are not turned into text."""

    default_error_messages = {"not_a_string": "A valid string is required."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictURLField(StrictCharField, serializers.URLField):
    """A JSON string that is a URL."""

    default_error_messages = {"invalid": "Enter a valid URL."}


class StrictBooleanField(serializers.BooleanField):
    """`true` or `false` and nothing else: no "yes", 1 or "true"."""

    default_error_messages = {"invalid": "Must be a JSON boolean."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictDecimalField(serializers.DecimalField):
    """A JSON number (not a string, not a boolean), kept as a Decimal."""

    default_error_messages = {"invalid": "A valid number is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)
