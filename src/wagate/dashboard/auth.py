"""Who is signed in, and proof that a form was sent by our own page.

* **Session cookie**: random, ``HttpOnly``, ``SameSite=Lax``, ``Secure`` (and the ``__Host-``
  prefix) when ``WAGATE_PUBLIC_URL`` is https; the server keeps only its hash
  (``dashboard_sessions``), so logging out really ends it.
* **CSRF**: every POST of a signed-in page carries ``X-CSRF-Token`` (htmx sends it from the
  ``<body hx-headers>``) or a ``csrf`` form field equal to HMAC-SHA256(session token, "csrf").
  A page on another site can read neither the cookie nor the page, so it cannot compute it.
  POSTs whose ``Origin`` or ``Sec-Fetch-Site`` say "another site" are refused as well.
* **Sign-in form**: a double-submit token (``SameSite=Strict`` cookie = hidden field), and at
  most ``MAX_FAILURES`` failed attempts per login and per client address in ``FAILURE_WINDOW``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from typing import Annotated
from urllib.parse import urlparse

from fastapi import Depends, Request, Response

from wagate.domain.records import User
from wagate.errors import ForbiddenError, WagateError
from wagate.runtime import Runtime
from wagate.services import users as user_service

LOGIN_COOKIE = "wagate_login"
FAILURE_WINDOW = 300.0
MAX_FAILURES = 5


class SignInRequired(WagateError):
    """No live session: pages redirect to the sign-in page, htmx requests get ``HX-Redirect``."""

    status_code = 401
    default_code = "sign_in_required"


class CsrfError(WagateError):
    status_code = 403
    default_code = "csrf"


def secure(rt: Runtime) -> bool:
    return rt.settings.base_url.startswith("https://")


def cookie_name(rt: Runtime) -> str:
    # ``__Host-`` cookies must be Secure, Path=/ and host-only: the browser then refuses any
    # attempt by a sibling subdomain to plant or overwrite them.
    return "__Host-wagate_session" if secure(rt) else "wagate_session"


def set_session_cookie(rt: Runtime, response: Response, token: str) -> None:
    response.set_cookie(
        cookie_name(rt),
        token,
        max_age=int(user_service.SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        secure=secure(rt),
        samesite="lax",
    )


def clear_session_cookie(rt: Runtime, response: Response) -> None:
    response.delete_cookie(cookie_name(rt), path="/", httponly=True, secure=secure(rt), samesite="lax")


def session_token(request: Request) -> str | None:
    rt: Runtime = request.app.state.runtime
    value = request.cookies.get(cookie_name(rt))
    return value if value and len(value) < 200 else None


def csrf_token(session: str) -> str:
    return hmac.new(session.encode(), b"csrf", hashlib.sha256).hexdigest()


async def optional_user(request: Request) -> User | None:
    token = session_token(request)
    if token is None:
        return None
    user = await user_service.session_user(request.app.state.runtime, token)
    if user is not None:
        request.state.user = user
        request.state.csrf = csrf_token(token)
    return user


def _cross_site(request: Request) -> bool:
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return urlparse(origin).netloc != request.headers.get("host", "")
    return False


async def check_csrf(request: Request, session: str) -> None:
    if _cross_site(request):
        raise CsrfError("cross-site request refused", field="Origin")
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, csrf_token(session)):
        raise CsrfError("the form's security token is missing or wrong; reload the page", field="csrf")


async def current_user(request: Request) -> User:
    """The signed-in user of a page; POSTs must also pass the CSRF check."""
    user = await optional_user(request)
    if user is None:
        raise SignInRequired("sign in first")
    if request.method not in ("GET", "HEAD"):
        token = session_token(request)
        assert token is not None
        await check_csrf(request, token)
    return user


async def current_admin(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_admin:
        raise ForbiddenError("only an admin may do this", field="role", code="forbidden")
    return user


UserDep = Annotated[User, Depends(current_user)]
AdminUserDep = Annotated[User, Depends(current_admin)]


# ---------------------------------------------------------------- sign-in form


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def set_login_cookie(rt: Runtime, response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, path="/dashboard", httponly=True, secure=secure(rt), samesite="strict"
    )


def login_token_ok(request: Request, sent: str | None) -> bool:
    cookie = request.cookies.get(LOGIN_COOKIE)
    return bool(cookie and sent and hmac.compare_digest(cookie, sent)) and not _cross_site(request)


class FailureLimiter:
    """Failed sign-ins per key (login, client address) in a sliding window, in this process."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = FAILURE_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        cutoff = time.monotonic() - self.window
        while times and times[0] < cutoff:
            times.popleft()
        return times

    def blocked(self, *keys: str) -> bool:
        return any(len(self._recent(k)) >= self.limit for k in keys)

    def fail(self, *keys: str) -> None:
        if len(self._failures) > 10000:
            self._failures.clear()
        for key in keys:
            self._recent(key).append(time.monotonic())

    def forget(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)


def limiter(rt: Runtime) -> FailureLimiter:
    found = rt.components.find(FailureLimiter)
    if found is None:
        found = FailureLimiter()
        rt.components.add(found)
    return found
