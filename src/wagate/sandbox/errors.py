"""The errors the simulator answers, in the Graph API's body and with Meta's codes and titles.

Written from Meta's public error-code reference for the Cloud API; the simulator is the
provider here, so it keeps its own catalogue rather than sharing the channel's reading of it.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

#: code → (HTTP status, title, type)
CATALOGUE: dict[int, tuple[int, str, str]] = {
    100: (400, "Invalid parameter", "OAuthException"),
    2500: (400, "Unknown path components", "OAuthException"),
    190: (401, "Invalid OAuth access token - Cannot parse access token", "OAuthException"),
    130429: (429, "Rate limit hit", "OAuthException"),
    131000: (500, "Something went wrong", "OAuthException"),
    131008: (400, "Required parameter is missing", "OAuthException"),
    131009: (400, "Parameter value is not valid", "OAuthException"),
    131026: (400, "Message undeliverable", "OAuthException"),
    131047: (400, "Re-engagement message", "OAuthException"),
    131051: (400, "Unsupported message type", "OAuthException"),
    131053: (400, "Media upload error", "OAuthException"),
    132000: (400, "Number of parameters does not match the expected number of params", "OAuthException"),
    132001: (404, "Template name does not exist in the translation", "OAuthException"),
    132005: (400, "Translated text too long", "OAuthException"),
    132007: (400, "Template format character policy violated", "OAuthException"),
    132012: (400, "Template parameter format mismatch", "OAuthException"),
    132015: (400, "Template is paused", "OAuthException"),
    132016: (400, "Template is disabled", "OAuthException"),
    131049: (400, "This message was not delivered to maintain healthy ecosystem engagement.", "OAuthException"),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit", "OAuthException"),
    130472: (400, "User's number is part of an experiment", "OAuthException"),
    80007: (400, "Rate limit issues", "OAuthException"),
}

TRACE_ALPHABET = string.ascii_letters + string.digits


def fbtrace_id() -> str:
    return "A" + "".join(secrets.choice(TRACE_ALPHABET) for _ in range(22))


@dataclass(eq=False)
class GraphApiError(Exception):
    """Raised by the simulator's logic; the route turns it into the Graph error answer."""

    code: int
    details: str | None = None
    subcode: int | None = None
    message: str | None = None

    @property
    def http_status(self) -> int:
        return CATALOGUE.get(self.code, (400, "", ""))[0]

    @property
    def title(self) -> str:
        return CATALOGUE.get(self.code, (400, "Unknown error", ""))[1]

    def body(self) -> dict[str, Any]:
        """``{"error": {"message", "type", "code", "error_data", "fbtrace_id"}}`` as Meta sends it."""
        error: dict[str, Any] = {
            "message": self.message or (f"(#{self.code}) {self.title}" if self.code != 190 else self.title),
            "type": CATALOGUE.get(self.code, (400, "", "OAuthException"))[2] or "OAuthException",
            "code": self.code,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.code not in (190, 2500) and self.subcode is None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details or self.title}
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}

    def webhook_item(self) -> dict[str, Any]:
        """The same error as a ``statuses[].errors[]`` item of a ``failed`` webhook."""
        return {
            "code": self.code,
            "title": self.title,
            "message": self.title,
            "error_data": {"details": self.details or self.title},
        }


def unsupported(method: str, node: str) -> GraphApiError:
    """Graph's answer for an object that does not exist (or does not support the method): code 100, subcode 33."""
    return GraphApiError(
        100,
        subcode=33,
        message=(
            f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, cannot be loaded due "
            "to missing permissions, or does not support this operation. Please read the Graph API documentation "
            "at https://developers.facebook.com/docs/graph-api"
        ),
    )


def unknown_path(path: str) -> GraphApiError:
    """Graph's answer for a path it has no edge for: code 2500."""
    return GraphApiError(2500, message=f"Unknown path components: /{path}")
