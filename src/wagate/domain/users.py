"""Dashboard users: what a valid login, password, role and locale are. Pure, no I/O.

Hashing lives in ``services.users`` (argon2id via argon2-cffi); here only the rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wagate.errors import ValidationError

ROLES = ("admin", "operator")
LOCALES = ("en", "ru")
LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@\-]{1,63}$")
MIN_PASSWORD = 8
#: argon2 hashes anything, but a megabyte "password" is a denial-of-service, not a secret.
MAX_PASSWORD = 256
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class UserFields:
    login: str
    role: str
    name: str | None
    locale: str


def check_login(value: object, field: str = "login") -> str:
    if not isinstance(value, str) or not LOGIN_RE.match(value.strip()):
        raise ValidationError(
            "a login is 2–64 letters, digits, dots, dashes, underscores or @, starting with a letter or digit",
            field=field,
        )
    return value.strip().lower()


def check_password(value: object, field: str = "password") -> str:
    if not isinstance(value, str) or len(value) < MIN_PASSWORD:
        raise ValidationError(f"a password has at least {MIN_PASSWORD} characters", field=field, code="weak_password")
    if len(value) > MAX_PASSWORD:
        raise ValidationError(f"a password has at most {MAX_PASSWORD} characters", field=field)
    return value


def check_role(value: object, field: str = "role") -> str:
    if value not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}", field=field)
    return str(value)


def check_locale(value: object, field: str = "locale") -> str:
    """One of ``LOCALES``, or ``""``: no saved choice, the pages follow the browser's language."""
    if value != "" and value not in LOCALES:
        raise ValidationError(f"locale must be one of {', '.join(LOCALES)}", field=field)
    return str(value)


def check_name(value: object, field: str = "name") -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_NAME:
        raise ValidationError(f"a name is text of at most {MAX_NAME} characters", field=field)
    return value.strip() or None


def user_fields(data: Mapping[str, Any]) -> UserFields:
    """A new user's fields (the password is checked separately: it is never kept as given)."""
    return UserFields(
        login=check_login(data.get("login")),
        role=check_role(data.get("role", "operator")),
        name=check_name(data.get("name")),
        locale=check_locale(data.get("locale") or ""),
    )
