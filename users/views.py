"""Sign-in endpoints: login, refresh (rotating), logout."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from allmine.api.schema import envelope_responses
from users import services
from users.serializers import (
    LoginInputSerializer,
    RefreshInputSerializer,
    TokenPairSerializer,
)


class LoginView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "auth"

    @extend_schema(
        operation_id="auth_login",
        summary="Sign in with username (or e-mail) and password",
        description=(
            "Returns an access token (1 hour) and a refresh token (30 days) with the user "
            "summary. Wrong credentials are a 401; a suspended account is a 403. Throttled "
            "per client address (`THROTTLE_AUTH_RATE`)."
        ),
        request=LoginInputSerializer,
        responses=envelope_responses(200, TokenPairSerializer, errors=(400, 401, 403, 429)),
        auth=[],
        tags=["Auth"],
    )
    def post(self, request):
        body = LoginInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            pair = services.user_login(**body.validated_data)
        except services.InvalidCredentials as error:
            raise AuthenticationFailed(str(error)) from error
        return Response(TokenPairSerializer(pair).data)


class RefreshView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "auth"

    @extend_schema(
        operation_id="auth_refresh",
        summary="Exchange a refresh token for a new pair (the old one is retired)",
        description=(
            "Refresh tokens rotate: the one sent is retired and a new pair is returned. "
            "A retired, revoked, expired or malformed refresh token is a 401."
        ),
        request=RefreshInputSerializer,
        responses=envelope_responses(200, TokenPairSerializer, errors=(400, 401, 403, 429)),
        auth=[],
        tags=["Auth"],
    )
    def post(self, request):
        body = RefreshInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            pair = services.token_refresh(refresh_token=body.validated_data["refreshToken"])
        except services.InvalidCredentials as error:
            raise AuthenticationFailed(str(error)) from error
        return Response(TokenPairSerializer(pair).data)


class LogoutView(APIView):
    @extend_schema(
        operation_id="auth_logout",
        summary="Revoke all of the caller's tokens",
        description=(
            "Every access and refresh token issued to the caller so far stops working at once "
            "(on every device). `data` is null."
        ),
        request=None,
        responses=envelope_responses(200, None, errors=(401, 403)),
        tags=["Auth"],
    )
    def post(self, request):
        services.user_logout(user=request.user)
        return Response(None, status=status.HTTP_200_OK)
