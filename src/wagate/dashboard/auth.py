"""Who is signed in, and proof that a form was sent by our own page.

* **Session cookie**: random, ``HttpOnly``, ``SameSite=Lax``, ``Secure`` (and the ``__Host-``
  prefix) when ``WAGATE_PUBLIC_URL`` is https; the server keeps only its hash
  (``dashboard_sessions``), so logging out really ends it.
* **CSRF**: every POST of a signed-in page carries ``X-CSRF-Token`` (htmx sends it from the
  ``<body hx-headers>``) or a ``csrf`` form field equal to HMAC-SHA256(session token, "csrf").
  A page on another site can read neither the cookie nor the page, so it cannot compute it.
  POSTs whose ``Origin`` or ``Sec-Fetch-Site`` say "another site" are refused as well.
* **Sign-in form**: a double-submit token (``SameSite=Strict`` cookie = hidden field), and a
  bounded limiter of failed attempts per (login, address), per login and per address in
  ``FAILURE_WINDOW`` (``FailureLimiter``); the address is the peer's, or the one a trusted
  proxy (``WAGATE_TRUSTED_PROXIES``) forwarded.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlparse

from fastapi import Depends, Request, Response

from wagate.errors import ForbiddenError, WagateError
from wagate.runtime import Runtime
from wagate.services import users as user_service
from wagate.store.repos.users import User

LOGIN_COOKIE = "wagate_login"
FAILURE_WINDOW = 300.0
MAX_FAILURES = 5
MAX_LOGIN_FAILURES = 20
MAX_ADDRESS_FAILURES = 100
MAX_LIMITER_KEYS = 50_000
DEFAULT_LIMITS = {"pair": MAX_FAILURES, "login": MAX_LOGIN_FAILURES, "addr": MAX_ADDRESS_FAILURES}


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
    """Failed sign-ins per key in a sliding window, in this process, in bounded memory.

    Keys are ``pair:<login>|<address>`` (a person mistyping: ``MAX_FAILURES``), ``login:<login>``
    (one account guessed at from many addresses: ``MAX_LOGIN_FAILURES``) and ``addr:<address>``
    (one address trying many accounts: ``MAX_ADDRESS_FAILURES``, high, so an office behind one
    NAT address is not locked out by a few typos). At most ``max_keys`` keys are kept; beyond,
    the key whose last failure is oldest goes first. A key under attack keeps being refreshed,
    so evicting it takes ``max_keys`` fresh failures between two of its own: flooding buys
    nothing (clearing everything at a threshold, as before, unlocked every login at once).
    """

    def __init__(
        self,
        limits: dict[str, int] | None = None,
        window: float = FAILURE_WINDOW,
        max_keys: int = MAX_LIMITER_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or dict(DEFAULT_LIMITS)
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._failures)

    def _limit(self, key: str) -> int:
        return self.limits.get(key.split(":", 1)[0], MAX_FAILURES)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        cutoff = now - self.window
        while times and times[0] < cutoff:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, *keys: str) -> float | None:
        """Seconds until every key is under its limit again; ``None`` if none is blocked now."""
        now = self._clock()
        waits = []
        for key in keys:
            times = self._recent(key, now)
            limit = self._limit(key)
            if times is not None and len(times) >= limit:
                waits.append(times[len(times) - limit] + self.window - now)
        return max(waits) if waits else None

    def blocked(self, *keys: str) -> bool:
        return self.retry_after(*keys) is not None

    def fail(self, *keys: str) -> None:
        now = self._clock()
        for key in keys:
            times = self._recent(key, now)
            if times is None:
                times = self._failures[key] = deque(maxlen=max(self.limits.values(), default=MAX_FAILURES) + 1)
            times.append(now)
            self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def forget(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)


def sign_in_keys(login: str, address: str) -> tuple[str, str, str]:
    return f"pair:{login}|{address}", f"login:{login}", f"addr:{address}"


def parse_networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``WAGATE_TRUSTED_PROXIES``: addresses or networks, comma-separated."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def client_address(request: Request, trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> str:
    """The browser's address: the peer's, unless the peer is a trusted proxy — then the nearest
    address in ``X-Forwarded-For`` that is not itself a trusted proxy (the rest is client-written)."""
    peer = request.client.host if request.client else "?"
    if not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop if _is_address(hop) else peer
    return peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _within(text: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(address in network for network in networks)


def limiter(rt: Runtime) -> FailureLimiter:
    found: FailureLimiter = rt.extras.setdefault("dashboard_login_limiter", FailureLimiter())
    return found
