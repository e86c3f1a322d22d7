from rest_framework import serializers

from apps.notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "type", "title", "message", "data", "is_read", "read_at", "created_at"]

    def get_is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationsReadSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField()
