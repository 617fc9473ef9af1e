"""A person on WhatsApp, by every identity WhatsApp gives them.

Since 2026 a WhatsApp user is no longer only a phone number:

* ``phone`` — E.164 digits; WhatsApp may withhold it (a user who adopted a username);
* ``user_id`` — the business-scoped user id (BSUID), ``CC.`` + up to 128 alphanumerics
  (``US.13491208655302741918``), one per user *and business portfolio*; a new one is issued
  when the user changes number;
* ``parent_user_id`` — the same user across linked portfolios (``US.ENT.118157…``);
* ``username`` — a handle the user may set, change or drop at any time (never used to match);
* ``lid`` — the WhatsApp Web protocol's linked id (``1234567890@lid``), one per account.

wagate keys every record of a person (messages, conversations, consents, opt-outs, campaign
recipients) on one string, the *person key*: the phone when it is known, otherwise the BSUID,
otherwise the LID. A key that is not all digits is never shown as a phone: the API answers
``phone: null`` and puts the key into ``identities``.

Pure functions, no I/O; ``services.identities`` does the matching and merging.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from wagate.domain.phones import normalize_phone
from wagate.errors import ValidationError

BSUID_RE = re.compile(r"[A-Z]{2}\.[A-Za-z0-9]{1,128}")
PARENT_BSUID_RE = re.compile(r"[A-Z]{2}\.ENT\.[A-Za-z0-9]{1,128}")
LID_RE = re.compile(r"[0-9]{1,24}@lid")
USERNAME_RE = re.compile(r"@?[A-Za-z0-9._]{1,64}")
#: Something that looks like it was meant to be a BSUID (two letters and a dot).
_BSUID_LIKE = re.compile(r"[A-Za-z]{2}\.")

#: The longest person key: a BSUID (2 + 1 + 128).
KEY_LENGTH = 140

#: Matching order: the first identity that finds someone decides who the person is.
MATCH_ORDER = ("user_id", "phone", "lid", "parent_user_id")


def is_bsuid(value: str) -> bool:
    return BSUID_RE.fullmatch(value) is not None


def is_parent_bsuid(value: str) -> bool:
    return PARENT_BSUID_RE.fullmatch(value) is not None


def is_lid(value: str) -> bool:
    return LID_RE.fullmatch(value) is not None


def is_phone_key(key: str) -> bool:
    """A person key that is a phone number (E.164 digits)."""
    return key.isdigit()


def phone_of(key: str) -> str | None:
    """The phone a person key shows (``None`` for a BSUID or LID key)."""
    return key if is_phone_key(key) else None


@dataclass(frozen=True, slots=True)
class Identities:
    """What one event says about who a person is; any part may be missing."""

    phone: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = None
    lid: str | None = None

    def key(self) -> str | None:
        """The person key these identities give on their own (phone, else BSUID, else LID)."""
        return self.phone or self.user_id or self.lid

    def as_json(self) -> dict[str, str | None]:
        return {
            "phone": self.phone,
            "user_id": self.user_id,
            "parent_user_id": self.parent_user_id,
            "username": self.username,
            "lid": self.lid,
        }

    def __bool__(self) -> bool:
        return any((self.phone, self.user_id, self.parent_user_id, self.username, self.lid))


def identities_of_key(key: str) -> Identities:
    """What a bare person key says (a message to someone wagate has no contact card for)."""
    if is_phone_key(key):
        return Identities(phone=key)
    if is_lid(key):
        return Identities(lid=key)
    return Identities(user_id=key)


def identities_json(key: str, contact: Any | None) -> dict[str, str | None]:
    """``identities`` as the API shows them: the contact's, or what the key alone says."""
    if contact is None:
        return identities_of_key(key).as_json()
    return Identities(
        phone=phone_of(contact.phone),
        user_id=contact.user_id,
        parent_user_id=contact.parent_user_id,
        username=contact.username,
        lid=contact.lid,
    ).as_json()


@dataclass(frozen=True, slots=True)
class Address:
    """Where an outbound message goes: the person key and which identity it names."""

    key: str
    kind: str  # "phone" | "user_id" | "lid"


def parse_address(value: object, default_region: str, field: str = "to") -> Address:
    """``to`` as a door received it: a phone in any human format, a BSUID or a LID.

    A value that starts like a BSUID (two letters and a dot) but is not one is refused naming
    ``field``, never read as digits of a phone number.
    """
    if value is None or value == "":
        raise ValidationError(f"{field} is required", field=field, code="required")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValidationError(f"{field} must be a phone number or a user id", field=field)
    text = str(value).strip()
    if _BSUID_LIKE.match(text):
        if is_bsuid(text):
            return Address(text, "user_id")
        raise ValidationError(
            f"{field} is not a valid business-scoped user id (two capital letters, a dot, up to 128 letters or digits)",
            field=field,
            code="invalid_user_id",
        )
    if text.endswith("@lid"):
        if is_lid(text):
            return Address(text, "lid")
        raise ValidationError(f"{field} is not a valid LID", field=field, code="invalid_lid")
    return Address(normalize_phone(text, default_region, field), "phone")


def clean_identities(
    *,
    phone: object = None,
    user_id: object = None,
    parent_user_id: object = None,
    username: object = None,
    lid: object = None,
) -> Identities:
    """Identities from a provider's payload: malformed parts are dropped, not trusted."""

    def text(value: object) -> str | None:
        return value.strip() if isinstance(value, str) and value.strip() else None

    p = text(phone)
    if p is not None:
        p = p.lstrip("+")
        if not (p.isdigit() and 7 <= len(p) <= 15):
            p = None
    u = text(user_id)
    if u is not None and not is_bsuid(u):
        u = None
    pu = text(parent_user_id)
    if pu is not None and not is_parent_bsuid(pu):
        pu = None
    un = text(username)
    if un is not None and USERNAME_RE.fullmatch(un) is None:
        un = None
    li = text(lid)
    if li is not None and not is_lid(li):
        li = None
    return Identities(phone=p, user_id=u, parent_user_id=pu, username=un, lid=li)
