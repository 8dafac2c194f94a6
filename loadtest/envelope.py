"""The envelope rule, as a client checks it: shared by the load test and the abuse suite."""

import json

ENVELOPE_KEYS = ["isSuccess", "statusCode", "data", "errors", "timestamp"]


def envelope_problem(status: int, body: bytes) -> str | None:
    """None if `body` is the envelope for `status`, else what is wrong with it."""
    try:
        doc = json.loads(body)
    except ValueError:
        return "not JSON"
    if not isinstance(doc, dict) or list(doc) != ENVELOPE_KEYS:
        return "not the envelope"
    if doc["statusCode"] != status:
        return f"statusCode {doc['statusCode']} != HTTP {status}"
    if status >= 400 and (doc["isSuccess"] or doc["data"] is not None or not doc["errors"]):
        return "error envelope malformed"
    if status < 400 and (not doc["isSuccess"] or doc["errors"]):
        return "success envelope malformed"
    return None
