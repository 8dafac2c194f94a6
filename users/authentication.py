"""Bearer JWT authentication that also refuses tokens revoked by logout."""

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from allmine.db_router import reading_as, reads_from_primary

TOKEN_VERSION_CLAIM = "ver"


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
