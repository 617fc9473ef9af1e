"""Standard Webhooks signing (https://www.standardwebhooks.com), with the ``standardwebhooks`` library.

A receiver verifies with the same library::

    from standardwebhooks import Webhook
    Webhook(secret).verify(raw_body, request.headers)

During a secret rotation both the new and the previous secret sign each request (the header
carries two space-separated ``v1,`` signatures), so receivers can switch keys without a gap.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh ``whsec_…`` secret: 32 random bytes, base64 — the form the library expects."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@lru_cache(maxsize=1024)
def _webhook(secret: str) -> Webhook:
    return Webhook(secret)


def webhook_id(event_id: int) -> str:
    """The ``webhook-id``: the same for every retry and replay of an event, so receivers dedupe on it."""
    return f"evt_{event_id}"


def signature_headers(msg_id: str, body: str, when: datetime, secrets_in_use: Sequence[str]) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body`` (the exact text that is sent)."""
    stamp = when.astimezone(UTC)  # the library reads the value as UTC; give it an aware UTC one
    signatures = " ".join(_webhook(secret).sign(msg_id, stamp, body) for secret in secrets_in_use)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": signatures,
    }
