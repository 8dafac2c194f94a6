"""A password change revokes the user's tokens and never writes back a balance or a token
version read before it: `credit_balance` belongs to `ledger_post`, `token_version` to
`user_tokens_revoke` (see `User.save`)."""

import ast
import threading
import time
from collections import Counter
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.management.commands.changepassword import Command as ChangePassword
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

import users.models
from crowdfunding.services import contribution_create
from tests.livestreams.factories import LiveStreamFactory
from tests.users.factories import TEST_PASSWORD, UserFactory
from users.models import CreditLedgerEntry, User
from users.services import credits_grant, user_logout
from users.signals import password_changed

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
FUNDED = "/api/v1/live-stream/funded"
NEW_PASSWORD = "a-brand-new-passphrase-41"


def sign_in(user) -> dict:
    response = APIClient().post(
        LOGIN, {"username": user.username, "password": TEST_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    return response.json()["data"]


def assert_revoked(pair: dict) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['accessToken']}")
    response = client.get(FUNDED)
    assert response.status_code == 401
    assert response.json()["errors"] == ["Authentication required", "Token has been revoked"]
    response = APIClient().post(REFRESH, {"refreshToken": pair["refreshToken"]}, format="json")
    assert response.status_code == 401


def admin_password_form(password: str) -> dict:
    return {"usable_password": "true", "password1": password, "password2": password}


def books_balance(user) -> tuple[int, int]:
    """(balance, sum of the user's completed ledger rows)."""
    user.refresh_from_db(fields=["credit_balance"])
    total = CreditLedgerEntry.objects.filter(user=user, status="completed").aggregate(
        s=Sum("amount")
    )["s"]
    return user.credit_balance, total or 0


def credits_arrive_while_hashing(user, amount: int):
    """Patch the hasher so that, while a new password is hashed, `amount` credits are
    granted and the user logs out: what parallel requests do during the admin's slow hash."""
    original = MD5PasswordHasher.encode
    done = []

    def encode(hasher, password, salt):
        if password == NEW_PASSWORD and not done:
            done.append(True)
            credits_grant(user=User.objects.get(pk=user.pk), amount=amount)
            user_logout(user=user)
        return original(hasher, password, salt)

    return mock.patch.object(MD5PasswordHasher, "encode", autospec=True, side_effect=encode)


@pytest.mark.django_db
class TestPasswordChange:
    def test_admin_password_change_revokes_tokens_and_keeps_the_books(self, admin_client):
        user = UserFactory()
        credits_grant(user=user, amount=100)
        pair = sign_in(user)

        with credits_arrive_while_hashing(user, 35):
            response = admin_client.post(
                reverse("admin:auth_user_password_change", args=[user.pk]),
                admin_password_form(NEW_PASSWORD),
            )

        assert response.status_code == 302
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        assert books_balance(user) == (135, 135)
        assert user.token_version == 2  # the logout meanwhile, then the password change
        assert_revoked(pair)
        call_command("audit_ledger")

    def test_changepassword_command_revokes_tokens_and_keeps_the_books(self):
        user = UserFactory()
        credits_grant(user=user, amount=100)
        pair = sign_in(user)

        with (
            credits_arrive_while_hashing(user, 20),
            mock.patch.object(ChangePassword, "_get_pass", return_value=NEW_PASSWORD),
        ):
            call_command("changepassword", user.username)

        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        assert books_balance(user) == (120, 120)
        assert user.token_version == 2
        assert_revoked(pair)
        call_command("audit_ledger")

    def test_set_password_and_save_revokes_every_token(self):
        user = UserFactory()
        pairs = [sign_in(user), sign_in(user)]
        loaded = User.objects.get(pk=user.pk)

        loaded.set_password(NEW_PASSWORD)
        loaded.save()

        assert loaded.token_version == 1  # the instance knows its new version
        for pair in pairs:
            assert_revoked(pair)
        response = APIClient().post(
            LOGIN, {"username": user.username, "password": NEW_PASSWORD}, format="json"
        )
        assert response.status_code == 200

    def test_a_save_without_a_password_change_revokes_nothing(self):
        user = UserFactory()
        pair = sign_in(user)
        loaded = User.objects.get(pk=user.pk)

        loaded.first_name = "Renamed"
        loaded.save()

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['accessToken']}")
        assert client.get(FUNDED).status_code == 200
        user.refresh_from_db()
        assert (user.first_name, user.token_version) == ("Renamed", 0)

    def test_a_stale_full_save_writes_neither_balance_nor_token_version(self):
        user = UserFactory()
        loaded = User.objects.get(pk=user.pk)
        credits_grant(user=user, amount=75)
        user_logout(user=user)

        loaded.credit_balance = 1_000_000
        loaded.token_version = 0
        loaded.last_name = "Stale"
        loaded.save()

        user.refresh_from_db()
        assert (user.last_name, user.credit_balance, user.token_version) == ("Stale", 75, 1)

    def test_a_partly_loaded_user_saves_only_what_it_loaded(self, django_assert_num_queries):
        user = UserFactory(first_name="Ayse")
        partial = User.objects.only("id", "last_name").get(pk=user.pk)
        User.objects.filter(pk=user.pk).update(first_name="Changed meanwhile")

        partial.last_name = "Yilmaz"
        with django_assert_num_queries(1):
            partial.save()

        user.refresh_from_db()
        assert (user.first_name, user.last_name) == ("Changed meanwhile", "Yilmaz")

    @pytest.mark.parametrize("column", ["credit_balance", "token_version"])
    def test_saving_a_guarded_column_by_name_is_refused(self, column):
        user = UserFactory()

        with pytest.raises(ValueError, match="ledger_post"):
            user.save(update_fields=[column, "first_name"])

    @pytest.mark.parametrize(
        ("column", "refusal"),
        [
            ("credit_balance", "credit_balance changes only by inserting ledger rows"),
            ("token_version", "token_version only goes up by one"),
        ],
    )
    def test_the_database_refuses_any_other_writer(self, column, refusal):
        # PostgreSQL's triggers (users migration 0009) refuse even a stray QuerySet.update():
        # a balance changes only with a ledger row, a token version only goes up by one.
        # SQLite has no such guard (User.save is the one there), and says so here.
        user = UserFactory()
        expected = {"credit_balance": 0, "token_version": 0}

        if connection.vendor == "postgresql":
            with pytest.raises(IntegrityError, match=refusal), transaction.atomic():
                User.objects.filter(pk=user.pk).update(**{column: 7})
        else:
            User.objects.filter(pk=user.pk).update(**{column: 7})
            expected[column] = 7

        user.refresh_from_db()
        assert getattr(user, column) == expected[column]
        credits_grant(user=user, amount=3)  # the writers themselves still can
        user_logout(user=user)
        user.refresh_from_db()
        assert (user.credit_balance, user.token_version) == (
            expected["credit_balance"] + 3,
            expected["token_version"] + 1,
        )

    def test_the_model_announces_and_the_services_revoke(self):
        """Dependencies go one way, services -> models: `User.save` sends `password_changed`
        and never imports `users.services` (not even inside a method); the revocation above
        is the receiver's."""
        tree = ast.parse(Path(users.models.__file__).read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}

        assert "users.services" not in imported
        assert password_changed.has_listeners(sender=User)

    def test_creating_users_still_writes_every_column(self):
        call_command("createsuperuser", "--noinput", username="root", email="root@allmine.test")
        created = User.objects.create_user("newcomer", password=NEW_PASSWORD)

        assert User.objects.get(username="root").is_superuser
        assert created.check_password(NEW_PASSWORD)
        assert (created.credit_balance, created.token_version) == (0, 0)


PASSWORD_CHANGES = 4
FUNDS = 24
AMOUNT = 5
BALANCE = 1_000
HASH_SECONDS = 0.15


@pytest.mark.django_db(transaction=True)
def test_admin_password_changes_in_parallel_with_funding_invent_no_credits():
    """The attack run's race, for real: the admin's password form hashes slowly between loading
    the user and saving it, while that user's funds commit. Nothing may be written back."""
    admin = User.objects.create_superuser("operator", "ops@allmine.test", "x")
    user = UserFactory()
    credits_grant(user=user, amount=BALANCE)
    stream = LiveStreamFactory(funding_goal=1_000_000)
    revoked_by_logout = sign_in(user)
    user_logout(user=user)
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    passwords = [f"{NEW_PASSWORD}-{n}" for n in range(PASSWORD_CHANGES)]
    barrier = threading.Barrier(PASSWORD_CHANGES + FUNDS)
    outcomes: list[str] = []
    lock = threading.Lock()
    original_encode = MD5PasswordHasher.encode

    def slow_encode(hasher, password, salt):
        time.sleep(HASH_SECONDS)  # PBKDF2's real cost, where the funds slip in
        return original_encode(hasher, password, salt)

    def change_password(password: str) -> None:
        client = Client()
        client.force_login(admin)
        try:
            barrier.wait(timeout=30)
            response = client.post(url, admin_password_form(password))
            with lock:
                outcomes.append(f"password {response.status_code}")
        finally:
            connections.close_all()

    def fund() -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(2):  # before and during the hashes
                funder = User.objects.get(pk=user.pk)
                contribution_create(user=funder, stream_id=stream.pk, amount=AMOUNT)
                with lock:
                    outcomes.append("fund 201")
                time.sleep(HASH_SECONDS / 2)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=change_password, args=(p,)) for p in passwords]
    threads += [threading.Thread(target=fund) for _ in range(FUNDS)]
    with mock.patch.object(MD5PasswordHasher, "encode", autospec=True, side_effect=slow_encode):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert Counter(outcomes) == {"password 302": PASSWORD_CHANGES, "fund 201": 2 * FUNDS}
    assert books_balance(user) == (BALANCE - 2 * FUNDS * AMOUNT,) * 2
    call_command("audit_ledger")
    user.refresh_from_db()
    assert user.token_version == 1 + PASSWORD_CHANGES  # no bump lost, none undone
    assert any(user.check_password(p) for p in passwords)
    assert_revoked(revoked_by_logout)
