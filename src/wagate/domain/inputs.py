"""Input rules every door applies before the domain sees a request.

Pure functions: the range of a row id, the depth of a JSON value, which content types are JSON.
The API layer (``wagate.api.inputs``) applies them to every request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wagate.errors import ValidationError

#: Ids and cursors are 64-bit signed integers in both databases; a larger number names no row.
MAX_ROW_ID = 2**63 - 1
#: Deepest nesting a JSON body may have. Real payloads (a contact card, a menu) stay under 8.
MAX_JSON_DEPTH = 32
#: One limit for every JSON (or form) body; file uploads (multipart) have their own, larger one.
MAX_BODY_BYTES = 8 * 1024 * 1024
#: A multipart upload: the largest file WhatsApp accepts (100 MB) plus the form's framing.
MAX_UPLOAD_BYTES = 101 * 1024 * 1024


def is_row_id(value: int) -> bool:
    return 0 <= value <= MAX_ROW_ID


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH, root: str = "body") -> None:
    """Refuse a JSON value nested deeper than ``limit``, naming the path where it goes too deep.

    Iterative, so a hostile body cannot exhaust the interpreter's stack while being checked.
    """
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, dict):
            children = [(v, f"{path}.{k}" if path else str(k)) for k, v in item.items()]
        elif isinstance(item, list):
            children = [(v, f"{path}[{i}]") for i, v in enumerate(item)]
        else:
            continue
        if depth > limit:
            raise ValidationError(
                f"{path or root} is nested deeper than {limit} levels", field=path or root, code="too_deep"
            )
        stack.extend((child, depth + 1, child_path) for child, child_path in children if isinstance(child, dict | list))


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def is_json_type(content_type: str) -> bool:
    kind = media_type(content_type)
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def looks_like_json(body: bytes) -> bool:
    """``curl -d '{…}'`` labels JSON as a form; a body that opens as a JSON object or array is JSON."""
    return body.lstrip()[:1] in (b"{", b"[")


#: Dates a request may name. Later ones overflow date arithmetic (a day after 9999-12-31) and
#: mean nothing to a gateway; earlier ones predate every record.
MIN_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
MAX_MOMENT = datetime(9000, 1, 1, tzinfo=UTC)


def check_moment(value: datetime, field: str) -> datetime:
    """``value`` if it lies between 1900 and 9000 (an aware date-time); otherwise 422 on ``field``."""
    if value.tzinfo is None:
        raise ValidationError(f"{field} needs a time zone (e.g. Z)", field=field)
    if not MIN_MOMENT <= value <= MAX_MOMENT:
        raise ValidationError(f"{field} must lie between the years 1900 and 9000", field=field, code="out_of_range")
    return value
