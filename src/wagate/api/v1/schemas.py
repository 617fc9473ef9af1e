"""The message models of the native API (requests and responses), and the JSON shape of a stored message."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from wagate.api.models import RequestBody, ResponseBody
from wagate.domain.identities import identities_json, is_lid, is_phone_key, phone_of
from wagate.domain.pricing import NOT_BILLED, UNBILLED_KINDS

MessageTypeName = Literal[
    "text", "image", "document", "audio", "voice", "video", "location", "contacts", "template", "reaction"
]
StatusName = Literal[
    "queued", "sending", "sent", "delivered", "read", "failed", "expired", "cancelled", "unknown", "received"
]


class MediaIn(RequestBody):
    """A file to send: a public ``url``, or the ``id`` of an upload (``POST /v1/media``)."""

    url: str | None = None
    id: str | None = None
    filename: str | None = None
    caption: str | None = None
    mime_type: str | None = None


class TemplateIn(RequestBody):
    name: str
    language: str = "en"
    params: list[str] = Field(default_factory=list, description="Values for {{1}}, {{2}} … in order")


class LocationIn(RequestBody):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class MessageIn(RequestBody):
    """One outbound message. ``to`` is a phone in any human format or a BSUID (``US.1349…``);
    ``channel`` defaults to the tenant's default."""

    to: str = Field(
        description="A phone in any human format (`+7 900 123-45-67`), stored as E.164 digits, or a BSUID (`US.1349…`)"
    )
    type: MessageTypeName = "text"
    channel: str | None = Field(default=None, description="A channel name; the default channel when absent")
    text: str | None = None
    media: MediaIn | None = None
    location: LocationIn | None = None
    contacts: list[dict[str, Any]] | None = Field(default=None, description="Contact cards, in the Cloud API's shape")
    template: TemplateIn | None = None
    validity_seconds: int | None = Field(default=None, description="Expire if not sent within this many seconds")
    callback_url: str | None = Field(default=None, description="Status callbacks for this message only")
    callback_data: str | None = None
    operator: str | None = None
    client_ref: str | None = Field(default=None, description="The CRM's own reference, echoed back")
    reply_to: int | None = Field(default=None, description="A wagate message id to quote (channels that can)")
    reaction: dict[str, Any] | None = Field(
        default=None, description='`{"message_id", "emoji"}` for `type: "reaction"` (channels that can)'
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"to": "+7 900 123-45-67", "text": "Your order is ready"},
                {"to": "79001234567", "type": "template", "template": {"name": "order_ready", "params": ["1042"]}},
            ]
        }
    )


class MessageBatchIn(RequestBody):
    messages: list[MessageIn] = Field(min_length=1, max_length=1000)


class ItemError(ResponseBody):
    code: str
    message: str
    field: str | None = None


class AcceptedMessage(ResponseBody):
    """A message accepted for sending (202)."""

    id: int
    status: Literal["queued"]
    to: str
    channel: str
    type: str
    client_ref: str | None = None
    created_at: str | None = None
    expires_at: str | None = None
    warnings: list[ItemError] | None = Field(default=None, description="Policy rules in warn mode that matched")


class BatchItem(ResponseBody):
    """One item of a batch: ``index`` plus either the accepted message or ``error``."""

    index: int
    id: int | None = None
    status: str | None = None
    error: ItemError | None = None


class BatchAccepted(ResponseBody):
    accepted: int
    rejected: int
    results: list[BatchItem]


class StatusChange(ResponseBody):
    status: str
    at: str | None
    reason: str | None = None
    error_code: str | None = None
    applied: bool


class MessageOut(ResponseBody):
    """A stored message (outbound or inbound). Its content fields (``text``, ``media`` …) follow ``type``."""

    id: int
    direction: Literal["in", "out"]
    channel: str | None
    phone: str | None
    type: str
    status: StatusName
    error: ItemError | None = None
    provider_id: str | None = None
    client_ref: str | None = None
    callback_url: str | None = None
    callback_data: str | None = None
    operator: str | None = None
    origin: str | None = None
    campaign_id: int | None = None
    attempts: int
    created_at: str | None
    updated_at: str | None
    expires_at: str | None = None
    history: list[StatusChange] | None = Field(default=None, description="Present on a single message")
    identities: dict[str, str | None] | None = Field(
        default=None,
        description="Every way WhatsApp addresses the person: phone, user_id, parent_user_id, username, lid",
    )
    sent_to: dict[str, str] | None = Field(default=None, description='Which identity a send went to: {"kind", "value"}')
    pricing: dict[str, Any] | None = Field(
        default=None, description="The provider's pricing of the message, once known"
    )
    cost: dict[str, Any] | None = Field(default=None, description='{"amount", "currency"} from the tenant\'s rate card')
    waiting: dict[str, Any] | None = Field(
        default=None,
        description='A queued outbound message: {"reason", "message", "until"} of the pacing rule holding it, or null',
    )


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


def sent_to_json(row: Any) -> dict[str, str] | None:
    """Which identity an outbound message was addressed to: ``{"kind", "value"}``."""
    value = getattr(row, "sent_to", None)
    if row.direction != "out" or not value:
        return None
    kind = "phone" if is_phone_key(value) else "lid" if is_lid(value) else "user_id"
    return {"kind": kind, "value": value}


def message_json(row: Any, history: list[Any] | None = None, contact: Any | None = None) -> dict[str, Any]:
    """The native representation of a message row (joined with its channel name).

    ``phone`` is ``null`` for someone whose phone WhatsApp withholds; ``identities`` are the
    person's (``contact``, their card, when the caller looked it up; else what the key says).
    """
    payload = row.payload or {}
    sent_to = sent_to_json(row)
    data: dict[str, Any] = {
        "id": row.id,
        "direction": row.direction,
        "channel": row.channel_name,
        "phone": phone_of(row.phone),
        ("to" if row.direction == "out" else "from"): sent_to["value"] if sent_to else row.phone,
        "identities": identities_json(row.phone, contact),
        "sent_to": sent_to,
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
