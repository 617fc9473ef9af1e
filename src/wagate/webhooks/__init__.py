"""Outbound webhooks: the CRM learns everything through these.

* ``fanout``   — reads the ``events`` outbox forward and writes one delivery per matching target
                 (subscriptions, and a message's own ``callback_url``) in the cursor's transaction.
* ``sender``   — claims due deliveries under a lease, signs (Standard Webhooks), POSTs, records.
* ``schedule`` — the retry schedule: exponential backoff with jitter for ≥ 24 h, then dead letter.
* ``signer``   — secrets and ``webhook-id`` / ``webhook-timestamp`` / ``webhook-signature``.
* ``formats``  — the bodies: ``native`` (an envelope around the event) and ``devino`` (the hosted services').
* ``service``  — the use cases behind ``/v1/webhooks`` and ``/v1/events``.
* ``plugin``   — the lifespan plug-in that wires it all into a node.

Guarantees: at least once; in order per message and target; concurrent across messages and
targets; a slow or dead receiver holds only its own concurrency slots. See docs/webhooks.md.
"""

import asyncio


async def sleep_until(event: asyncio.Event, timeout: float) -> None:
    """Wait for ``event`` or ``timeout`` seconds, whichever first.

    ``asyncio.timeout`` rather than ``asyncio.wait_for``: on Python 3.11 ``wait_for`` swallows a
    cancellation that arrives while the awaited event fires, leaving a loop that cannot be stopped.
    """
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        pass
