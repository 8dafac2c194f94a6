"""Moments of a stream's life that apps to the left of livestreams act on, in the same
transaction (sent inside it): `stream_started(stream)` — crowdfunding tells the funders."""

from django.dispatch import Signal

stream_started = Signal()
