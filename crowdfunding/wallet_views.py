"""Money in and between people (API.md §12): credit packages, the store webhook, test
purchases, credit transfers and gifts. They live here, beside fund, because the money
endpoints share `crowdfunding.idempotency` and the `funding` throttle."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from allmine.api.errors import NotFound
from allmine.api.schema import IDEMPOTENCY_PARAMETER, envelope_responses
from allmine.ids import check_object_id
from crowdfunding.idempotency import idempotent_response
from crowdfunding.views import OBJECT_ID_SCHEMA, STREAM_ID_PARAMETER
from livestreams import gifts
from livestreams.serializers import (
    GiftInputSerializer,
    GiftReceiptSerializer,
    GiftStatisticsSerializer,
    GiftTypeSerializer,
)
from users import purchases, services
from users.authentication import BearerJWTAuthentication
from users.models import CreditPackage
from users.selectors import credit_packages_list
from users.serializers import (
    CreditPackageSerializer,
    CreditPackagesQuerySerializer,
    RevenueCatWebhookSerializer,
    StoreEventReceiptSerializer,
    TestPurchaseInputSerializer,
    TestPurchaseReceiptSerializer,
    TransferInputSerializer,
    TransferReceiptSerializer,
)


class CreditPackageListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="credit_packages_list",
        summary="Credit packages on sale",
        description=(
            "Every package, smallest `creditAmount` first. `storeType` keeps one store's; "
            "`activeOnly` (default `true`) hides retired ones. A bad value is a 400 naming "
            "the parameter. `data` is a plain array."
        ),
        parameters=[
            OpenApiParameter(
                name="storeType",
                location=OpenApiParameter.QUERY,
                required=False,
                enum=CreditPackage.StoreType.values,
            ),
            OpenApiParameter(
                name="activeOnly",
                location=OpenApiParameter.QUERY,
                required=False,
                enum=["true", "false"],
                default="true",
            ),
        ],
        responses=envelope_responses(200, CreditPackageSerializer, many=True, errors=(400,)),
        auth=[],
        tags=["Wallet"],
    )
    def get(self, request):
        query = CreditPackagesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        packages = credit_packages_list(
            store_type=query.validated_data.get("storeType"),
            active_only=query.validated_data["activeOnly"] == "true",
        )
        return Response(CreditPackageSerializer(packages, many=True).data)


class CreditPackageDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="credit_packages_retrieve",
        summary="One credit package",
        description="Retired packages too (a client may show what it bought). 400 for a "
        "malformed id, 404 for an unknown one.",
        parameters=[
            OpenApiParameter(
                name="id",
                location=OpenApiParameter.PATH,
                type=OBJECT_ID_SCHEMA,
                description="Credit package id.",
            )
        ],  # fmt: skip
        responses=envelope_responses(200, CreditPackageSerializer, errors=(400, 404)),
        auth=[],
        tags=["Wallet"],
    )
    def get(self, request, id: str):
        check_object_id(id, "id")
        package = CreditPackage.objects.filter(pk=id).first()
        if package is None:
            raise NotFound("Credit package not found")
        return Response(CreditPackageSerializer(package).data)


class TestPurchaseView(APIView):
    throttle_scope = "funding"

    @extend_schema(
        operation_id="credit_packages_test_purchase",
        summary="Buy a credit package without a store (dev and demo only)",
        description=(
            "Exists only when the server runs with `ALLOW_TEST_PURCHASES` on (404 otherwise): "
            "credits the package's `creditAmount` as a `credit_purchase`, recorded as a "
            "`TEST_PURCHASE` store event exactly like a webhook's purchase. 400 for a "
            "malformed `packageId`, 404 unknown, 409 retired."
        ),
        request=TestPurchaseInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses=envelope_responses(
            201, TestPurchaseReceiptSerializer, errors=(400, 401, 403, 404, 409, 429)
        ),
        tags=["Wallet"],
    )
    def post(self, request):
        if not settings.ALLOW_TEST_PURCHASES:
            raise NotFound("Test purchases are off on this server")
        body = TestPurchaseInputSerializer(data=request.data)

        def perform():
            body.is_valid(raise_exception=True)
            event = purchases.credit_package_test_purchase(
                user=request.user, package_id=body.validated_data["packageId"]
            )
            return status.HTTP_201_CREATED, TestPurchaseReceiptSerializer(event).data

        return idempotent_response(request, perform)


class RevenueCatWebhookView(APIView):
    """No user: the store authenticates with the shared secret in `Authorization`."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return BearerJWTAuthentication().authenticate_header(request)

    @extend_schema(
        operation_id="webhooks_revenuecat",
        summary="RevenueCat's webhook: store purchases and refunds",
        description=(
            "`Authorization` must carry `REVENUECAT_WEBHOOK_SECRET` (as is or after `Bearer `; "
            "compared in constant time), else 401. Each event id is applied once: "
            "`INITIAL_PURCHASE`/`NON_RENEWING_PURCHASE` of a known `product_id` for a known "
            "`app_user_id` credits the package (`credit_purchase`); `CANCELLATION` with "
            "`cancel_reason` `CUSTOMER_SUPPORT` (a store refund) takes the purchase's credits "
            "back when the balance allows (outcome `refunded`), else records a negative-balance "
            "case for operators (`refund_short`); anything else is stored as `ignored`. Every "
            "event is answered 200 with its stored outcome, a redelivery with "
            "`redelivered: true` and nothing done again."
        ),
        request=RevenueCatWebhookSerializer,
        parameters=[
            OpenApiParameter(
                name="Authorization",
                location=OpenApiParameter.HEADER,
                required=True,
                type=str,
                description="The shared secret configured in RevenueCat.",
            )
        ],
        responses=envelope_responses(200, StoreEventReceiptSerializer, errors=(400, 401)),
        auth=[],
        tags=["Wallet"],
    )
    def post(self, request):
        if not purchases.webhook_secret_matches(request.headers.get("Authorization")):
            raise AuthenticationFailed("Invalid webhook secret")
        body = RevenueCatWebhookSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        event = body.validated_data["event"]
        receipt = purchases.store_event_receive(
            fields=purchases.StoreEventFields(
                event_id=event["id"],
                event_type=event["type"],
                app_user_id=event["app_user_id"],
                product_id=event["product_id"],
                transaction_id=event.get("transaction_id") or "",
                cancel_reason=event.get("cancel_reason") or "",
            ),
            payload=request.data,
        )
        return Response(StoreEventReceiptSerializer(receipt).data)


class CreditTransferView(APIView):
    throttle_scope = "funding"

    @extend_schema(
        operation_id="messages_credit_transfer",
        summary="Send credits to another user",
        description=(
            "Moves `amount` (1–1000000) credits from the caller to `recipientId` in one "
            "transaction: `credit_transfer_sent` and `credit_transfer_received` ledger rows. "
            "400 for a bad body or a transfer to oneself, 404 for an unknown recipient, 409 "
            "for a suspended recipient or `Insufficient credit balance`; nothing moves on any "
            "error."
        ),
        request=TransferInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses=envelope_responses(
            201, TransferReceiptSerializer, errors=(400, 401, 403, 404, 409, 429)
        ),
        tags=["Wallet"],
    )
    def post(self, request):
        body = TransferInputSerializer(data=request.data)

        def perform():
            body.is_valid(raise_exception=True)
            receipt = services.credit_transfer_create(
                sender=request.user,
                recipient_id=body.validated_data["recipientId"],
                amount=body.validated_data["amount"],
            )
            return status.HTTP_201_CREATED, TransferReceiptSerializer(receipt).data

        return idempotent_response(request, perform)


class GiftTypeListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="gifts_gift_types",
        summary="Gift types on offer",
        description="Active gift types, cheapest first. `data` is a plain array.",
        responses=envelope_responses(200, GiftTypeSerializer, many=True),
        auth=[],
        tags=["Gifts"],
    )
    def get(self, request):
        return Response(GiftTypeSerializer(gifts.gift_types_active(), many=True).data)


class GiftCreateView(APIView):
    throttle_scope = "funding"

    @extend_schema(
        operation_id="gifts_create",
        summary="Send a gift on an active stream",
        description=(
            "Charges the gift type's `creditAmount` (`gift_spend`) and pays the creator's and "
            "the guest's shares (solo: creator 80 %; duo: creator 40 %, guest 40 %; floored) as "
            "`stream_revenue` in the same transaction. The stream must be `active` (409); the "
            "creator and the paid guest cannot gift (403); an unknown gift type or stream is a "
            "404; `Insufficient credit balance` is a 409."
        ),
        request=GiftInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses=envelope_responses(
            201, GiftReceiptSerializer, errors=(400, 401, 403, 404, 409, 429)
        ),
        tags=["Gifts"],
    )
    def post(self, request):
        body = GiftInputSerializer(data=request.data)

        def perform():
            body.is_valid(raise_exception=True)
            receipt = gifts.gift_create(
                user=request.user,
                gift_type_id=body.validated_data["giftTypeId"],
                stream_id=body.validated_data["liveStreamId"],
            )
            return status.HTTP_201_CREATED, GiftReceiptSerializer(receipt).data

        return idempotent_response(request, perform)


class GiftStatisticsView(APIView):
    @extend_schema(
        operation_id="live_stream_gift_statistics",
        summary="Gifts a stream received",
        description="`totalCount` and, per gift type sent, its count (cheapest type first).",
        parameters=[STREAM_ID_PARAMETER],
        responses=envelope_responses(200, GiftStatisticsSerializer, errors=(400, 404)),
        tags=["Gifts"],
    )
    def get(self, request, id: str):
        statistics = gifts.gift_statistics_for_stream(stream_id=id)
        return Response(GiftStatisticsSerializer(statistics).data)
