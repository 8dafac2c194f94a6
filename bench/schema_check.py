"""Cost of the strict response check every API test runs through (tests/schema_check.py).

    .venv/bin/python -m bench.schema_check            # 200 checks of each kind

Times, on this machine: loading the live document once (what the first API test of a session
pays), then one check of each kind of response the suite sees most — a funded list of 20 full
stream objects, a small success, an error envelope, and an unknown URL's 404. Prints
milliseconds per check (median of 5 rounds). No database: the responses are built in memory.
"""

import argparse
import json
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=200)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allmine.settings")
    import django

    django.setup()
    from django.http import HttpResponse
    from django.test.utils import setup_test_environment

    setup_test_environment()
    from tests import schema_check

    started = time.perf_counter()
    schema_check.document()
    print(f"load the document once: {(time.perf_counter() - started) * 1000:.0f} ms")

    stamp = "2026-05-22T16:11:27.028Z"
    media = {
        "_id": "6b0c8f21b733f3a00fa4c8af",
        "url": "https://cdn.allmine.example/p.jpg",
        "type": "image",
        "variants": {"40": "https://cdn.allmine.example/p-40.jpg"},
        "createdAt": stamp,
        "updatedAt": stamp,
    }
    user = {
        "_id": "6b0c8f21b733f3a00fa4c8b0",
        "username": "ayse",
        "name": "Ayşe",
        "surname": "Yılmaz",
        "profilePhoto": media,
        "availabilityStatus": "available",
    }
    stream = {
        "id": "6b0c8f21b733f3a00fa4c8b1", "title": "Akustik akşam", "liveStreamType": "solo",
        "channelName": "akustik-aksam-1a2b",
        "broadcasters": [{"user": user["_id"], "role": "host", "uid": None, "hasJoined": False}],
        "guests": [user], "creator": user, "thumbnailUrl": "https://cdn.allmine.example/t.png",
        "recording": True, "recordingUrl": None,
        "replayAccess": {
            "status": "unavailable", "canRent": False, "canViewRecording": False, "price": None,
            "rentedAt": None, "expiresAt": None, "remainingSeconds": None,
        },
        "status": "scheduled", "accessType": "paid", "price": 9.99, "interest": "music",
        "durationGoal": 60, "motivation": "", "isActiveReplayOnCreatorProfile": None,
        "replayCreditPrice": None, "startedAt": None, "plannedStartDate": stamp, "endedAt": None,
        "plannedEndDate": stamp, "createdAt": stamp, "updatedAt": stamp, "fundingGoal": 1000,
        "collectedFunding": 100, "fundingPercentage": 10, "role": "audience",
        "miniCrowdFundings": [{
            "_id": "6b0c8f21b733f3a00fa4c8b2", "title": "Mikrofon", "goal": 200, "collected": 0,
            "percentage": 0, "status": "active", "createdAt": stamp, "updatedAt": stamp,
        }],
    }  # fmt: skip

    def response(status: int, data=None, errors=(), **headers) -> HttpResponse:
        body = {
            "isSuccess": status < 400,
            "statusCode": status,
            "data": data,
            "errors": list(errors),
            "timestamp": stamp,
        }
        built = HttpResponse(json.dumps(body), status=status, content_type="application/json")
        built["X-Request-ID"] = "bench"
        for name, value in headers.items():
            built[name.replace("_", "-")] = value
        return built

    def meta(method: str, path: str) -> dict:
        return {"REQUEST_METHOD": method, "PATH_INFO": path}

    cases = {
        "funded list, 20 streams": (
            meta("GET", "/api/v1/live-stream/funded"),
            response(200, [stream] * 20, X_Total_Count="20"),
        ),
        "health 200": (
            meta("GET", "/api/v1/health"),
            response(200, {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}),
        ),
        "fund 409": (
            meta("POST", f"/api/v1/live-stream/{stream['id']}/fund"),
            response(409, errors=["Resource already exists", "Insufficient credit balance"]),
        ),
        "unknown URL 404": (
            meta("GET", "/api/v1/nothing"),
            response(404, errors=["Resource not found"]),
        ),
    }
    for name, (request_meta, built) in cases.items():
        rounds = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(args.checks // 5):
                schema_check.check_response(request_meta, built)
            rounds.append((time.perf_counter() - started) * 1000 / (args.checks // 5))
        print(f"{name:<26} {statistics.median(rounds):6.2f} ms per check")


if __name__ == "__main__":
    main()
