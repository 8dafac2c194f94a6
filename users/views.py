"""Sign-in endpoints: login, refresh (rotating), logout."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from allmine.api.pagination import ListPagination, paged_serializer
from allmine.api.schema import envelope_responses
from allmine.api.throttling import AddressFailOpenThrottle, ScopedThrottle, SignInAccountThrottle
from users import services
from users.authentication import BearerJWTAuthentication
from users.models import CreditLedgerEntry
from users.selectors import KNOWN_TRANSACTION_TYPES, Direction, ledger_entries_for_user
from users.serializers import (
    LoginInputSerializer,
    MeSerializer,
    RefreshInputSerializer,
    TokenPairSerializer,
    TransactionSerializer,
    TransactionsQuerySerializer,
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
        description=(
            "Returns an access token (1 hour) and a refresh token (30 days) with the user "
            "summary. Any failure — unknown account, wrong password, inactive or suspended "
            "account — is the same 401 `Invalid username or password`. Throttled per client "
            "address and per account (`THROTTLE_AUTH_RATE`)."
        ),
        request=LoginInputSerializer,
        responses=envelope_responses(200, TokenPairSerializer, errors=(400, 401, 429)),
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


class MeView(APIView):
    @extend_schema(
        operation_id="users_me",
        summary="The caller: user summary, e-mail, credit balance and account status",
        responses=envelope_responses(200, MeSerializer, errors=(401, 403)),
        tags=["Wallet"],
    )
    def get(self, request):
        return Response(MeSerializer(request.user).data)


TRANSACTIONS_PAGINATION = ListPagination(default_limit=20)


def _csv_parameter(name: str, choices, what: str) -> OpenApiParameter:
    return OpenApiParameter(
        name=name,
        location=OpenApiParameter.QUERY,
        required=False,
        explode=True,
        type={"type": "array", "items": {"type": "string", "enum": list(choices)}},
        description=(
            f"Only these {what}: comma-separated (`{name}=a,b`) or repeated (`{name}=a&{name}=b`). "
            "An unknown value is a 400."
        ),
    )


class MyTransactionsView(APIView):
    @extend_schema(
        operation_id="users_me_transactions",
        summary="The caller's credit movements, newest first",
        description=(
            "Every ledger row of the caller, sorted by `occurredAt` (then id). `amount` is "
            "positive; `direction` says which way it went. A refund row has status `refunded` "
            "and occurs at its refund time. Paged as API.md §5; bad filter values are a 400 "
            "naming the parameter."
        ),
        parameters=[
            _csv_parameter("types", KNOWN_TRANSACTION_TYPES, "types"),
            _csv_parameter("statuses", CreditLedgerEntry.Status.values, "statuses"),
            OpenApiParameter(
                name="direction",
                location=OpenApiParameter.QUERY,
                required=False,
                enum=[Direction.CREDIT, Direction.DEBIT],
                description="credit: credits in; debit: credits out.",
            ),
            OpenApiParameter(
                name="dateFrom",
                location=OpenApiParameter.QUERY,
                required=False,
                type={"type": "string", "format": "date-time"},
                description="ISO 8601 datetime; rows at or after it.",
            ),
            OpenApiParameter(
                name="dateTo",
                location=OpenApiParameter.QUERY,
                required=False,
                type={"type": "string", "format": "date-time"},
                description="ISO 8601 datetime; rows at or before it.",
            ),
            OpenApiParameter(
                name="sort",
                location=OpenApiParameter.QUERY,
                required=False,
                enum=["asc", "desc"],
                default="desc",
                description="By `occurredAt`.",
            ),
            *TRANSACTIONS_PAGINATION.schema_parameters(),
        ],
        responses=envelope_responses(
            200, paged_serializer(TransactionSerializer), errors=(400, 401, 403)
        ),
        tags=["Wallet"],
    )
    def get(self, request):
        query = TransactionsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        entries = ledger_entries_for_user(
            user=request.user,
            types=filters.get("types", ()),
            statuses=filters.get("statuses", ()),
            direction=filters.get("direction"),
            date_from=filters.get("dateFrom"),
            date_to=filters.get("dateTo"),
            newest_first=filters["sort"] == "desc",
        )
        page = TRANSACTIONS_PAGINATION.paginate(entries, request)
        return Response(page.response_data(TransactionSerializer(page.items, many=True).data))
