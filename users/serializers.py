"""Output and input shapes of the users app."""

from rest_framework import serializers

from allmine.api.fields import ApiDateTimeField
from users.models import Media, User


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
