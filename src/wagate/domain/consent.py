"""Consent: who agreed to receive which notification types, and who asked us to stop.

A consent is per phone with a set of *scopes* (the notification types the client chose:
``marketing``, ``utility``, ``authentication`` or the tenant's own names). Opting in again
replaces the scopes (the latest choice is the whole choice); opting out revokes them all.
Pure rules only: the store keeps the state and its history, services write both together.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from wagate.domain.templates import validate_scope
from wagate.errors import PolicyError, ValidationError

SOURCES = ("web_form", "qr", "sms", "chat", "import", "api")
ACTIVE = "active"
REVOKED = "revoked"
MAX_SCOPES = 20
MAX_EVIDENCE_BYTES = 8192

DEFAULT_OPTOUT_KEYWORDS = ("STOP", "СТОП", "ОТПИСАТЬСЯ", "UNSUBSCRIBE")
DEFAULT_CONFIRMATION = {
    "en": "You have unsubscribed and will receive no more notifications from us. "
    "You can still write to us here at any time.",
    "ru": "Вы отписались и больше не будете получать от нас уведомления. Написать нам здесь можно в любое время.",
}
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


@dataclass(frozen=True, slots=True)
class ConsentState:
    """What the store knows about one phone; ``None`` in place of it means "never asked"."""

    status: str
    scopes: tuple[str, ...] = ()
    source: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OptIn:
    phone: Any
    source: str
    scopes: list[str]
    evidence: dict[str, Any] = field(default_factory=dict)
    consented_at: datetime | None = None


def validate_scopes(value: object, field: str = "scopes") -> list[str]:
    if value is None or value == []:
        raise ValidationError("scopes: choose at least one notification type", field=field, code="required")
    if isinstance(value, str):
        value = [s for s in (p.strip() for p in value.split(",")) if s]
    if not isinstance(value, list) or len(value) > MAX_SCOPES:
        raise ValidationError(f"scopes must be a list of at most {MAX_SCOPES} names", field=field)
    out: list[str] = []
    for index, scope in enumerate(value):
        checked = validate_scope(scope.lower() if isinstance(scope, str) else scope, f"{field}[{index}]")
        if checked not in out:
            out.append(checked)
    return sorted(out)


def validate_source(value: object, field: str = "source") -> str:
    if value is None:
        return "api"
    if not isinstance(value, str) or value not in SOURCES:
        raise ValidationError(f"source must be one of {', '.join(SOURCES)}", field=field)
    return value


def validate_evidence(value: object, field: str = "evidence") -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        value = {"text": value}
    if not isinstance(value, dict):
        raise ValidationError("evidence must be an object (or a string)", field=field)
    if len(orjson.dumps(value)) > MAX_EVIDENCE_BYTES:
        raise ValidationError(f"evidence is larger than {MAX_EVIDENCE_BYTES} bytes", field=field, code="too_long")
    return value


def validate_opt_in(data: Mapping[str, Any], prefix: str = "") -> OptIn:
    """The body of ``POST /v1/consents`` (phone normalisation is the service's, it knows the region)."""
    if data.get("phone") in (None, ""):
        raise ValidationError("phone is required", field=f"{prefix}phone", code="required")
    consented_at = data.get("consented_at")
    when: datetime | None = None
    if consented_at is not None:
        try:
            when = datetime.fromisoformat(str(consented_at).replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError("consented_at must be an ISO 8601 time", field=f"{prefix}consented_at") from exc
        if when.tzinfo is None:
            raise ValidationError("consented_at needs a time zone (e.g. Z)", field=f"{prefix}consented_at")
    return OptIn(
        phone=data["phone"],
        source=validate_source(data.get("source"), f"{prefix}source"),
        scopes=validate_scopes(data.get("scopes"), f"{prefix}scopes"),
        evidence=validate_evidence(data.get("evidence"), f"{prefix}evidence"),
        consented_at=when,
    )


def check_consent(state: ConsentState | None, scope: str | None) -> PolicyError | None:
    """Why a business-initiated message to this phone is not allowed, or ``None``.

    ``scope`` is the notification type the message belongs to; ``None`` means any active
    consent will do (a free-form message that starts a conversation).
    """
    if state is not None and state.status == REVOKED:
        return PolicyError("the client opted out of messages from us", code="opted_out", field="to")
    if state is None or state.status != ACTIVE or not state.scopes:
        wanted = f" for {scope!r}" if scope else ""
        return PolicyError(f"no consent from the client{wanted}", code="consent_required", field="to")
    if scope is not None and scope not in state.scopes:
        return PolicyError(
            f"the client consented to {', '.join(state.scopes)}, not to {scope!r}",
            code="consent_required",
            field="to",
        )
    return None


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold().strip()
    return folded.strip(" \t\r\n.!?,;:\"'«»()")


def match_optout_keyword(text: object, keywords: tuple[str, ...] | list[str]) -> str | None:
    """The keyword ``text`` consists of (case-insensitively, ignoring surrounding punctuation), or ``None``.

    Only a message that *is* the keyword counts: "stop sending me promos" is a conversation,
    not an instruction we could act on safely.
    """
    if not isinstance(text, str) or len(text) > 64:
        return None
    folded = _fold(text)
    for keyword in keywords:
        if folded and folded == _fold(keyword):
            return keyword
    return None


def confirmation_for(keyword: str, texts: Mapping[str, str]) -> str:
    """The confirmation in the keyword's script: Cyrillic keywords get the Russian text."""
    language = "ru" if _CYRILLIC.search(keyword) else "en"
    return texts.get(language) or texts.get("en") or ""
