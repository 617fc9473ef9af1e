"""Characters a database cannot store, found or replaced in any JSON-shaped value.

PostgreSQL's ``text`` and ``jsonb`` reject NUL (U+0000), and no UTF-8 column can hold a lone
surrogate (U+D800–U+DFFF, which some JSON parsers let through from ``"\\ud800"``). SQLite
stores both, so a rule that only one dialect enforced would make the gateway's answers
depend on its database. The rule is therefore the gateway's own, on both:

* what a client sends (the native API, the dashboard, the compatibility doors) is refused
  with a validation error naming the field (``find`` returns its path);
* what a provider sends (inbound messages, statuses, device notifications) is kept, with
  each such character replaced by U+FFFD (``scrub``): an inbound message is never lost and
  never answered with a 500 over one character.
"""

from __future__ import annotations

import re
from typing import Any

from wagate.errors import ValidationError

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"
CODE = "invalid_character"


def find(value: Any, path: str = "") -> str | None:
    """The path (``text``, ``media.caption``, ``contacts[0].name``) of the first string — value or
    key — holding a character no database can store; ``None`` when everything is storable."""
    if isinstance(value, str):
        return (path or "body") if UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            child = f"{path}.{key_text}" if path else key_text
            if UNSTORABLE.search(key_text):
                return child
            found = find(item, child)
            if found is not None:
                return found
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = find(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def check(value: Any, field: str) -> None:
    """``ValidationError`` (code ``invalid_character``) naming the offending field."""
    found = find(value, field)
    if found is not None:
        raise ValidationError(
            f"{found} contains a character that cannot be stored (NUL or a lone surrogate)", field=found, code=CODE
        )


def check_fields(fields: dict[str, Any], prefix: str = "") -> None:
    """``check`` every entry of a request-shaped mapping (field names are the mapping's keys)."""
    for name, value in fields.items():
        check(value, f"{prefix}{name}")


def scrub(value: Any) -> Any:
    """A copy of ``value`` with every unstorable character replaced by U+FFFD (keys included)."""
    if isinstance(value, str):
        return UNSTORABLE.sub(REPLACEMENT, value) if UNSTORABLE.search(value) else value
    if isinstance(value, dict):
        return {scrub(key) if isinstance(key, str) else key: scrub(item) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item) for item in value]
    if isinstance(value, tuple):
        return tuple(scrub(item) for item in value)
    return value
