"""Reads of the users app: the user summary as a row."""

from collections.abc import Sequence

import orjson

MEDIA_FIELDS = ("id", "url", "type", "variants", "created_at", "updated_at")
USER_SUMMARY_FIELDS = (
    "id", "username", "first_name", "last_name", "availability_status",
    *(f"profile_photo__{name}" for name in MEDIA_FIELDS),
)  # fmt: skip


def user_summary_row(values: Sequence, start: int = 0) -> dict:
    """A user summary row from the values of `USER_SUMMARY_FIELDS` found in `values` from
    index `start` on, in that order, as a query reads them (`.values_list(...)`, with a
    prefix through a join): `profile_photo` is a media row, or None when the user has none.
    Indexed rather than sliced: it runs for every user of every list."""
    photo = None
    if values[start + 5] is not None:
        variants = values[start + 8]
        photo = {
            "id": values[start + 5],
            "url": values[start + 6],
            "type": values[start + 7],
            # JSON as the database driver reads it (text), or already decoded
            "variants": orjson.loads(variants) if isinstance(variants, str) else variants,
            "created_at": values[start + 9],
            "updated_at": values[start + 10],
        }
    return {
        "id": values[start],
        "username": values[start + 1],
        "first_name": values[start + 2],
        "last_name": values[start + 3],
        "availability_status": values[start + 4],
        "profile_photo": photo,
    }


def user_summary_row_of(user) -> dict:
    """The same row for a `User` instance (the sign-in response)."""
    photo = user.profile_photo
    return user_summary_row(
        [
            user.pk, user.username, user.first_name, user.last_name, user.availability_status,
            *((getattr(photo, name) for name in MEDIA_FIELDS) if photo else [None] * 6),
        ]
    )  # fmt: skip
