"""Writes of the livestreams app."""

import re
import secrets
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction

from allmine.api.errors import InvalidInput
from livestreams.models import LiveStream
from users.models import User

_TURKISH_FOLD = str.maketrans(
    {"ç": "c", "ğ": "g", "ı": "i", "ö": "o", "ş": "s", "ü": "u",
     "Ç": "c", "Ğ": "g", "İ": "i", "I": "i", "Ö": "o", "Ş": "s", "Ü": "u"}
)  # fmt: skip
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def channel_slug(title: str) -> str:
    """`Yeni Ürün Tanıtımı` → `yeni-urun-tanitimi`: Turkish letters folded, the rest ASCII."""
    folded = title.translate(_TURKISH_FOLD)
    ascii_text = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return _NON_ALNUM.sub("-", ascii_text.lower()).strip("-") or "stream"


def channel_name_for(title: str, *, token_hex: Callable[[], str] | None = None) -> str:
    """The slug plus `-` and 4 random hex characters: `yeni-urun-tanitimi-1a2b`."""
    suffix = token_hex() if token_hex else secrets.token_hex(2)
    return f"{channel_slug(title)[:120].rstrip('-')}-{suffix}"


def unique_channel_name(title: str) -> str:
    for _ in range(20):
        name = channel_name_for(title)
        if not LiveStream.objects.filter(channel_name=name).exists():
            return name
    raise RuntimeError("Could not find a free channel name")


@transaction.atomic
def live_stream_create(
    *,
    creator: User,
    title: str,
    interest: str,
    planned_start_date: datetime,
    duration_goal: int,
    live_stream_type: str = LiveStream.Type.SOLO,
    funding_goal: int = 0,
    price: Decimal | None = None,
    motivation: str = "",
    planned_end_date: datetime | None = None,
    **extra,
) -> LiveStream:
    """A new scheduled stream with its channel name; the end defaults to start + duration."""
    if not title or len(title) > 120:
        raise InvalidInput("title: must be 1 to 120 characters")
    stream = LiveStream(
        creator=creator,
        title=title,
        interest=interest,
        planned_start_date=planned_start_date,
        duration_goal=duration_goal,
        planned_end_date=planned_end_date or planned_start_date + timedelta(minutes=duration_goal),
        live_stream_type=live_stream_type,
        funding_goal=funding_goal,
        price=price,
        motivation=motivation,
        channel_name=unique_channel_name(title),
        **extra,
    )
    stream.full_clean(exclude=["channel_name"])
    stream.save()
    return stream
