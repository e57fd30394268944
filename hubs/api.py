"""API: the hubs a user works at, and the token a script or app signs in with."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from closegap.lockout import lockout_response

from .models import Hub
from .selectors import hub_list_for_user
from .serializers import AuthTokenResponseSerializer, HubSerializer


@extend_schema(tags=["hubs"])
class HubViewSet(viewsets.ReadOnlyModelViewSet):
    """Hubs the caller works at (every hub for a superuser)."""

    serializer_class = HubSerializer
    # A handful of rows: one plain list ordered by code is easier to use than a cursor.
    pagination_class = None

    def get_queryset(self) -> QuerySet[Hub]:
        return hub_list_for_user(user=self.request.user).order_by("code")


class AuthTokenThrottle(AnonRateThrottle):
    # The endpoint checks passwords: slow down guessing without bothering a person who mistyped.
    scope = "auth_token"


@extend_schema(
    tags=["auth"],
    request=AuthTokenSerializer,
    # The error body, and the 429 of the throttle, come from closegap.openapi like every operation's.
    responses={
        200: AuthTokenResponseSerializer,
        400: OpenApiResponse(description="Missing fields, or no active account with this username and password."),
    },
)
class AuthTokenView(ObtainAuthToken):
    """Exchange a username and password for the API token to send as ``Authorization: Token <key>``."""

    # No session authentication: a browser that happens to be signed in must not need a CSRF token here.
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AuthTokenThrottle,)

    def post(self, request: Request, *args, **kwargs) -> Response:
        # The serializer authenticates with the request (in its context), so axes counts the failure and
        # refuses a locked-out username or address before checking the password.
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        if getattr(request, "axes_locked_out", False) or getattr(request._request, "axes_locked_out", False):
            return lockout_response(request._request)
        if not valid:
            errors = {name: [str(m) for m in messages] for name, messages in serializer.errors.items()}
            messages = errors.get("non_field_errors") or ["Send a username and a password."]
            return Response({"detail": messages[0], "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
