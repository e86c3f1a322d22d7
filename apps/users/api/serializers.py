from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from apps.users.models import NOTIFICATION_PREFERENCES, APIKey, User


class NotificationPreferencesSerializer(serializers.Serializer):
    max_emails_per_day = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    notify_on_agent_run = serializers.BooleanField(required=False)
    notify_on_zero_balance = serializers.BooleanField(required=False)
    notify_on_low_balance = serializers.BooleanField(required=False)
    notify_on_block_execution_failed = serializers.BooleanField(required=False)
    notify_on_continuous_agent_error = serializers.BooleanField(required=False)
    notify_on_daily_summary = serializers.BooleanField(required=False)
    notify_on_weekly_summary = serializers.BooleanField(required=False)
    notify_on_monthly_summary = serializers.BooleanField(required=False)
    notify_on_review_requested = serializers.BooleanField(required=False)


class UserProfileSerializer(serializers.ModelSerializer):
    notification_preferences = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "display_name",
            "timezone",
            "metadata",
            "is_staff",
            "date_joined",
            "email_verified_at",
            "notification_preferences",
        ]
        read_only_fields = ["email_verified_at"]

    def get_notification_preferences(self, user: User) -> NotificationPreferencesSerializer:
        fields = ("max_emails_per_day", *NOTIFICATION_PREFERENCES)
        return {name: getattr(user, name) for name in fields}  # type: ignore[return-value]


class UserUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    metadata = serializers.DictField(required=False)
    notification_preferences = NotificationPreferencesSerializer(required=False)


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        max_length=128, write_only=True, style={"input_type": "password"}
    )
    name = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")
    timezone = serializers.CharField(max_length=64, required=False, default="UTC")


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RegisteredSerializer(serializers.Serializer):
    user = UserProfileSerializer()
    access = serializers.CharField()
    refresh = serializers.CharField()


class EmailTokenObtainSerializer(TokenObtainPairSerializer):
    """Sign-in by email in any letter case (addresses are stored lowercase)."""

    def validate(self, attrs: dict) -> dict:
        attrs[self.username_field] = attrs[self.username_field].strip().lower()
        return super().validate(attrs)


class ApiKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = APIKey
        fields = [
            "id",
            "name",
            "head",
            "tail",
            "permissions",
            "status",
            "created_at",
            "last_used_at",
        ]


class ApiKeyPermissionsSerializer(serializers.Serializer):
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=APIKey.Permission.choices),
        allow_empty=False,
        max_length=len(APIKey.Permission.choices),
    )


class ApiKeyCreateSerializer(ApiKeyPermissionsSerializer):
    name = serializers.CharField(max_length=100)


class ApiKeyCreatedSerializer(serializers.Serializer):
    api_key = ApiKeySerializer()
    key = serializers.CharField(help_text="The plain key. Shown this once; store it now.")
