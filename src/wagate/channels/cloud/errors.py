"""Graph API errors, as the Cloud API reports them, and what they mean to wagate.

Meta answers a failed request with ``{"error": {"message", "type", "code", "error_subcode",
"error_data": {"messaging_product", "details"}, "fbtrace_id"}}`` and reports later delivery
failures in ``statuses[].errors[]`` of a webhook (``{"code", "title", "message",
"error_data": {"details"}}``). Both carry the same numeric codes; ``classify`` turns a code
into a stable wagate error code and the dispatcher's question: can trying again help?

Decisions (see docs/channels.md):

* throughput and temporary platform errors (130429, 131056, 4, 80007, 131000, 131016, 2,
  5xx, timeouts) are retried, with Meta's own pause where it documents one;
* credential and account errors (190, 10, 200, 133010, 131031) are retried too, with a
  long pause: they are the operator's to fix, not the message's fault, and failing a whole
  queue because a token expired would be worse than waiting;
* everything about the message or the recipient (131026 not on WhatsApp, 131047 outside
  the 24-hour window, 132000/132001 template errors, 100 invalid parameter, 131051
  unsupported type …) fails the message at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wagate.errors import SendError

#: Graph code → (wagate code, retryable, pause in seconds before the next try or None).
CODES: dict[int, tuple[str, bool, float | None]] = {
    # throughput
    130429: ("rate_limited", True, 1.0),
    131056: ("pair_rate_limited", True, 6.0),
    131048: ("spam_rate_limited", True, 60.0),
    4: ("rate_limited", True, 60.0),
    80007: ("rate_limited", True, 60.0),
    613: ("rate_limited", True, 60.0),
    # temporary platform trouble
    1: ("provider_error", True, None),
    2: ("provider_unavailable", True, None),
    131000: ("provider_error", True, None),
    131016: ("provider_unavailable", True, None),
    131057: ("provider_unavailable", True, 60.0),
    # the channel's credentials or account: the operator must act
    190: ("auth_failed", True, 60.0),
    10: ("permission_denied", True, 60.0),
    200: ("permission_denied", True, 60.0),
    3: ("permission_denied", True, 60.0),
    133010: ("channel_not_registered", True, 60.0),
    131031: ("account_locked", True, 300.0),
    # the recipient
    131026: ("not_on_whatsapp", False, None),
    131047: ("outside_service_window", False, None),
    131049: ("meta_declined", False, None),
    131050: ("recipient_opted_out", False, None),
    131021: ("recipient_is_sender", False, None),
    130472: ("recipient_in_experiment", False, None),
    # the message
    100: ("invalid_parameter", False, None),
    131008: ("missing_parameter", False, None),
    131009: ("invalid_parameter", False, None),
    131051: ("unsupported_type", False, None),
    131052: ("media_download_error", False, None),
    131053: ("media_upload_error", False, None),
    132000: ("template_params_mismatch", False, None),
    132001: ("template_not_found", False, None),
    132005: ("template_too_long", False, None),
    132007: ("template_policy_violation", False, None),
    132012: ("template_param_format", False, None),
    132015: ("template_paused", False, None),
    132016: ("template_disabled", False, None),
}

#: Codes whose meaning is "this number cannot receive WhatsApp messages".
NOT_ON_WHATSAPP = frozenset({131026})


@dataclass(eq=False)
class GraphError(Exception):
    """A Graph API error answer (or a webhook ``errors[]`` item), parsed.

    A plain (mutable) dataclass: Python writes ``__traceback__`` on exceptions it raises.
    """

    code: int
    message: str
    http_status: int = 400
    title: str | None = None
    details: str | None = None
    subcode: int | None = None
    type: str | None = None
    fbtrace_id: str | None = None
    retry_after: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """One human line: title, code and Meta's details (what the CRM and the dashboard show)."""
        head = self.title or self.message or "Graph API error"
        text = f"{head} (Graph error {self.code})"
        if self.details and self.details not in head:
            text += f": {self.details}"
        return text


def as_object(parent: Any, key: str) -> dict[str, Any]:
    """``parent[key]`` if it is a JSON object, else ``{}`` (provider bodies are not trusted to be well formed)."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_error_body(body: Any, http_status: int, retry_after: float | None = None) -> GraphError:
    """``{"error": {...}}`` → ``GraphError``; anything else becomes a generic error of that status."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return GraphError(
            code=0,
            message=f"HTTP {http_status} without a Graph error body",
            http_status=http_status,
            retry_after=retry_after,
        )
    data = as_object(error, "error_data")
    message = str(error.get("message") or "")
    return GraphError(
        code=_int(error.get("code")) or 0,
        message=message,
        http_status=http_status,
        title=_title_from_message(message) or error.get("error_user_title"),
        details=str(data.get("details")) if data.get("details") else None,
        subcode=_int(error.get("error_subcode")),
        type=error.get("type"),
        fbtrace_id=error.get("fbtrace_id"),
        retry_after=retry_after,
        raw=error,
    )


def _title_from_message(message: str) -> str | None:
    """Graph messages read ``(#131026) Message undeliverable``: the title is after the code."""
    if message.startswith("(#") and ") " in message:
        return message.split(") ", 1)[1] or None
    return message or None


def parse_status_error(item: dict[str, Any]) -> GraphError:
    """One ``statuses[].errors[]`` item of a webhook."""
    data = as_object(item, "error_data")
    title = item.get("title") or item.get("message")
    return GraphError(
        code=_int(item.get("code")) or 0,
        message=str(item.get("message") or title or ""),
        title=str(title) if title else None,
        details=str(data.get("details")) if data.get("details") else None,
        raw=item,
    )


def classify(error: GraphError) -> tuple[str, bool, float | None]:
    """(wagate code, retryable, pause) for a Graph error; unknown codes go by HTTP status."""
    known = CODES.get(error.code)
    if known is not None:
        code, retryable, pause = known
        return code, retryable, error.retry_after if error.retry_after is not None else pause
    if error.http_status == 429:
        return "rate_limited", True, error.retry_after or 1.0
    if error.http_status >= 500:
        return "provider_error", True, error.retry_after
    return "provider_rejected", False, None


def to_send_error(error: GraphError) -> SendError:
    code, retryable, pause = classify(error)
    return SendError(error.describe(), code=code, retryable=retryable, retry_after=pause, provider_code=str(error.code))
