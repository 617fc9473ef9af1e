"""What a database error means to the doors: the value, or the database itself.

Both dialects raise their own exceptions, wrapped by SQLAlchemy and sometimes by the driver's
adapter; these helpers walk the whole chain and answer one of two questions:

* ``unstorable(exc)`` — the request carried a character the database cannot store (the
  doors refuse these first; this is the last line, so no such value ever becomes a 500);
* ``unavailable(exc)`` — the database is down, unreachable, out of disk or out of
  connections: nothing was written, the client should come back (503 + ``Retry-After``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

#: SQLSTATEs of a value the server's encoding cannot hold (NUL, untranslatable characters).
UNSTORABLE_STATES = frozenset({"22021", "22P05"})
#: SQLSTATE classes and codes of a server that cannot take the write now.
UNAVAILABLE_CLASSES = ("08", "53", "57P", "58")
UNAVAILABLE_STATES = frozenset({"25006"})  # read-only transaction: a standby, or a promoted-away primary
SQLITE_UNAVAILABLE = (
    "database or disk is full",
    "disk i/o error",
    "unable to open database file",
    "database is locked",
    "readonly database",
    "no space left",
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo.extend([item.__cause__, item.__context__, getattr(item, "orig", None)])


def _state(exc: BaseException) -> str | None:
    for name in ("sqlstate", "pgcode"):
        value = getattr(exc, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def unstorable(exc: BaseException) -> bool:
    for item in _chain(exc):
        if isinstance(item, UnicodeEncodeError) and "surrogate" in str(item):
            return True
        if _state(item) in UNSTORABLE_STATES:
            return True
        if "surrogates not allowed" in str(item) or "invalid byte sequence for encoding" in str(item):
            return True
    return False


def unavailable(exc: BaseException) -> bool:
    for item in _chain(exc):
        state = _state(item)
        if state is not None and (state in UNAVAILABLE_STATES or state.startswith(UNAVAILABLE_CLASSES)):
            return True
        if isinstance(item, ConnectionError | TimeoutError):
            return True
        if isinstance(item, OSError) and item.errno is not None:
            return True
        if isinstance(item, sqlite3.OperationalError) and str(item).lower().startswith(SQLITE_UNAVAILABLE):
            return True
        name = type(item).__name__
        if name in ("ConnectionDoesNotExistError", "CannotConnectNowError", "InterfaceError", "ConnectionFailureError"):
            return True
    return False


def translate(exc: BaseException) -> Exception | None:
    """The ``WagateError`` a database failure means to a client, if it means one."""
    from wagate.errors import DatabaseUnavailable, ValidationError

    if unstorable(exc):
        return ValidationError(
            "a value contains a character that cannot be stored (NUL or a lone surrogate)", code="invalid_character"
        )
    if unavailable(exc):
        return DatabaseUnavailable(f"the database is unavailable ({type(exc).__name__}); try again shortly")
    return None
