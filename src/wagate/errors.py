"""The one exception tree of wagate.

Domain code raises these; each API door (native, WAMM-style, Devino-style) translates
them once, at its edge, into its own error dialect. ``code`` is a stable machine
identifier, ``field`` names the offending input where there is one.

    WagateError
    ├── ValidationError        bad input (→ 422/400)
    ├── NotFoundError          (→ 404)
    ├── ConflictError          (→ 409)
    ├── AuthError              (→ 401) / ForbiddenError (→ 403)
    ├── PolicyError            a business rule refused the message (→ 422)
    ├── DatabaseUnavailable    the database cannot take the request now (→ 503 + Retry-After)
    └── ChannelError
        ├── SendError          a channel could not send; ``retryable`` says whether to try again
        └── DeliveryUnknown    the provider may or may not have the message (e.g. a read timeout)
"""

from __future__ import annotations

from typing import Any


class WagateError(Exception):
    """Base of every error wagate raises on purpose."""

    status_code = 400
    default_code = "error"

    def __init__(
        self, message: str, *, code: str | None = None, field: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.details = details or {}


class ValidationError(WagateError):
    status_code = 422
    default_code = "invalid"


class NotFoundError(WagateError):
    status_code = 404
    default_code = "not_found"


class ConflictError(WagateError):
    status_code = 409
    default_code = "conflict"


class AuthError(WagateError):
    status_code = 401
    default_code = "unauthorized"


class ForbiddenError(WagateError):
    status_code = 403
    default_code = "forbidden"


class PolicyError(WagateError):
    """A business rule (consent, window, template, limits) refused the message."""

    status_code = 422
    default_code = "policy"


class DatabaseUnavailable(WagateError):
    """The database cannot take the request now (stopped, unreachable, out of disk or connections).

    Nothing was written. Every door answers 503 with ``Retry-After`` in its own dialect; the node
    keeps running and recovers by itself once the database does.
    """

    status_code = 503
    default_code = "unavailable"
    retry_after_seconds = 5


class ChannelError(WagateError):
    status_code = 502
    default_code = "channel_error"


class SendError(ChannelError):
    """A failed send. ``retryable`` errors go back to the queue with backoff; others fail the message.

    ``retry_after`` (seconds) is the channel's own hint, e.g. from a rate-limit answer;
    ``throttle_channel`` makes it hold the whole channel, not only this message.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        retryable: bool,
        retry_after: float | None = None,
        provider_code: str | None = None,
        throttle_channel: bool = False,
    ) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable
        self.retry_after = retry_after
        self.provider_code = provider_code
        #: The provider refused for the channel's throughput, not this message: the whole channel
        #: waits ``retry_after`` before its next send.
        self.throttle_channel = throttle_channel


class DeliveryUnknown(ChannelError):
    """The request may have reached the provider, but no answer came back (a timeout after sending,
    a dropped connection). The dispatcher marks the message ``unknown`` — or, on a channel whose
    re-sending is safe, tries again — and never resends blindly.
    """

    default_code = "unknown_outcome"
