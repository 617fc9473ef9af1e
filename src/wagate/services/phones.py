"""Is this number on WhatsApp? Cached answers first, then the channel's own check.

Shared by the compatibility doors (WAMM-style ``check_phone``, ``msg_to``, ``file_to``,
``contact_to``); the native ``/v1/phones`` keeps the same cache and TTL. A definite answer
(``exists``/``none``) is cached for ``CHECK_TTL``; ``unknown`` is never cached, so the next
call asks again.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from wagate.domain.records import ChannelRow, Tenant
from wagate.errors import ChannelError
from wagate.runtime import Runtime
from wagate.store.repos import contacts as contact_repo

CHECK_TTL = timedelta(days=7)
#: How long a channel may take to answer before the check counts as failed.
CHECK_TIMEOUT_SECONDS = 10.0


class PhoneCheckFailed(ChannelError):
    """The channel could not tell (it raised or timed out): the caller may retry later."""

    default_code = "phone_check_failed"


async def whatsapp_presence(
    rt: Runtime,
    tenant: Tenant,
    phone: str,
    channel: ChannelRow,
    *,
    timeout: float = CHECK_TIMEOUT_SECONDS,
    now: datetime | None = None,
    live: bool = True,
) -> str:
    """``exists``, ``none`` or ``unknown`` for an E.164 ``phone``; raises ``PhoneCheckFailed``.

    ``unknown`` means the channel has no way to tell (the Cloud API, a kind this node does
    not run) or, with ``live=False``, that only the cache was asked; a failure means the
    channel tried and could not finish (its code says why, e.g. ``phone_check_pending``).
    """
    now = now or rt.clock.now()
    cached = await rt.db.read(lambda c: contact_repo.get_phone_check(c, tenant.id, phone, now))
    if cached is not None:
        return str(cached.whatsapp)
    if not live or not rt.registry.knows(channel.kind):
        return "unknown"
    try:
        instance = await rt.channel_instance(channel)
        async with asyncio.timeout(timeout):
            answer = await instance.check_phone(phone)
    except TimeoutError as exc:
        raise PhoneCheckFailed(f"the channel did not answer within {timeout:g} s", field="phone") from exc
    except ChannelError as exc:
        raise PhoneCheckFailed(f"the channel could not check the number: {exc}", field="phone", code=exc.code) from exc
    except Exception as exc:  # any channel failure: the number was not checked, the caller may retry
        raise PhoneCheckFailed(f"the channel could not check the number: {exc}", field="phone") from exc
    if answer in ("exists", "none"):
        await rt.db.write(
            lambda c: contact_repo.record_phone_check(c, tenant.id, phone, answer, channel.name, now, now + CHECK_TTL)
        )
        return answer
    return "unknown"
