"""The sign-in limiter: per (login, address), per login, per address; bounded without amnesty.

The findings: it cleared every counter once it held 10,000 keys (about 8,500 failures from
1,700 addresses unlocked a locked login), and behind a reverse proxy it keyed on the proxy's
address, so five typos locked out a whole office.
"""

from __future__ import annotations

import httpx

from tests.dashboard.conftest import LOGIN_TOKEN_RE, PASSWORD, Desk
from wagate.dashboard.auth import FailureLimiter, sign_in_keys


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_flood_of_other_keys_does_not_unlock_a_login_under_attack() -> None:
    clock = Ticks()
    limiter = FailureLimiter(max_keys=1000, clock=clock)
    victim = sign_in_keys("boss", "203.0.113.7")
    for _ in range(5):
        limiter.fail(*victim)
    assert limiter.blocked(*victim)
    for i in range(5000):  # far more keys than the limiter holds
        limiter.fail(*sign_in_keys(f"junk{i}", f"198.51.{i // 256 % 256}.{i % 256}"))
        if i % 50 == 0:
            limiter.fail(*sign_in_keys("boss", f"192.0.2.{i % 250}"))  # the attack goes on
    assert len(limiter) <= 1000
    assert limiter.blocked("login:boss")  # 20+ failures against the login from many addresses


def test_memory_is_bounded_by_evicting_the_oldest_keys() -> None:
    clock = Ticks()
    limiter = FailureLimiter(max_keys=100, clock=clock)
    for i in range(1000):
        clock.now += 0.01
        limiter.fail(f"pair:user{i}|addr")
    assert len(limiter) == 100
    assert limiter.retry_after("pair:user999|addr") is None  # one failure: not blocked
    limiter.fail(*["pair:user999|addr"] * 4)
    assert limiter.blocked("pair:user999|addr")


def test_a_few_typos_from_a_shared_address_do_not_lock_out_the_office() -> None:
    limiter = FailureLimiter(clock=Ticks())
    for person in ("anna", "ivan", "olga"):
        for _ in range(4):
            limiter.fail(*sign_in_keys(person, "203.0.113.1"))
    assert not limiter.blocked(*sign_in_keys("maria", "203.0.113.1"))
    for _ in range(1):
        limiter.fail(*sign_in_keys("anna", "203.0.113.1"))
    assert limiter.blocked(*sign_in_keys("anna", "203.0.113.1"))  # that person, from that address


def test_the_wait_is_until_the_oldest_counted_failure_leaves_the_window() -> None:
    clock = Ticks()
    limiter = FailureLimiter(window=300, clock=clock)
    for _ in range(5):
        limiter.fail("pair:a|b")
        clock.now += 10
    wait = limiter.retry_after("pair:a|b")
    assert wait is not None and 249 < wait <= 250
    clock.now += 251
    assert limiter.retry_after("pair:a|b") is None


async def attempt(
    browser: httpx.AsyncClient, login: str, password: str, forwarded: str | None = None
) -> httpx.Response:
    token = LOGIN_TOKEN_RE.search((await browser.get("/dashboard/login")).text)
    assert token is not None
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return await browser.post(
        "/dashboard/login", data={"login": login, "password": password, "csrf": token.group(1)}, headers=headers
    )


async def test_behind_a_trusted_proxy_each_client_is_counted_apart_and_429_says_when(desk_sqlite: Desk) -> None:
    desk_sqlite.rt.settings.trusted_proxies = "127.0.0.1,::1"
    await desk_sqlite.user("anna")
    await desk_sqlite.user("ivan")
    # httpx's ASGI transport connects from 127.0.0.1: the proxy.
    browser = desk_sqlite.browser()
    for _ in range(5):
        response = await attempt(browser, "anna", "bad-bad-bad", forwarded="203.0.113.10")
        assert response.status_code == 401
    blocked = await attempt(browser, "anna", PASSWORD, forwarded="203.0.113.10")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 300
    # The same login from another client behind the same proxy, and another login, still work.
    assert (await attempt(desk_sqlite.browser(), "anna", PASSWORD, forwarded="203.0.113.11")).status_code == 303
    assert (await attempt(desk_sqlite.browser(), "ivan", PASSWORD, forwarded="203.0.113.10")).status_code == 303


async def test_an_untrusted_peer_cannot_choose_its_address(desk_sqlite: Desk) -> None:
    desk_sqlite.rt.settings.trusted_proxies = "10.9.9.9"
    await desk_sqlite.user("anna")
    browser = desk_sqlite.browser()
    for i in range(5):
        await attempt(browser, "anna", "bad-bad-bad", forwarded=f"198.51.100.{i}")
    # Every attempt counted against the real peer: a new forged address does not help.
    assert (await attempt(browser, "anna", PASSWORD, forwarded="198.51.100.99")).status_code == 429
