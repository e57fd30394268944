"""OpenAPI description of the public impact JSON, added to the generated schema by a drf-spectacular hook.

The endpoint is a plain Django view (see impact.api), which drf-spectacular cannot see by itself.
"""

from typing import Any

_FIGURES = {
    "devices_received": {"type": "integer"},
    "devices_refurbished": {"type": "integer", "description": "Devices that reached 'configured'."},
    "devices_delivered": {"type": "integer"},
    "beneficiaries_reached": {"type": "integer"},
    "ewaste_recycled_kg": {"type": "number"},
    "ewaste_compensated_kg": {
        "type": "number",
        "description": "Kilograms of e-waste recycled at African hubs and allocated to donors' e-Resource commitments.",
    },
}
_MONTHLY = {
    "devices_received": {"type": "integer"},
    "devices_delivered": {"type": "integer"},
    "beneficiaries_reached": {"type": "integer"},
}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


IMPACT_SUMMARY_SCHEMA = _object(
    {
        **_FIGURES,
        "updated_at": {"type": "string", "format": "date-time"},
        "by_hub": {
            "type": "array",
            "items": _object(
                {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "country": {"type": "string"},
                    "kind": _object(
                        {
                            "code": {"type": "string", "example": "refurbishing_hub"},
                            "name": {"type": "string", "description": "In English."},
                            "description": {"type": "string", "description": "What the hub does, in English."},
                        }
                    ),
                    **_FIGURES,
                }
            ),
        },
        "by_country": {"type": "array", "items": _object({"country": {"type": "string"}, **_FIGURES})},
        "by_project_kind": {
            "type": "array",
            "items": _object({"kind": {"type": "string"}, "label": {"type": "string"}, **_FIGURES}),
        },
        "monthly": {"type": "array", "items": _object({"month": {"type": "string", "example": "2026-11"}, **_MONTHLY})},
        "environment": _object(
            {
                "is_estimate": {"type": "boolean"},
                "co2e_avoided_kg": {"type": "integer"},
                "co2e_avoided_by_reuse_kg": {"type": "integer"},
                "co2e_avoided_by_recycling_kg": {"type": "integer"},
                "basis": {"type": "string", "enum": ["platform"]},
                "ewaste_diverted_kg": {"type": "number"},
                "ewaste_recycled_through_platform_kg": {"type": "number"},
                "ewaste_historic_kg": {"type": "number"},
                "method": {"type": "string"},
                "factors": {
                    "type": "array",
                    "items": _object(
                        {
                            "applies_to": {"type": "string"},
                            "label": {"type": "string"},
                            "kg_co2e": {"type": "number"},
                            "source": {"type": "string"},
                            "source_url": {"type": "string"},
                        }
                    ),
                },
            }
        ),
    }
)


def add_public_impact_path(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["ImpactSummary"] = IMPACT_SUMMARY_SCHEMA
    result.setdefault("paths", {})["/api/v1/impact/"] = {
        "get": {
            "operationId": "impact_summary",
            "summary": "Public impact totals",
            "description": (
                "Live totals, by hub, country, project kind and month, with a CO2e estimate. Public, no "
                "authentication; readable cross-origin; send If-None-Match with the last ETag to get 304."
            ),
            "tags": ["impact"],
            "security": [{}],
            "responses": {
                "200": {
                    "description": "The figures",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ImpactSummary"}}},
                },
                "304": {"description": "Not modified since the ETag sent in If-None-Match"},
            },
        }
    }
    return result
