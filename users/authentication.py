"""Bearer JWT authentication that also refuses tokens revoked by logout, and the token
classes the project issues and reads."""

from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, TokenError

from allmine.db_router import reading_as, reads_from_primary

TOKEN_VERSION_CLAIM = "ver"
# 9999-12-31T23:59:59Z: the last instant a Python datetime can hold.
LATEST_TIMESTAMP = 253_402_300_799


class CheckedExpMixin:
    """A signed token whose `exp` is not a number of seconds a datetime can hold (a string
    of digits, 1e300...) is invalid, not a crash: simplejwt would raise TypeError or
    OverflowError converting it."""

    def check_exp(self, claim="exp", current_time=None):
        value = self.payload.get(claim)
        if claim in self.payload and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value <= LATEST_TIMESTAMP
        ):
            raise TokenError(f"Token '{claim}' claim is not a valid time")
        super().check_exp(claim, current_time)


class AccessToken(CheckedExpMixin, tokens.AccessToken):
    pass


class RefreshToken(CheckedExpMixin, tokens.RefreshToken):
    access_token_class = AccessToken


class BearerJWTAuthentication(JWTAuthentication):
    """simplejwt's authentication plus the user's `token_version` check.

    Logout bumps the version, so every access token issued before it stops working at once.
    The user is read from the primary, never a lagging replica, so logout and suspension do.
    """

    def get_user(self, validated_token):
        with reads_from_primary():
            user = super().get_user(validated_token)
        reading_as(user.pk)
        if validated_token.get(TOKEN_VERSION_CLAIM) != user.token_version:
            raise AuthenticationFailed("Token has been revoked", code="token_revoked")
        return user


class EventStreamAuthentication(BearerJWTAuthentication):
    """For Server-Sent Events: the Bearer header, or `?access_token=` for EventSource clients,
    which cannot send headers. The query string is never logged (allmine/api/logging.py logs
    the path only; the ASGI server runs without its access log)."""

    query_parameter = "access_token"

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is not None:
            return found
        raw_token = request.query_params.get(self.query_parameter)
        if not raw_token:
            return None
        validated_token = self.get_validated_token(raw_token.encode())
        return self.get_user(validated_token), validated_token
