"""Reads of the users app: the user summary as a row."""

from collections.abc import Sequence

import orjson

MEDIA_FIELDS = ("id", "url", "type", "variants", "created_at", "updated_at")
USER_SUMMARY_FIELDS = (
    "id", "username", "first_name", "last_name", "availability_status",
    *(f"profile_photo__{name}" for name in MEDIA_FIELDS),
)  # fmt: skip


def user_summary_row(values: Sequence) -> dict:
    """A user summary row from the values of `USER_SUMMARY_FIELDS`, in that order, as a query
    reads them (`.values_list(*USER_SUMMARY_FIELDS)`, or with a prefix through a join):
    `profile_photo` is a media row, or None when the user has none."""
    user_id, username, first_name, last_name, availability, *photo = values
    if photo[0] is not None and isinstance(photo[3], (str, bytes)):  # JSON as the driver reads it
        photo[3] = orjson.loads(photo[3])
    return {
        "id": user_id,
        "username": username,
        "first_name": first_name,
        "last_name": last_name,
        "availability_status": availability,
        "profile_photo": None if photo[0] is None else dict(zip(MEDIA_FIELDS, photo, strict=True)),
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
