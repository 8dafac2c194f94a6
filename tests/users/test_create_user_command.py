"""`manage.py create_user`: accounts for password sign-in, made outside the API."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from users.models import User

pytestmark = pytest.mark.django_db


def test_creates_a_user_who_can_sign_in(api_client):
    out = StringIO()

    call_command("create_user", "ayse", "--password", "s3cret-pass", "--name", "Ayşe", stdout=out)

    user = User.objects.get(username="ayse")
    assert out.getvalue().strip() == user.pk
    assert user.first_name == "Ayşe" and user.credit_balance == 0
    response = api_client.post(
        "/api/v1/auth/login", {"username": "ayse", "password": "s3cret-pass"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["data"]["user"]["_id"] == user.pk


def test_a_taken_or_invalid_username_is_refused():
    call_command("create_user", "ayse", "--password", "x", stdout=StringIO())

    with pytest.raises(CommandError, match="Cannot create 'ayse'"):
        call_command("create_user", "ayse", "--password", "y", stdout=StringIO())
    with pytest.raises(CommandError, match="Cannot create 'bad name!'"):
        call_command("create_user", "bad name!", "--password", "y", stdout=StringIO())
    assert User.objects.count() == 1
