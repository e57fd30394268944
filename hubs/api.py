"""API: the hubs a user works at, and the token a script or app signs in with."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_otp import user_has_device
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from common.api_errors import error_body
from common.lockout import lockout_response

from .accounts.second_factor import second_factor_match, second_factor_required
from .models import Hub
from .selectors import hub_list_for_user
from .serializers import AuthTokenRequestSerializer, AuthTokenResponseSerializer, HubSerializer
from .services import api_token_create, api_token_revoke
from .viewsets import HubScopedViewSetMixin


@extend_schema(tags=["hubs"])
class HubViewSet(HubScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Hubs the caller works at (every hub for a superuser)."""

    hub_field = "pk"

    serializer_class = HubSerializer
    # A handful of rows: one plain list ordered by code is easier to use than a cursor.
    pagination_class = None

    def get_queryset(self) -> QuerySet[Hub]:
        return hub_list_for_user(user=self.request.user).select_related("kind").order_by("code")


class AuthTokenThrottle(AnonRateThrottle):
    # The endpoint checks passwords: slow down guessing without bothering a person who mistyped.
    scope = "auth_token"


@extend_schema(
    tags=["auth"],
    request=AuthTokenRequestSerializer,
    # The error body, and the 429 of the throttle, come from common.openapi like every operation's.
    responses={
        200: AuthTokenResponseSerializer,
        400: OpenApiResponse(description="Missing fields, or no active account with this username and password."),
    },
)
class AuthTokenView(ObtainAuthToken):
    """Exchange a username and password for the API token to send as ``Authorization: Token <key>``.

    Hub staff and anyone who turned on a second factor also send ``otp_token``: the code their authenticator
    app shows, or a recovery code.
    """

    serializer_class = AuthTokenRequestSerializer

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
        user = serializer.validated_data["user"]
        if second_factor_required(user=user) or user_has_device(user, confirmed=True):
            # Staff tokens come only from a second-factor sign-in: the code goes with the password.
            code = str(request.data.get("otp_token") or "")
            if not code:
                detail = _("Send the code from your authenticator app (or a recovery code) as otp_token.")
                return Response(error_body(detail, {"otp_token": [detail]}), status=status.HTTP_400_BAD_REQUEST)
            if second_factor_match(user=user, token=code) is None:
                detail = _("That code was not accepted. Wait for the next code, or use a recovery code.")
                return Response(error_body(detail, {"otp_token": [detail]}), status=status.HTTP_400_BAD_REQUEST)
        token = Token.objects.filter(user=user).first()
        return Response({"token": token.key if token else api_token_create(user=user)})


@extend_schema(tags=["auth"], request=None, responses={204: None})
class AuthTokenCurrentView(APIView):
    """Revoke the token this request is sent with: scripts that use it are refused from then on."""

    authentication_classes = (TokenAuthentication,)
    permission_classes = (IsAuthenticated,)

    def delete(self, request: Request) -> Response:
        api_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
