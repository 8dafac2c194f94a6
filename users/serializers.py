"""Output and input shapes of the users app."""

from rest_framework import serializers

from allmine.api.fields import ApiDateTimeField
from allmine.api.formats import format_datetime
from users.models import Media, User
from users.selectors import MEDIA_FIELDS, user_summary_row_of


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
    return {
        "_id": media["id"],
        "url": media["url"],
        "type": media["type"],
        "variants": sorted_variants(media["variants"]),
        "createdAt": format_datetime(media["created_at"]),
        "updatedAt": format_datetime(media["updated_at"]),
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
    return {
        "_id": user["id"],
        "username": user["username"],
        "name": user["first_name"],
        "surname": user["last_name"],
        "profilePhoto": None if photo is None else media_representation(photo),
        "availabilityStatus": user["availability_status"],
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
