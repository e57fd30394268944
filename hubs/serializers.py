from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer

from common.serializers import ModelSerializer

from .models import Hub


class HubSerializer(ModelSerializer):
    kind = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        help_text=(
            "What the hub is, by its kind's code: refurbishing_hub, circular_economy_hub, itad_social_enterprise, "
            "partner_site, or one the platform admin added."
        ),
    )

    class Meta:
        model = Hub
        fields = ["id", "code", "name", "kind", "country", "city", "active"]
        read_only_fields = fields


class AuthTokenRequestSerializer(AuthTokenSerializer):
    # Bounded like the sign-in form's field (an e-mail address is at most 254 characters): a longer name is a 400
    # here, before the lockout records the attempt in a 255-character column (PostgreSQL refused it: a 500).
    username = serializers.CharField(label="Username", write_only=True, max_length=254)
    otp_token = serializers.CharField(
        required=False,
        write_only=True,
        help_text="Hub staff, and anyone who turned on a second factor: the code from the authenticator app.",
    )


class AuthTokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)
