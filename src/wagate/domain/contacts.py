"""Contact cards: the CRM's view of a client (name, info, email, web, tags)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wagate.domain import storable
from wagate.errors import ValidationError

LIMITS = {"name": 250, "info": 2000, "email": 150, "web": 150}
MAX_TAGS = 50
MAX_TAG = 64


@dataclass(slots=True)
class ContactFields:
    name: str | None = None
    info: str | None = None
    email: str | None = None
    web: str | None = None
    tags: list[str] = field(default_factory=list)


def validate_contact(data: dict[str, Any]) -> ContactFields:
    """Validate a contact body; every error names its field."""
    storable.check_fields({key: data.get(key) for key in (*LIMITS, "tags")})
    out = ContactFields()
    for key, limit in LIMITS.items():
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValidationError(f"{key} must be a string", field=key)
        if len(value) > limit:
            raise ValidationError(f"{key} is longer than {limit} characters", field=key, code="too_long")
        setattr(out, key, value)
    if out.email is not None and out.email and "@" not in out.email:
        raise ValidationError("email is not an e-mail address", field="email")
    tags = data.get("tags")
    if tags is not None:
        if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= MAX_TAG for t in tags):
            raise ValidationError("tags must be a list of short strings", field="tags")
        if len(tags) > MAX_TAGS:
            raise ValidationError(f"at most {MAX_TAGS} tags", field="tags", code="too_long")
        out.tags = sorted(set(tags))
    return out
