from rest_framework import serializers

from .models import Hub


class HubSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hub
        fields = ["id", "code", "name", "country", "city", "active"]
        read_only_fields = fields


class AuthTokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)
