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
