"""The simulated WhatsApp users: their business-scoped ids and who hides their phone.

Meta's 2026 shapes (business-scoped user IDs): every webhook about a user carries their BSUID
(``contacts[].user_id``, ``messages[].from_user_id``, ``statuses[].recipient_user_id``); the
phone (``wa_id``, ``from``, ``recipient_id``) only when WhatsApp may share it. A BSUID is the
user's ISO 3166 country code, a dot and digits (``US.13491208655302741918``), one per user and
business portfolio, so the simulator derives it from the phone and its WABA: the same number
always gets the same BSUID in one sandbox, and a new one when its id changes.

Deterministic behaviour: a number ending in ``9999`` hides its phone (its webhooks carry only
the BSUID); a user injected with only ``user_id`` has no phone at all.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import phonenumbers

BSUID_RE = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9]{1,128}$")
USERNAME_RE = re.compile(r"^@?[A-Za-z0-9._]{1,64}$")


def hides_phone(phone: str) -> bool:
    return phone.endswith("9999")


def region_of(phone: str) -> str:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + phone))
    except phonenumbers.NumberParseException:
        region = None
    return region if region and len(region) == 2 and region.isalpha() else "US"


def derive_user_id(phone: str, portfolio: str, generation: int = 0) -> str:
    digest = hashlib.sha256(f"{portfolio}:{phone}:{generation}".encode()).hexdigest()
    return f"{region_of(phone)}.{int(digest, 16) % 10**20:020d}"


@dataclass(slots=True)
class SimUser:
    user_id: str
    phone: str | None
    username: str | None = None
    parent_user_id: str | None = None
    generation: int = 0

    @property
    def visible_phone(self) -> str | None:
        """The phone webhooks may carry (``None`` when the user hides it or has none)."""
        return self.phone if self.phone and not hides_phone(self.phone) else None

    def contact(self, name: str | None = None) -> dict[str, Any]:
        """The ``contacts[]`` item Meta sends about this user."""
        profile: dict[str, Any] = {}
        if name:
            profile["name"] = name
        if self.username:
            profile["username"] = self.username
        item: dict[str, Any] = {"profile": profile}
        if self.visible_phone:
            item["wa_id"] = self.visible_phone
        item["user_id"] = self.user_id
        if self.parent_user_id:
            item["parent_user_id"] = self.parent_user_id
        return item


class Directory:
    """Every user the simulated number has heard of, by phone and by BSUID."""

    def __init__(self, portfolio: str) -> None:
        self.portfolio = portfolio
        self.by_phone: dict[str, SimUser] = {}
        self.by_id: dict[str, SimUser] = {}

    def for_phone(self, phone: str) -> SimUser:
        user = self.by_phone.get(phone)
        if user is None:
            user = SimUser(user_id=derive_user_id(phone, self.portfolio), phone=phone)
            self.by_phone[phone] = user
            self.by_id[user.user_id] = user
        return user

    def for_user_id(self, user_id: str, create: bool = False) -> SimUser | None:
        user = self.by_id.get(user_id)
        if user is None and create:
            user = SimUser(user_id=user_id, phone=None)
            self.by_id[user_id] = user
        return user

    def change_user_id(self, user: SimUser) -> str:
        """Issue ``user`` a new BSUID (the old one stops working); returns the previous one."""
        previous = user.user_id
        user.generation += 1
        seed = user.phone or previous
        user.user_id = derive_user_id(seed, self.portfolio, user.generation)
        if not user.phone:
            user.user_id = f"{previous.split('.', 1)[0]}.{user.user_id.split('.', 1)[1]}"
        self.by_id.pop(previous, None)
        self.by_id[user.user_id] = user
        return previous
