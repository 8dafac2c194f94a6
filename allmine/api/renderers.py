"""The renderer that wraps every DRF response in the envelope."""

import json

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from allmine.api.envelope import envelope
from allmine.api.messages import standard_message

# Datetimes go through DRF's encoder (`…Z`, as before). Keys that are not strings go to the
# standard encoder (below), which makes them strings: orjson's OPT_NON_STR_KEYS would double the
# cost of every body for a case no response of ours has.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME
_DRF_DEFAULT = JSONEncoder().default


def dumps(data) -> bytes:
    """Compact UTF-8 JSON, byte for byte what DRF's JSONRenderer writes (U+2028/U+2029
    escaped too), with orjson; anything orjson refuses (an integer beyond 64 bits, a key
    that is not a string, …) goes through the standard encoder instead, which refuses what
    DRF's refuses (a date or UUID as a key, NaN). orjson itself writes NaN and infinities as
    `null` where DRF would refuse them; no response holds one."""
    try:
        body = orjson.dumps(data, default=_DRF_DEFAULT, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError
        # As DRF's renderer (STRICT_JSON): NaN and infinities are refused, never written.
        body = json.dumps(
            data, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
        body = body.encode()
    # U+2028/U+2029 are E2 80 A8/A9 in UTF-8. Searching a large body for one byte is a memchr
    # (microseconds); for the two-byte prefix it is a scan costing a tenth of a millisecond.
    if b"\xe2" in body and b"\xe2\x80" in body:
        body = body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
    return body


class EnvelopeJSONRenderer(JSONRenderer):
    """Wraps `data` in the envelope. Error responses carry a list of messages as their data
    (the exception handler makes it); anything else is replaced by the standard message."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response = renderer_context.get("response")
        status_code = response.status_code if response is not None else 200
        if status_code < 400:
            body = envelope(status_code, data=data)
        else:
            if not (isinstance(data, list) and data and all(isinstance(m, str) for m in data)):
                data = [standard_message(status_code)]
            body = envelope(status_code, errors=data)
        if self.get_indent(accepted_media_type, renderer_context):
            return super().render(body, accepted_media_type, renderer_context)  # pretty-printed
        return dumps(body)
