"""Request models for the OpenAPI document, and the JSON shape of a stored message."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from wagate.domain.pricing import NOT_BILLED, UNBILLED_KINDS


class MediaIn(BaseModel):
    url: str | None = None
    id: str | None = None
    filename: str | None = None
    caption: str | None = None
    mime_type: str | None = None


class TemplateIn(BaseModel):
    name: str
    language: str = "en"
    params: list[str] = Field(default_factory=list)


class MessageIn(BaseModel):
    """One outbound message. ``to`` accepts any human format; ``channel`` defaults to the tenant's default."""

    to: str
    type: str = "text"
    channel: str | None = None
    text: str | None = None
    media: MediaIn | None = None
    location: dict[str, Any] | None = None
    contacts: list[dict[str, Any]] | None = None
    template: TemplateIn | None = None
    validity_seconds: int | None = None
    callback_url: str | None = None
    callback_data: str | None = None
    operator: str | None = None
    client_ref: str | None = None


class MessageBatchIn(BaseModel):
    messages: list[MessageIn] = Field(max_length=1000)


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def pricing_fields(row: Any) -> dict[str, Any]:
    """``pricing`` and ``cost`` of a message once known; outbound messages of channels nobody bills per
    message (device, web) say so: ``pricing.type`` ``not_billed`` and a cost of 0."""
    pricing = getattr(row, "pricing", None)
    amount = getattr(row, "cost_amount", None)
    if pricing is None and row.direction == "out" and getattr(row, "channel_kind", None) in UNBILLED_KINDS:
        return {"pricing": dict(NOT_BILLED), "cost": {"amount": 0.0, "currency": None}}
    cost = {"amount": amount, "currency": getattr(row, "cost_currency", None)} if amount is not None else None
    return {"pricing": pricing, "cost": cost}


def message_json(row: Any, history: list[Any] | None = None) -> dict[str, Any]:
    """The native representation of a message row (joined with its channel name)."""
    payload = row.payload or {}
    data: dict[str, Any] = {
        "id": row.id,
        "direction": row.direction,
        "channel": row.channel_name,
        "phone": row.phone,
        ("to" if row.direction == "out" else "from"): row.phone,
        "type": row.type,
        **payload,
        "status": row.status,
        "error": {"code": row.error_code, "message": row.error_message} if row.error_code else None,
        "provider_id": row.provider_id,
        "client_ref": row.client_ref,
        "callback_url": row.callback_url,
        "callback_data": row.callback_data,
        "operator": row.operator,
        "origin": row.origin,
        "campaign_id": row.campaign_id,
        "attempts": row.attempts,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "expires_at": iso(row.expires_at),
        **pricing_fields(row),
    }
    if history is not None:
        data["history"] = [
            {
                "status": h.status,
                "at": iso(h.at),
                "reason": h.reason,
                "error_code": h.error_code,
                "applied": bool(h.applied),
            }
            for h in history
        ]
    return data
