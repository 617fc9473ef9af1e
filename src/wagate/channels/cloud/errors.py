"""Graph API errors, as the Cloud API reports them, and what they mean to wagate.

Meta answers a failed request with ``{"error": {"message", "type", "code", "error_subcode",
"error_data": {"messaging_product", "details"}, "fbtrace_id"}}`` and reports later delivery
failures in ``statuses[].errors[]`` of a webhook (``{"code", "title", "message",
"error_data": {"details"}}``). Both carry the same numeric codes; ``classify`` turns a code
into a stable wagate error code and the dispatcher's question: can trying again help?

Each known code has a ``Meaning`` (``MEANINGS``): a stable wagate error name, an action
(retry, slow the channel, retry that recipient later, retry tomorrow, never retry, send a
template, fix the template / media / account) and a hint for the CRM. Decisions (see
docs/channels.md, "Errors by meaning"):

* throughput (130429, 80007) slows the whole channel; a pair rate limit (131056) retries
  that recipient later; temporary platform errors (131000, 131016, 2, 5xx) are retried;
* credential and account errors (190, 10, 200, 133010, 131031) are retried too, with a
  long pause: they are the operator's to fix, not the message's fault, and failing a whole
  queue because a token expired would be worse than waiting;
* everything about the message or the recipient (131026 not on WhatsApp, 131047 outside
  the 24-hour window, 131049 the per-user marketing limit, 130472 the experiment, 132xxx
  template errors, 131053 media upload …) fails the message at once, with a hint saying
  what the CRM should do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wagate.errors import SendError

#: What wagate does about an error (``Meaning.action``), stable names the other doors map:
#: ``retry`` — temporary: the dispatcher tries again (with ``pause`` when Meta documents one);
#: ``slow_channel`` — the channel's throughput was exceeded: the whole channel waits ``pause``;
#: ``retry_recipient_later`` — too many messages to this one recipient: it waits, others go on;
#: ``retry_tomorrow`` — Meta's per-user marketing limit: failed now, the CRM may try tomorrow;
#: ``never_retry`` — about the message or recipient: failed, trying again cannot help;
#: ``send_template`` — the 24-hour window is closed: the CRM should send an approved template;
#: ``fix_template`` — the template (or its parameters) is wrong, paused or disabled at Meta;
#: ``fix_media`` — the media could not be fetched or uploaded;
#: ``fix_account`` — credentials, permissions or account state: the operator must act (retried slowly).
ACTIONS = (
    "retry",
    "slow_channel",
    "retry_recipient_later",
    "retry_tomorrow",
    "never_retry",
    "send_template",
    "fix_template",
    "fix_media",
    "fix_account",
)


@dataclass(frozen=True, slots=True)
class Meaning:
    """What one Graph error code means to wagate.

    ``name`` is the stable wagate error code a failed message carries (``error.code``) and that
    the compatibility doors map onto their own codes; ``retryable`` / ``pause`` drive the
    dispatcher; ``billed`` says whether Meta charges for such an attempt; ``hint`` is what the CRM
    is told to do, appended to the error message.
    """

    name: str
    action: str
    retryable: bool
    pause: float | None = None
    billed: bool = False
    hint: str | None = None

    @property
    def throttles_channel(self) -> bool:
        return self.action == "slow_channel"


def _m(name: str, action: str, pause: float | None = None, hint: str | None = None) -> Meaning:
    retryable = action in ("retry", "slow_channel", "retry_recipient_later", "fix_account")
    return Meaning(name=name, action=action, retryable=retryable, pause=pause, hint=hint)


TEMPLATE_HINT = "check the template at Meta (status, parameters) and sync it"
#: Graph code → its meaning. Sources: Meta's Cloud API error codes reference
#: (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
MEANINGS: dict[int, Meaning] = {
    # throughput: slow the whole channel
    130429: _m("rate_limited", "slow_channel", 1.0, "the number's throughput (80 msg/s by default) was exceeded"),
    80007: _m("rate_limited", "slow_channel", 60.0, "the WhatsApp Business Account's rate limit was reached"),
    4: _m("rate_limited", "slow_channel", 60.0),
    613: _m("rate_limited", "slow_channel", 60.0),
    # one recipient
    131056: _m(
        "pair_rate_limited", "retry_recipient_later", 6.0, "too many messages to this recipient in a short time"
    ),
    131048: _m("spam_rate_limited", "retry", 60.0),
    131049: _m(
        "meta_declined",
        "retry_tomorrow",
        hint="Meta limits how many marketing messages one person receives; do not retry today",
    ),
    130472: _m(
        "recipient_in_experiment",
        "never_retry",
        hint="the recipient is in Meta's marketing message experiment; not billed; do not retry",
    ),
    131026: _m("not_on_whatsapp", "never_retry", hint="the number cannot receive WhatsApp messages"),
    131050: _m("recipient_opted_out", "never_retry", hint="the user stopped marketing messages from this business"),
    131021: _m("recipient_is_sender", "never_retry"),
    131047: _m(
        "outside_service_window",
        "send_template",
        hint="more than 24 hours since the customer wrote: send an approved template instead",
    ),
    # templates
    132000: _m("template_param_count", "fix_template", hint="the number of parameters does not match the template"),
    132001: _m(
        "template_not_found", "fix_template", hint="the template does not exist (or not approved) in this language"
    ),
    132005: _m("template_param_too_long", "fix_template", hint="the text with its parameters is too long"),
    132007: _m("template_policy_violation", "fix_template", hint="the content breaks WhatsApp's policy"),
    132012: _m(
        "template_param_format", "fix_template", hint="a parameter does not have the format the template expects"
    ),
    132015: _m("template_paused", "fix_template", hint="Meta paused the template for low quality"),
    132016: _m("template_disabled", "fix_template", hint="Meta disabled the template for low quality"),
    # media
    131052: _m("media_download_error", "fix_media", hint="Meta could not download the media from its URL"),
    131053: _m("media_upload_error", "fix_media", hint="the media could not be uploaded (type or size)"),
    # the message itself
    100: _m("invalid_parameter", "never_retry"),
    131008: _m("missing_parameter", "never_retry"),
    131009: _m("invalid_parameter", "never_retry"),
    131051: _m("unsupported_type", "never_retry"),
    # temporary platform trouble
    1: _m("provider_error", "retry"),
    2: _m("provider_unavailable", "retry"),
    131000: _m("provider_error", "retry"),
    131016: _m("provider_unavailable", "retry"),
    131057: _m("provider_unavailable", "retry", 60.0),
    # the channel's credentials or account: the operator must act; the queue waits instead of failing
    190: _m("auth_failed", "fix_account", 60.0),
    10: _m("permission_denied", "fix_account", 60.0),
    200: _m("permission_denied", "fix_account", 60.0),
    3: _m("permission_denied", "fix_account", 60.0),
    133010: _m("channel_not_registered", "fix_account", 60.0),
    131031: _m("account_locked", "fix_account", 300.0),
}
#: Graph code → (wagate code, retryable, pause): the dispatcher's view of ``MEANINGS``.
CODES: dict[int, tuple[str, bool, float | None]] = {
    code: (m.name, m.retryable, m.pause) for code, m in MEANINGS.items()
}


def meaning_of(error: GraphError) -> Meaning:
    """The meaning of a Graph error; unknown codes go by HTTP status."""
    known = MEANINGS.get(error.code)
    if known is not None:
        return known
    if error.http_status == 429:
        return _m("rate_limited", "slow_channel", 1.0)
    if error.http_status >= 500:
        return _m("provider_error", "retry")
    return _m("provider_rejected", "never_retry")


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
    """(wagate code, retryable, pause) for a Graph error; Meta's own ``Retry-After`` wins."""
    meaning = meaning_of(error)
    pause = error.retry_after if error.retry_after is not None else meaning.pause
    return meaning.name, meaning.retryable, pause if meaning.retryable else None


def describe_with_hint(error: GraphError) -> str:
    """Meta's words and what to do about them (what a failed message's ``error.message`` says)."""
    hint = meaning_of(error).hint
    text = error.describe()
    return f"{text} — {hint}" if hint and hint not in text else text


def to_send_error(error: GraphError) -> SendError:
    meaning = meaning_of(error)
    code, retryable, pause = classify(error)
    return SendError(
        describe_with_hint(error),
        code=code,
        retryable=retryable,
        retry_after=pause,
        provider_code=str(error.code),
        throttle_channel=meaning.throttles_channel,
    )
