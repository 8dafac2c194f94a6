"""`Idempotency-Key` handling for the money endpoints.

The first successful response for a (user, key) is stored in the same transaction as the
money it moved. A retry with the same key and body gets that response back and is charged
nothing; the same key with another method, path or body gets 409. Error responses are not
stored (they charged nothing), so a retried failure runs again.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from allmine.api.errors import Conflict, InvalidInput
from crowdfunding.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _key_from(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidInput(f"{HEADER}: must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    return key


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise Conflict(f"{HEADER} was already used for a different request")
    return Response(
        record.response_data, status=record.response_status, headers={REPLAYED_HEADER: "true"}
    )


def _live_record(user, key: str) -> IdempotencyRecord | None:
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    record = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if record is not None and record.created_at < cutoff:
        record.delete()
        return None
    return record


def idempotent_response(request, perform: Callable[[], tuple[int, dict]]) -> Response:
    """Run `perform` (which returns status and payload) at most once per Idempotency-Key."""
    key = _key_from(request)
    if key is None:
        status_code, data = perform()
        return Response(data, status=status_code)

    fingerprint = _fingerprint(request)
    record = _live_record(request.user, key)
    if record is not None:
        return _replay(record, fingerprint)
    try:
        with transaction.atomic():
            status_code, data = perform()
            IdempotencyRecord.objects.create(
                user=request.user,
                key=key,
                fingerprint=fingerprint,
                response_status=status_code,
                response_data=data,
            )
    except IntegrityError:
        # A parallel request with the same key committed first; ours was rolled back whole.
        record = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if record is None:
            raise
        return _replay(record, fingerprint)
    return Response(data, status=status_code)


def idempotency_records_purge() -> tuple[int, datetime]:
    """Delete the records older than IDEMPOTENCY_KEY_TTL (expired keys are ignored anyway):
    (how many, the cutoff). A periodic job (crowdfunding/tasks.py) and a command run it."""
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted, cutoff
