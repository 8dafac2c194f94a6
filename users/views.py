"""Sign-in endpoints: login, refresh (rotating), logout."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from allmine.api.schema import envelope_responses
from allmine.api.throttling import AddressFailOpenThrottle, ScopedThrottle, SignInAccountThrottle
from users import services
from users.authentication import BearerJWTAuthentication
from users.serializers import (
    LoginInputSerializer,
    RefreshInputSerializer,
    TokenPairSerializer,
)


class SignInView(APIView):
    """Login and refresh: no authentication, so an `Authorization` header sent here is ignored
    and cannot move the caller out of the address's throttle bucket."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "auth"

    def get_authenticate_header(self, request):
        # Keeps wrong credentials a 401 with `WWW-Authenticate` (DRF answers 403 without it).
        return BearerJWTAuthentication().authenticate_header(request)


class LoginView(SignInView):
    # Counted per address and per account name (allmine/api/throttling.py); fails closed.
    throttle_classes = [ScopedThrottle, SignInAccountThrottle]

    @extend_schema(
        operation_id="auth_login",
        summary="Sign in with username (or e-mail) and password",
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


class RefreshView(SignInView):
    # Counted per address; fails open (refresh tokens are signed and cannot be guessed).
    throttle_classes = [AddressFailOpenThrottle]

    @extend_schema(
        operation_id="auth_refresh",
        summary="Exchange a refresh token for a new pair (the old one is retired)",
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
        request=None,
        responses=envelope_responses(200, None, errors=(401, 403)),
        tags=["Auth"],
    )
    def post(self, request):
        services.user_logout(user=request.user)
        return Response(None, status=status.HTTP_200_OK)
