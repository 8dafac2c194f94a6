"""Output and input shapes of the users app."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from allmine.api.fields import ApiDateTimeField
from users.models import CreditLedgerEntry, Media, User
from users.selectors import KNOWN_TRANSACTION_TYPES, Direction


def _size_key(size: str) -> tuple[int, str]:
    return (int(size), "") if size.isdigit() else (0, size)


class MediaSerializer(serializers.ModelSerializer):
    _id = serializers.CharField(source="id", read_only=True)
    variants = serializers.SerializerMethodField()
    createdAt = ApiDateTimeField(source="created_at")
    updatedAt = ApiDateTimeField(source="updated_at")

    class Meta:
        model = Media
        fields = ["_id", "url", "type", "variants", "createdAt", "updatedAt"]

    def get_variants(self, media: Media) -> dict[str, str]:
        """Pixel size (as a string) to URL, smallest first."""
        return dict(sorted((media.variants or {}).items(), key=lambda item: _size_key(item[0])))


class UserSummarySerializer(serializers.ModelSerializer):
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
