"""Sign-in: login, refresh with rotation, logout, and every kind of bad token."""

from datetime import timedelta
from unittest import mock

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.users.factories import TEST_PASSWORD, UserFactory
from users.authentication import TOKEN_VERSION_CLAIM
from users.models import User
from users.services import access_token_for

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
FUNDED = "/api/v1/live-stream/funded"
TOKEN_PAIR_KEYS = ["accessToken", "refreshToken", "expiresIn", "refreshExpiresIn", "user"]


def login(api_client, username: str, password: str = TEST_PASSWORD):
    return api_client.post(LOGIN, {"username": username, "password": password}, format="json")


def bearer(api_client, token: str):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


def assert_401(response):
    assert response.status_code == 401
    body = response.json()
    assert body["isSuccess"] is False and body["statusCode"] == 401 and body["data"] is None
    assert body["errors"][0] == "Authentication required"
    assert response["WWW-Authenticate"].startswith("Bearer")


class TestLogin:
    def test_login_with_username_returns_a_working_pair(self, api_client, user):
        response = login(api_client, user.username)

        assert response.status_code == 200
        data = response.json()["data"]
        assert list(data) == TOKEN_PAIR_KEYS
        assert data["expiresIn"] == 3600
        assert data["refreshExpiresIn"] == 2_592_000
        assert data["user"]["_id"] == user.id
        assert data["user"]["username"] == user.username
        access = AccessToken(data["accessToken"])
        assert access["exp"] - access["iat"] == 3600
        refresh = RefreshToken(data["refreshToken"])
        assert refresh["exp"] - refresh["iat"] == 2_592_000
        assert bearer(api_client, data["accessToken"]).get(FUNDED).status_code == 200

    def test_login_with_email(self, api_client, user):
        response = login(api_client, user.email.upper())

        assert response.status_code == 200
        assert response.json()["data"]["user"]["_id"] == user.id

    @pytest.mark.parametrize("who", ["wrong-password", "unknown-user"])
    def test_bad_credentials_are_a_401(self, api_client, user, who):
        if who == "wrong-password":
            response = login(api_client, user.username, "not-the-password")
        else:
            response = login(api_client, "nobody-here")

        assert_401(response)
        assert response.json()["errors"] == [
            "Authentication required",
            "Invalid username or password",
        ]

    def test_inactive_user_cannot_log_in(self, api_client):
        inactive = UserFactory(is_active=False)

        assert_401(login(api_client, inactive.username))

    @pytest.mark.parametrize(
        ("case", "password", "status"),
        [
            ("username", TEST_PASSWORD, 200),
            ("username", "wrong-password", 401),
            ("email", TEST_PASSWORD, 200),
            ("email", "wrong-password", 401),
            ("unknown-username", TEST_PASSWORD, 401),
            ("unknown-email", TEST_PASSWORD, 401),
            ("shared-email", TEST_PASSWORD, 401),
            ("inactive", TEST_PASSWORD, 401),
            ("suspended", TEST_PASSWORD, 401),
            ("suspended", "wrong-password", 401),
        ],
    )
    def test_every_sign_in_hashes_the_password_exactly_once(
        self, api_client, user, case, password, status
    ):
        # Timing cannot tell an unknown e-mail from a known one, or a suspended account's
        # right password from a wrong one: each path runs the hasher once and nothing more.
        from django.contrib.auth.hashers import MD5PasswordHasher

        identifier = {
            "username": user.username,
            "email": user.email.upper(),
            "unknown-username": "nobody-here",
            "unknown-email": "nobody@allmine.test",
            "shared-email": UserFactory.create_batch(2, email="twins@allmine.test")[0].email,
            "inactive": UserFactory(is_active=False).username,
            "suspended": UserFactory(account_status=User.AccountStatus.SUSPENDED).username,
        }[case]

        with mock.patch.object(
            MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode
        ) as encode:
            response = login(api_client, identifier, password)

        assert encode.call_count == 1
        assert response.status_code == status
        if status == 401:
            assert_401(response)
            assert response.json()["errors"] == [
                "Authentication required",
                "Invalid username or password",
            ]

    @pytest.mark.parametrize(
        ("payload", "details"),
        [
            ({}, ["username: This field is required.", "password: This field is required."]),
            ({"username": "a"}, ["password: This field is required."]),
            ({"username": "", "password": "x"}, ["username: This field may not be blank."]),
            ({"username": ["a"], "password": "x"}, ["username: Not a valid string."]),
        ],
    )
    def test_bad_body_is_a_400(self, api_client, payload, details):
        response = api_client.post(LOGIN, payload, format="json")

        assert response.status_code == 400
        assert response.json()["errors"] == ["Validation failed", *details]

    def test_login_is_throttled(self, api_client, user, throttle_rates):
        throttle_rates(auth="3/min")
        statuses = [login(api_client, user.username, "wrong").status_code for _ in range(4)]

        assert statuses == [401, 401, 401, 429]


class TestRefresh:
    def test_refresh_rotates_and_retires_the_old_token(self, api_client, user):
        first = login(api_client, user.username).json()["data"]

        rotated = api_client.post(REFRESH, {"refreshToken": first["refreshToken"]}, format="json")
        replay = api_client.post(REFRESH, {"refreshToken": first["refreshToken"]}, format="json")

        assert rotated.status_code == 200
        data = rotated.json()["data"]
        assert list(data) == TOKEN_PAIR_KEYS
        assert data["refreshToken"] != first["refreshToken"]
        assert bearer(APIClient(), data["accessToken"]).get(FUNDED).status_code == 200
        assert_401(replay)
        again = api_client.post(REFRESH, {"refreshToken": data["refreshToken"]}, format="json")
        assert again.status_code == 200

    def test_access_token_is_not_a_refresh_token(self, api_client, user):
        response = api_client.post(REFRESH, {"refreshToken": access_token_for(user)}, format="json")

        assert_401(response)

    @pytest.mark.parametrize("token", ["garbage", "a.b.c"])
    def test_malformed_refresh_token_is_a_401(self, api_client, token):
        response = api_client.post(REFRESH, {"refreshToken": token}, format="json")

        assert_401(response)
        assert response.json()["errors"] == ["Authentication required", "Token is invalid"]

    def test_blank_refresh_token_is_a_400_naming_it(self, api_client):
        response = api_client.post(REFRESH, {"refreshToken": ""}, format="json")

        assert response.status_code == 400
        assert response.json()["errors"] == [
            "Validation failed",
            "refreshToken: This field may not be blank.",
        ]
        assert response.json()["isSuccess"] is False

    def test_suspended_user_cannot_refresh(self, api_client, user):
        refresh = login(api_client, user.username).json()["data"]["refreshToken"]
        User.objects.filter(pk=user.pk).update(account_status=User.AccountStatus.SUSPENDED)

        response = api_client.post(REFRESH, {"refreshToken": refresh}, format="json")

        assert response.status_code == 403


class TestLogout:
    def test_logout_revokes_access_and_refresh_tokens(self, api_client, user):
        pair = login(api_client, user.username).json()["data"]
        other_session = login(api_client, user.username).json()["data"]

        response = bearer(api_client, pair["accessToken"]).post(LOGOUT)

        assert response.status_code == 200
        assert response.json()["data"] is None
        assert_401(bearer(APIClient(), pair["accessToken"]).get(FUNDED))
        assert_401(bearer(APIClient(), other_session["accessToken"]).get(FUNDED))
        for refresh in (pair["refreshToken"], other_session["refreshToken"]):
            assert_401(APIClient().post(REFRESH, {"refreshToken": refresh}, format="json"))
        assert login(APIClient(), user.username).status_code == 200

    def test_logout_needs_a_token(self, api_client):
        assert_401(api_client.post(LOGOUT))


class TestBadTokens:
    def _forge(self, user, *, key=None, **overrides) -> str:
        token = AccessToken.for_user(user)
        token[TOKEN_VERSION_CLAIM] = user.token_version
        payload = {**token.payload, **overrides}
        return jwt.encode(payload, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")

    def test_valid_token_works(self, api_client, user):
        assert bearer(api_client, self._forge(user)).get(FUNDED).status_code == 200

    def test_expired_token(self, api_client, user):
        token = AccessToken.for_user(user)
        token[TOKEN_VERSION_CLAIM] = user.token_version
        token.set_exp(lifetime=-timedelta(seconds=1))

        response = bearer(api_client, str(token)).get(FUNDED)

        assert_401(response)
        assert response.json()["errors"] == [
            "Authentication required",
            "Given token not valid for any token type",
            "Token is expired",
        ]

    @pytest.mark.parametrize("exp", ["4102444800", 10**30, 1e300, -(10**30), True, None, [1]])
    def test_token_whose_exp_is_not_a_time(self, api_client, user, exp):
        response = bearer(api_client, self._forge(user, exp=exp)).get(FUNDED)

        assert_401(response)
        assert response.json()["errors"][:2] == [
            "Authentication required",
            "Given token not valid for any token type",
        ]

    @pytest.mark.parametrize("exp", ["4102444800", 10**30])
    def test_refresh_token_whose_exp_is_not_a_time(self, api_client, user, exp):
        refresh = RefreshToken.for_user(user)
        refresh[TOKEN_VERSION_CLAIM] = user.token_version
        payload = {**refresh.payload, "exp": exp}
        token = jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")

        response = api_client.post(REFRESH, {"refreshToken": token}, format="json")

        assert_401(response)

    def test_wrongly_signed_token(self, api_client, user):
        assert_401(bearer(api_client, self._forge(user, key="another-key" * 4)).get(FUNDED))

    def test_tampered_token(self, api_client, user):
        other = UserFactory()
        header, payload, signature = self._forge(user).split(".")
        forged_payload = self._forge(other).split(".")[1]

        assert_401(bearer(api_client, f"{header}.{forged_payload}.{signature}").get(FUNDED))
        assert_401(bearer(api_client, f"{header}.{payload}.{signature[:-4]}AAAA").get(FUNDED))

    def test_refresh_token_is_not_an_access_token(self, api_client, user):
        refresh = RefreshToken.for_user(user)
        refresh[TOKEN_VERSION_CLAIM] = user.token_version

        assert_401(bearer(api_client, str(refresh)).get(FUNDED))

    def test_token_of_a_deleted_user(self, api_client):
        ghost = UserFactory()
        token = self._forge(ghost)
        ghost.delete()

        assert_401(bearer(api_client, token).get(FUNDED))

    def test_token_without_version_claim(self, api_client, user):
        token = AccessToken.for_user(user)  # not issued by our login

        response = bearer(api_client, str(token)).get(FUNDED)

        assert_401(response)
        assert response.json()["errors"] == ["Authentication required", "Token has been revoked"]

    def test_alg_none_token(self, api_client, user):
        payload = AccessToken.for_user(user).payload
        token = jwt.encode(payload, key=None, algorithm="none")

        assert_401(bearer(api_client, token).get(FUNDED))

    @pytest.mark.parametrize(
        "header",
        ["Bearer", "Bearer ", "Bearer a b", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Token abc"],
    )
    def test_malformed_authorization_headers(self, api_client, header):
        api_client.credentials(HTTP_AUTHORIZATION=header)

        assert_401(api_client.get(FUNDED))

    def test_missing_token(self, api_client):
        response = api_client.get(FUNDED)

        assert_401(response)
        assert response.json()["errors"] == ["Authentication required"]

    def test_suspended_user_with_a_valid_token_is_a_403(self, client_for):
        suspended = UserFactory(account_status=User.AccountStatus.SUSPENDED)

        response = client_for(suspended).get(FUNDED)

        assert response.status_code == 403
        assert response.json()["errors"] == ["Insufficient permissions", "Account suspended"]


def test_forged_forwarded_for_does_not_dodge_the_login_throttle(api_client, user, throttle_rates):
    throttle_rates(auth="3/min", auth_account="100/min")
    statuses = [
        api_client.post(
            LOGIN,
            {"username": user.username, "password": "wrong"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n in range(4)
    ]

    assert statuses == [401, 401, 401, 429]


def test_username_that_looks_like_an_email_wins_over_another_accounts_email(api_client):
    owner = UserFactory(username="x@allmine.test", email="owner@allmine.test")
    UserFactory(email="x@allmine.test")

    response = login(api_client, "x@allmine.test")

    assert response.status_code == 200
    assert response.json()["data"]["user"]["_id"] == owner.id


def test_email_shared_by_two_accounts_does_not_sign_in(api_client):
    UserFactory(email="shared@allmine.test")
    UserFactory(email="shared@allmine.test")

    assert_401(login(api_client, "shared@allmine.test"))
