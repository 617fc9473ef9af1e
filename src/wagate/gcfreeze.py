"""After start-up, take the node's long-lived objects out of the garbage collector's sight.

CPython's full collections walk every tracked object. A node starts with ~150,000 of them
(modules, the schema, routes, channel clients) that live as long as the process, yet every
full collection walks them again. Work that keeps many objects alive for a while triggers
many full collections: a 100,000-row campaign import ran ~17, and their walks cost ~2 s of
its ~8 s; with the start-up objects frozen, 0.15 s (docs/performance.md, "Campaigns").
``gc.freeze`` is CPython's tool for exactly this. Stopping unfreezes them, so an app closed
inside a longer-lived process leaves nothing uncollectable behind.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from wagate.runtime import Runtime


async def freeze_startup_objects(_rt: Runtime, _app: FastAPI) -> Callable[[], Awaitable[None]]:
    """A lifespan plug-in; put it last, so what the other plug-ins built is frozen too."""
    gc.freeze()

    async def stop() -> None:
        gc.unfreeze()

    return stop
