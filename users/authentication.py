"""Bearer JWT authentication that also refuses tokens revoked by logout."""

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

TOKEN_VERSION_CLAIM = "ver"


class BearerJWTAuthentication(JWTAuthentication):
    """simplejwt's authentication plus the user's `token_version` check.

    Logout bumps the version, so every access token issued before it stops working at once.
    """

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if validated_token.get(TOKEN_VERSION_CLAIM) != user.token_version:
            raise AuthenticationFailed("Token has been revoked", code="token_revoked")
        return user
