"""`manage.py demo_env` (`eval "$(scripts/demo-env)"`): what README's blocks start from works
as they use it, and again on the next paste."""

import shlex
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from tests.crowdfunding.test_seed_demo import seed
from users.models import User
from users.services import credits_grant

pytestmark = pytest.mark.django_db


def demo_env() -> dict[str, str]:
    out = StringIO()
    call_command("demo_env", stdout=out)
    # What the shell's eval would set: NAME=value lines, quoted for the shell.
    return dict(line.split("=", 1) for line in shlex.split(out.getvalue(), posix=True))


def client(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_the_variables_sign_in_and_name_a_stream_to_fund_fresh_on_each_call():
    seed()
    env = demo_env()
    assert set(env) == {"TOKEN", "STREAM", "CREATOR", "CREATOR_TOKEN"}
    demo = client(env["TOKEN"])
    me = demo.get("/api/v1/users/me").json()["data"]
    assert me["username"] == "demo"
    creator = client(env["CREATOR_TOKEN"]).get("/api/v1/users/me").json()["data"]
    assert creator["username"] == env["CREATOR"]
    stream = demo.get(f"/api/v1/live-stream/{env['STREAM']}").json()["data"]
    assert stream["status"] == "scheduled"
    assert stream["creator"]["username"] == env["CREATOR"]

    # The README's fund block, pasted twice: the second paste gets another stream.
    credits_grant(user=User.objects.get(username="demo"), amount=50)
    funded = demo.post(f"/api/v1/live-stream/{env['STREAM']}/fund", {"amount": 5}, format="json")
    assert funded.status_code == 201
    again = demo_env()
    assert again["STREAM"] != env["STREAM"]
    assert demo.post(f"/api/v1/live-stream/{again['STREAM']}/fund", {"amount": 5},
                     format="json").status_code == 201  # fmt: skip


def test_without_demo_data_it_says_to_start_the_demo():
    with pytest.raises(CommandError, match="start scripts/demo"):
        call_command("demo_env", stdout=StringIO())


def test_a_folder_never_migrated_gets_the_same_message_not_a_traceback(monkeypatch):
    from django.db import connection

    seed()  # the data is there: only the tables' absence can make it refuse
    monkeypatch.setattr(connection.introspection, "table_names", lambda *args, **kwargs: [])
    with pytest.raises(CommandError, match="start scripts/demo"):
        call_command("demo_env", stdout=StringIO())
