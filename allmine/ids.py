"""MongoDB-shaped ids: 24 lowercase hex characters, generated on creation, time-ordered.

Layout as a BSON ObjectId: 4 bytes of Unix seconds, 5 random bytes chosen once per process,
3 bytes of a counter that starts at a random value. Ids made later sort after earlier ones
(to the second), so data from the original MongoDB system maps one to one.
"""

import itertools
import os
import random
import re
import threading
import time
from datetime import datetime

from django.db import models

OBJECT_ID_RE = re.compile(r"^[0-9a-f]{24}$")

_lock = threading.Lock()


def _draw_process_state() -> None:
    """The per-process random bytes and counter start. Drawn again in a forked child (gunicorn
    workers), as bson.ObjectId does, so two workers never share them."""
    global _process_random, _counter
    _process_random = os.urandom(5)
    _counter = itertools.count(random.SystemRandom().randrange(0, 0xFFFFFF))


_draw_process_state()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_draw_process_state)


def new_object_id() -> str:
    """A fresh id, unique within this process and, with overwhelming odds, across processes."""
    with _lock:
        count = next(_counter) & 0xFFFFFF
    return f"{int(time.time()):08x}{_process_random.hex()}{count:06x}"


def object_id_at(moment: datetime, rng: random.Random) -> str:
    """A deterministic id for `moment`, drawn from `rng` (used by seeding to be reproducible)."""
    return f"{int(moment.timestamp()):08x}{rng.getrandbits(64):016x}"


def check_object_id(value: object, name: str) -> str:
    """400 naming the parameter unless `value` is a 24-character lowercase hex id."""
    from allmine.api.errors import InvalidInput

    if not is_object_id(value):
        raise InvalidInput(f"{name}: must be a 24-character lowercase hex id")
    return value


def is_object_id(value: object) -> bool:
    return isinstance(value, str) and OBJECT_ID_RE.fullmatch(value) is not None


class ObjectIdField(models.CharField):
    """Primary key field holding a 24-hex ObjectId-shaped string."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault("default", new_object_id)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key, value in (("max_length", 24), ("default", new_object_id), ("editable", False)):
            if kwargs.get(key) == value:
                del kwargs[key]
        return name, path, args, kwargs
