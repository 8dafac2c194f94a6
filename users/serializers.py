"""Output and input shapes of the users app."""

import json
from collections.abc import Sequence

import orjson
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from allmine.api.fields import ApiDateTimeField, StrictCharField, StrictIntegerField
from allmine.api.formats import format_datetime
from users.models import CreditLedgerEntry, CreditPackage, Media, StoreEvent, User
from users.rules import MAX_AMOUNT, MIN_AMOUNT
from users.selectors import KNOWN_TRANSACTION_TYPES, MEDIA_FIELDS, Direction, user_summary_row_of


def _size_key(item: tuple[str, str]) -> tuple[int, str]:
    size = item[0]
    return (int(size), "") if size.isdigit() else (0, size)


def sorted_variants(variants: dict | None) -> dict[str, str]:
    """Pixel size (as a string) to URL, smallest first (the same dict when it already is)."""
    if not variants:
        return {}
    items = list(variants.items())
    ordered = sorted(items, key=_size_key)
    return variants if ordered == items else dict(ordered)


class MediaSerializer(serializers.ModelSerializer):
    # Reads a media row (`users.selectors.MEDIA_FIELDS`) or a `Media`. The declared fields
    # document the shape (OpenAPI); `to_representation` builds it in one go.

    _id = serializers.CharField(source="id", read_only=True)
    variants = serializers.SerializerMethodField()
    createdAt = ApiDateTimeField(source="created_at")
    updatedAt = ApiDateTimeField(source="updated_at")

    class Meta:
        model = Media
        fields = ["_id", "url", "type", "variants", "createdAt", "updatedAt"]

    def get_variants(self, media: Media) -> dict[str, str]:
        """Pixel size (as a string) to URL, smallest first."""
        return sorted_variants(media.variants)

    def to_representation(self, media) -> dict:
        if not isinstance(media, dict):
            media = {name: getattr(media, name) for name in MEDIA_FIELDS}
        return media_representation(media)


def media_representation(media: dict) -> dict:
    """The shape of MediaSerializer from a media row."""
    return media_from_values([media[name] for name in MEDIA_FIELDS])


def media_from_values(values: Sequence, start: int = 0) -> dict:
    """The shape of MediaSerializer straight from a query's MEDIA_FIELDS values (from index
    `start`; `variants` decoded or as JSON text): the one builder of the shape."""
    variants = values[start + 3]
    if isinstance(variants, str):  # JSON as the database driver reads it
        variants = orjson.loads(variants)
    return {
        "_id": values[start],
        "url": values[start + 1],
        "type": values[start + 2],
        "variants": sorted_variants(variants),
        "createdAt": format_datetime(values[start + 4]),
        "updatedAt": format_datetime(values[start + 5]),
    }


class UserSummarySerializer(serializers.ModelSerializer):
    # Reads a user summary row (`users.selectors.user_summary_row`) or a `User`.

    _id = serializers.CharField(source="id", read_only=True)
    name = serializers.CharField(source="first_name", read_only=True)
    surname = serializers.CharField(source="last_name", read_only=True)
    profilePhoto = MediaSerializer(source="profile_photo", read_only=True, allow_null=True)
    availabilityStatus = serializers.ChoiceField(
        source="availability_status", choices=User.AvailabilityStatus.choices, read_only=True
    )

    class Meta:
        model = User
        fields = ["_id", "username", "name", "surname", "profilePhoto", "availabilityStatus"]

    def to_representation(self, user) -> dict:
        return user_summary_representation(
            user if isinstance(user, dict) else user_summary_row_of(user)
        )


def user_summary_representation(user: dict) -> dict:
    """The shape of UserSummarySerializer from a user summary row."""
    photo = user["profile_photo"]
    return user_summary_from_values(
        [
            user["id"], user["username"], user["first_name"], user["last_name"],
            user["availability_status"],
            *([photo[name] for name in MEDIA_FIELDS] if photo else [None] * len(MEDIA_FIELDS)),
        ]
    )  # fmt: skip


def user_summary_from_values(values: Sequence, start: int = 0) -> dict:
    """The shape of UserSummarySerializer straight from a query's USER_SUMMARY_FIELDS values
    (from index `start`, as `users.selectors.user_summary_row` reads them), with no row in
    between: it runs for every user of every stream on the hot lists. The one builder of the
    shape (`user_summary_representation` comes here too)."""
    return {
        "_id": values[start],
        "username": values[start + 1],
        "name": values[start + 2],
        "surname": values[start + 3],
        "profilePhoto": None if values[start + 5] is None else media_from_values(values, start + 5),
        "availabilityStatus": values[start + 4],
    }


class LoginInputSerializer(serializers.Serializer):
    username = serializers.CharField(
        max_length=254, trim_whitespace=False, help_text="Username or e-mail address."
    )
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )


class RefreshInputSerializer(serializers.Serializer):
    refreshToken = serializers.CharField(max_length=4096)


class TokenPairSerializer(serializers.Serializer):
    accessToken = serializers.CharField()
    refreshToken = serializers.CharField()
    expiresIn = serializers.IntegerField(help_text="Access token lifetime in seconds.")
    refreshExpiresIn = serializers.IntegerField(help_text="Refresh token lifetime in seconds.")
    user = UserSummarySerializer()


# --- The caller's wallet (API.md §8) ------------------------------------------------------


class MeSerializer(UserSummarySerializer):
    """The user summary plus what only the user sees."""

    creditBalance = serializers.IntegerField(source="credit_balance", read_only=True)
    accountStatus = serializers.ChoiceField(
        source="account_status", choices=User.AccountStatus.choices, read_only=True
    )

    class Meta(UserSummarySerializer.Meta):
        fields = [*UserSummarySerializer.Meta.fields, "email", "creditBalance", "accountStatus"]

    def to_representation(self, user: User) -> dict:
        return {
            **super().to_representation(user),
            "email": user.email,
            "creditBalance": user.credit_balance,
            "accountStatus": user.account_status,
        }


class TransactionSerializer(serializers.ModelSerializer):
    """One ledger row as a wallet transaction."""

    _id = serializers.CharField(source="id", read_only=True)
    type = serializers.ChoiceField(choices=CreditLedgerEntry.Type.choices, read_only=True)
    direction = serializers.SerializerMethodField()
    amount = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=CreditLedgerEntry.Status.choices, read_only=True)
    balanceAfter = serializers.IntegerField(source="balance_after", read_only=True)
    occurredAt = ApiDateTimeField(source="created_at")
    streamId = serializers.SerializerMethodField()

    class Meta:
        model = CreditLedgerEntry
        fields = [
            "_id", "type", "direction", "amount", "status", "balanceAfter", "description",
            "occurredAt", "streamId",
        ]  # fmt: skip

    @extend_schema_field(serializers.ChoiceField(choices=["credit", "debit"]))
    def get_direction(self, entry: CreditLedgerEntry) -> str:
        return "credit" if entry.amount > 0 else "debit"

    @extend_schema_field(serializers.IntegerField(min_value=1))
    def get_amount(self, entry: CreditLedgerEntry) -> int:
        return abs(entry.amount)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_streamId(self, entry: CreditLedgerEntry) -> str | None:
        return entry.stream_id or None


class CsvChoicesField(serializers.Field):
    """Choices given as CSV (`types=a,b`), repeated (`types=a&types=b`) or both."""

    default_error_messages = {
        "invalid_choice": "Unknown value(s): {values}. Allowed: {allowed}.",
        "empty": "Must not be empty.",
    }

    def __init__(self, *, choices, **kwargs):
        self.choices = tuple(choices)
        super().__init__(**kwargs)

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist"):
            values = dictionary.getlist(self.field_name)
            return values if values else serializers.empty
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        raw = data if isinstance(data, list) else [data]
        values = [part.strip() for item in raw for part in str(item).split(",")]
        if not values or any(not value for value in values):
            self.fail("empty")
        unknown = sorted({value for value in values if value not in self.choices})
        if unknown:
            self.fail("invalid_choice", values=", ".join(unknown), allowed=", ".join(self.choices))
        return list(dict.fromkeys(values))

    def to_representation(self, value):
        return value


class TransactionsQuerySerializer(serializers.Serializer):
    """The filters of `GET /users/me/transactions` (page and limit are the paginator's)."""

    types = CsvChoicesField(choices=KNOWN_TRANSACTION_TYPES, required=False)
    statuses = CsvChoicesField(choices=CreditLedgerEntry.Status.values, required=False)
    direction = serializers.ChoiceField(choices=[Direction.CREDIT, Direction.DEBIT], required=False)
    dateFrom = serializers.DateTimeField(required=False)
    dateTo = serializers.DateTimeField(required=False)
    sort = serializers.ChoiceField(choices=["asc", "desc"], required=False, default="desc")

    def validate(self, attrs):
        date_from, date_to = attrs.get("dateFrom"), attrs.get("dateTo")
        if date_from and date_to and date_from > date_to:
            raise serializers.ValidationError({"dateTo": "Must not be before dateFrom."})
        return attrs


# --- money in and between people (API.md §12) ---------------------------------------------


class CreditPackageSerializer(serializers.Serializer):
    """A credit package, exactly the original's keys."""

    id = serializers.CharField()
    creditAmount = serializers.IntegerField(source="credit_amount", min_value=1)
    revenuecatProductId = serializers.CharField(source="revenuecat_product_id")
    storeIdentifier = serializers.CharField(source="store_identifier")
    storeType = serializers.ChoiceField(
        source="store_type", choices=CreditPackage.StoreType.choices
    )


class CreditPackagesQuerySerializer(serializers.Serializer):
    storeType = serializers.ChoiceField(choices=CreditPackage.StoreType.values, required=False)
    activeOnly = serializers.ChoiceField(choices=["true", "false"], required=False, default="true")


class TestPurchaseInputSerializer(serializers.Serializer):
    packageId = StrictCharField(help_text="The credit package's id.")


class TestPurchaseReceiptSerializer(serializers.Serializer):
    eventId = serializers.CharField(source="event_id", help_text="The stored store event's id.")
    packageId = serializers.CharField(source="package_id")
    creditAmount = serializers.IntegerField(source="credits", min_value=1)
    creditBalance = serializers.IntegerField(
        source="ledger_entry.balance_after", help_text="The caller's balance afterwards."
    )


class RevenueCatEventSerializer(serializers.Serializer):
    """The fields of RevenueCat's `event` object the webhook reads; any others are kept."""

    id = StrictCharField(max_length=255)
    type = StrictCharField(max_length=64)
    app_user_id = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
    product_id = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
    transaction_id = StrictCharField(
        max_length=255, required=False, allow_blank=True, allow_null=True, default=""
    )
    cancel_reason = StrictCharField(
        max_length=64, required=False, allow_blank=True, allow_null=True, default=""
    )


class RevenueCatWebhookSerializer(serializers.Serializer):
    """RevenueCat's webhook body: `{"event": {...}, "api_version": "1.0"}`."""

    event = RevenueCatEventSerializer()
    api_version = serializers.CharField(required=False)

    def validate(self, attrs):
        # The whole body is stored (JSON): no database takes a NUL character in it.
        if "\\u0000" in json.dumps(self.initial_data):
            raise serializers.ValidationError({"event": "Must not contain NUL characters."})
        return attrs


class StoreEventReceiptSerializer(serializers.Serializer):
    eventId = serializers.CharField(source="event.event_id")
    type = serializers.CharField(source="event.event_type")
    outcome = serializers.ChoiceField(source="event.outcome", choices=StoreEvent.Outcome.choices)
    detail = serializers.CharField(source="event.detail")
    credits = serializers.IntegerField(
        source="event.credits", help_text="Credits the event added or took back (0: none)."
    )
    redelivered = serializers.BooleanField(
        help_text="True when this event id was received before: nothing was done again."
    )


class TransferInputSerializer(serializers.Serializer):
    recipientId = StrictCharField(help_text="The user receiving the credits.")
    amount = StrictIntegerField(help_text=f"Credits to send, {MIN_AMOUNT} to {MAX_AMOUNT}.")


class TransferReceiptSerializer(serializers.Serializer):
    senderId = serializers.CharField(source="transfer.sender_id")
    recipientId = serializers.CharField(source="transfer.recipient_id")
    transferredAmount = serializers.IntegerField(source="transfer.amount", min_value=1)
    senderBalance = serializers.IntegerField(source="sender_balance")
    recipientBalance = serializers.IntegerField(source="recipient_balance")
