"""Webhook subscriptions as the domain sees them: what may be subscribed to, where, in which format.

Pure Python: the API validates a body here, the fan-out asks here which events belong together
(the ordering key). No HTTP, no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from wagate.errors import ValidationError

#: The event types a subscription may ask for (CONTRACT §4).
EVENT_TYPES: tuple[str, ...] = (
    "message.status",
    "message.received",
    "channel.status",
    "consent.changed",
    "campaign.paused",
    "template.status",
    "callback.requested",
)
FORMATS: tuple[str, ...] = ("native", "devino")
#: The Devino dialect only knows status callbacks and incoming messages.
DEVINO_EVENTS: frozenset[str] = frozenset({"message.status", "message.received"})
MAX_URL = 2048
MAX_DESCRIPTION = 200


@dataclass(frozen=True, slots=True)
class SubscriptionDraft:
    url: str
    events: list[str]
    format: str
    description: str | None


def validate_url(value: object, field: str = "url") -> str:
    """An absolute http(s) URL with a host. Other schemes (file:, ftp:, javascript:) are refused."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} is required", field=field, code="required")
    url = value.strip()
    if len(url) > MAX_URL:
        raise ValidationError(f"{field} is longer than {MAX_URL} characters", field=field, code="too_long")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError as exc:
        raise ValidationError(f"{field} is not a valid URL", field=field) from exc
    if parts.scheme not in ("http", "https"):
        raise ValidationError(f"{field} must be an http or https URL", field=field, code="invalid_scheme")
    if not parts.hostname:
        raise ValidationError(f"{field} needs a host", field=field)
    if port == 0:
        raise ValidationError(f"{field} has an invalid port", field=field)
    return url


def validate_events(value: object, fmt: str, field: str = "events") -> list[str]:
    if not isinstance(value, list) or not value:
        raise ValidationError(
            f"{field} must be a non-empty list of: {', '.join(EVENT_TYPES)}", field=field, code="required"
        )
    events: list[str] = []
    for index, item in enumerate(value):
        if item not in EVENT_TYPES:
            raise ValidationError(f"unknown event {item!r}; known: {', '.join(EVENT_TYPES)}", field=f"{field}[{index}]")
        if fmt == "devino" and item not in DEVINO_EVENTS:
            raise ValidationError(
                f"the devino format has no {item!r} callback (only message.status, message.received)",
                field=f"{field}[{index}]",
            )
        if item not in events:
            events.append(item)
    return events


def validate_format(value: object, field: str = "format") -> str:
    if value is None:
        return "native"
    if value not in FORMATS:
        raise ValidationError(f"{field} must be one of: {', '.join(FORMATS)}", field=field)
    return str(value)


def validate_subscription(body: dict[str, Any]) -> SubscriptionDraft:
    fmt = validate_format(body.get("format"))
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        raise ValidationError(
            f"description must be a string of at most {MAX_DESCRIPTION} characters", field="description"
        )
    return SubscriptionDraft(
        url=validate_url(body.get("url")),
        events=validate_events(body.get("events"), fmt),
        format=fmt,
        description=description,
    )


def ordering_key(event_type: str, message_id: int | None, payload: dict[str, Any]) -> str | None:
    """Events with the same key are delivered to one target strictly in order.

    A message's events share its id (``read`` never overtakes ``delivered``); a channel's status
    events share the channel; a phone's consent events share the phone. ``None``: no constraint.
    """
    if message_id is not None:
        return f"m:{message_id}"
    if event_type == "channel.status" and payload.get("channel") is not None:
        return f"c:{str(payload['channel'])[:190]}"
    if event_type == "consent.changed" and payload.get("phone") is not None:
        return f"p:{str(payload['phone'])[:190]}"
    if event_type == "template.status" and payload.get("template_id") is not None:
        return f"t:{payload['template_id']}"
    return None


def target_of(subscription_id: int, url: str | None) -> str:
    """The concurrency bucket: a subscription, or the host of a per-message callback URL."""
    if url is None:
        return f"s:{subscription_id}"
    parts = urlsplit(url)
    return f"s:{subscription_id}:{parts.scheme}://{parts.netloc}"[:300]
