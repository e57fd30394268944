"""API for the offline scan station: its device cache (``GET /api/v1/sync/devices/``) and its queue
(``POST /api/v1/sync/``). Both use the person's session (the station's page) or an API token."""

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.middleware.csrf import get_token
from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hubs.selectors import user_is_hub_staff, user_is_partner_staff
from refurbishing.scan.sync import (
    SYNC_ACTIONS,
    SYNC_MAX_MOVES,
    TRANSFER_CHECK_IN,
    QueuedMove,
    device_cache_page,
    device_cache_row,
    sync_moves_apply,
    transfer_cache,
)

MOVE_KEYS = {"id", "code", "action", "fields", "version", "occurred_at", "actor"}


def _refusal(message: str, *, code: int, errors: Mapping[str, Any] | None = None) -> Response:
    return Response({"detail": message, "errors": dict(errors or {})}, status=code)


def _may_use_station(request: Request) -> bool:
    return user_is_hub_staff(user=request.user) or user_is_partner_staff(user=request.user)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _move_parse(index: int, raw: Any) -> tuple[QueuedMove | None, list[str]]:
    """One move of the batch, or what is wrong with it (in English: a malformed body is a developer's error)."""
    if not isinstance(raw, Mapping):
        return None, [f"moves[{index}] must be an object."]
    problems = []
    unknown = set(raw) - MOVE_KEYS
    if unknown:
        problems.append(f"moves[{index}] has unknown keys: {', '.join(sorted(unknown))}.")
    try:
        move_id = uuid.UUID(str(raw.get("id", "")))
    except ValueError:
        move_id = None
        problems.append(f"moves[{index}].id must be a UUID.")
    code = raw.get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > 80:
        problems.append(f"moves[{index}].code must be a label code (1 to 80 characters).")
    action = raw.get("action")
    if action not in SYNC_ACTIONS:
        problems.append(f"moves[{index}].action must be one of: {', '.join(SYNC_ACTIONS)}.")
    fields = raw.get("fields", {})
    if not isinstance(fields, Mapping) or not all(
        isinstance(v, str | int | float | bool) or v is None for v in fields.values()
    ):
        problems.append(f"moves[{index}].fields must be an object of plain values.")
    elif action == TRANSFER_CHECK_IN and not _is_id(fields.get("transfer")):
        problems.append(f"moves[{index}].fields.transfer must be the id of the transfer checked in.")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version < 2**31:
        problems.append(f"moves[{index}].version must be a whole number, 0 or more.")
    occurred = parse_datetime(raw["occurred_at"]) if isinstance(raw.get("occurred_at"), str) else None
    if occurred is None or occurred.tzinfo is None:
        problems.append(f"moves[{index}].occurred_at must be a date and time with its offset (ISO 8601).")
    actor = raw.get("actor")
    if not isinstance(actor, int) or isinstance(actor, bool):
        problems.append(f"moves[{index}].actor must be the id of the account that made the move.")
    if problems:
        return None, problems
    move = QueuedMove(
        id=move_id,
        code=code,
        action=action,
        fields=dict(fields),
        version=version,
        occurred_at=occurred,
        actor_id=actor,
    )
    return move, []


class SyncView(APIView):
    """Replay a scan station's queued moves, in order; one answer per move."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["scan station"],
        summary="Send the moves a scan station queued offline",
        description=(
            f"At most {SYNC_MAX_MOVES} moves per batch, applied in the order given, each in its own transaction "
            "through the same lifecycle service and guards as every other surface, as the account that sends "
            "the batch (every move's `actor` must be that account, or the whole batch is refused with 403). Each "
            "move's answer: `applied`; `duplicate` (its `id` was recorded before: resending a batch changes "
            "nothing); `refused` (a guard said no, or no device with this label at your hubs: `message` says "
            "why, in your language); `conflict` (the device changed since the station cached it at `version`). "
            "A malformed batch is a 400 and nothing is written. `occurred_at` is kept on the event, bounded: "
            "never in the future, never before the device's previous event; the server's time is kept beside it. "
            f"`{TRANSFER_CHECK_IN}` checks in a device that arrived from another hub, as the check-in page does: "
            "`fields.transfer` is the transfer's id (see `GET /api/v1/sync/transfers/`), `code` a serial, asset "
            "tag or label code of a device it carries, and `version` is not compared (nobody moves a device "
            "while it travels). A transfer that does not arrive at your hubs is refused as one that does not "
            "exist; a device the transfer does not carry, or a check-in already closed, is refused; a device "
            "already checked in is a `duplicate`."
        ),
        request=OpenApiTypes.OBJECT,
        examples=[
            OpenApiExample(
                "Two moves",
                value={
                    "moves": [
                        {
                            "id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                            "code": "KXR4TN7P",
                            "action": "receive",
                            "fields": {},
                            "version": 0,
                            "occurred_at": "2026-12-07T09:14:03+01:00",
                            "actor": 12,
                        },
                        {
                            "id": "6fa459ea-ee8a-3ca4-894e-db77e160355e",
                            "code": "KXR4TN7P",
                            "action": "inspect",
                            "fields": {"passed": True, "grade": "B"},
                            "version": 1,
                            "occurred_at": "2026-12-07T09:20:41+01:00",
                            "actor": 12,
                        },
                    ]
                },
                request_only=True,
            ),
            OpenApiExample(
                "A transfer check-in",
                value={
                    "moves": [
                        {
                            "id": "9c5b94b1-35ad-49bb-b118-8e8fc24abf80",
                            "code": "5CG81234",
                            "action": TRANSFER_CHECK_IN,
                            "fields": {"transfer": 3},
                            "version": 0,
                            "occurred_at": "2026-12-07T10:02:15+03:00",
                            "actor": 12,
                        }
                    ]
                },
                request_only=True,
            ),
        ],
        responses={
            200: OpenApiResponse(description="One answer per move, in order."),
            400: OpenApiResponse(description="A malformed batch, or more moves than allowed; nothing written."),
            403: OpenApiResponse(description="Moves made by another account, or not hub staff; nothing written."),
        },
    )
    def post(self, request: Request) -> Response:
        if not _may_use_station(request):
            return _refusal(_("The scan station is for hub staff."), code=status.HTTP_403_FORBIDDEN)
        body = request.data
        if not isinstance(body, Mapping) or not isinstance(body.get("moves"), list):
            message = 'Send a JSON object with "moves": a list of queued moves.'
            return _refusal(message, code=status.HTTP_400_BAD_REQUEST, errors={"moves": [message]})
        raw_moves = body["moves"]
        if not raw_moves or len(raw_moves) > SYNC_MAX_MOVES:
            message = f"Send between 1 and {SYNC_MAX_MOVES} moves in one batch."
            return _refusal(message, code=status.HTTP_400_BAD_REQUEST, errors={"moves": [message]})
        moves, errors = [], {}
        for index, raw in enumerate(raw_moves):
            move, problems = _move_parse(index, raw)
            if problems:
                errors[f"moves[{index}]"] = problems
            else:
                moves.append(move)
        if not errors and len({move.id for move in moves}) != len(moves):
            errors["moves"] = ["Each move's id must be unique within the batch."]
        if errors:
            return _refusal("The batch is malformed; nothing was applied.", code=400, errors=errors)
        if any(move.actor_id != request.user.pk for move in moves):
            return _refusal(
                _("This batch carries moves made by another account; nothing was applied. Sign in as that person."),
                code=status.HTTP_403_FORBIDDEN,
            )
        language = body.get("language")
        languages = {code for code, _name in settings.LANGUAGES}
        with translation.override(language if language in languages else translation.get_language()):
            answers = sync_moves_apply(actor=request.user, moves=moves)
            results = [
                {
                    "id": str(answer.id),
                    "status": answer.status,
                    "message": answer.message,
                    "device": device_cache_row(answer.device) if answer.device is not None else None,
                }
                for answer in answers
            ]
        return Response({"max_moves": SYNC_MAX_MOVES, "results": results})


class SyncDevicesView(APIView):
    """The devices a station caches: all of them first, then the changes since the cursor it was given."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["scan station"],
        summary="The devices a scan station keeps for working offline",
        description=(
            "Devices at your hubs that can still be moved at a scan station (pledged, received, sanitised, "
            "inspected), as rows of `columns`. Without `cursor`, all of them; with the `cursor` of the last "
            "answer, only those changed since, and in `gone` the label codes of those that left (moved on, "
            "shipped, transferred away). `more` says another page follows (ask again with the new cursor). "
            "Compressed when the client accepts gzip (the site compresses every answer)."
        ),
        parameters=[OpenApiParameter("cursor", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False)],
        responses={
            200: OpenApiResponse(description="A page of the cache."),
            403: OpenApiResponse(description="Not hub staff."),
            404: OpenApiResponse(description="A cursor that was not made here."),
        },
    )
    def get(self, request: Request) -> Response:
        if not _may_use_station(request):
            return _refusal(_("The scan station is for hub staff."), code=status.HTTP_403_FORBIDDEN)
        try:
            page = device_cache_page(user=request.user, cursor=request.query_params.get("cursor", ""))
        except ValueError:
            # As the API's paginated lists answer a cursor that is not theirs.
            return _refusal("This cursor was not made here; start again without one.", code=status.HTTP_404_NOT_FOUND)
        # The station's page may have been served from its cache: this is the current token for its next POST.
        page["csrf"] = get_token(request)
        page["user"] = request.user.pk
        return Response(page)


class SyncTransfersView(APIView):
    """The transfers a station keeps for checking them in offline."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["scan station"],
        summary="The transfers a scan station keeps for checking them in offline",
        description=(
            "Transfers on their way to your hubs (not closed yet), each with the devices it carries as rows of "
            "`columns` (`status`: in_transit, received or missing). The answer has an `ETag`: send it back in "
            "`If-None-Match` and a refresh that finds nothing changed is a 304 with no body."
        ),
        parameters=[OpenApiParameter("If-None-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
        responses={
            200: OpenApiResponse(description="The transfers and their devices."),
            304: OpenApiResponse(description="Unchanged since the answer whose ETag was sent."),
            403: OpenApiResponse(description="Not hub staff."),
        },
    )
    def get(self, request: Request) -> Response:
        if not _may_use_station(request):
            return _refusal(_("The scan station is for hub staff."), code=status.HTTP_403_FORBIDDEN)
        body = transfer_cache(user=request.user)
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:32]
        etag = f'"{digest}"'
        # Compressed answers carry it weak (W/"..."), as the site's gzip middleware marks them.
        known = {tag.strip().removeprefix("W/") for tag in request.headers.get("If-None-Match", "").split(",")}
        response = Response(status=status.HTTP_304_NOT_MODIFIED) if etag in known else Response(body)
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response
