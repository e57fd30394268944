from rest_framework import serializers

from .models import Hub


class HubSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hub
        fields = ["id", "code", "name", "country", "city", "active"]
        read_only_fields = fields


class AuthTokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class AuthTokenErrorSerializer(serializers.Serializer):
    """Refused credentials: a sentence for people, and the fields at fault."""

    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)
