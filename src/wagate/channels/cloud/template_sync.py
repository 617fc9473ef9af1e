"""The periodic sync of cloud channels: Meta's template list and the number's messaging limit and
throughput are re-read every ``every`` seconds.

Webhooks carry template changes as they happen; this catches what they cannot (a webhook lost
while the node was down, templates created in WhatsApp Manager). Each channel with a
``waba_id`` is synced in turn; a failing channel is logged and retried at the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from wagate.channels.cloud.account import apply_account_facts
from wagate.errors import WagateError
from wagate.runtime import Runtime
from wagate.services.templates import sync_templates
from wagate.store.repos import channels as channel_repo

log = logging.getLogger("wagate.channels.cloud.templates")

SYNC_EVERY = 900.0


class TemplateSyncer:
    def __init__(self, rt: Runtime, every: float = SYNC_EVERY) -> None:
        self.rt = rt
        self.every = every
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cloud-template-sync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.sync_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("template sync round failed")

    async def sync_once(self) -> int:
        """Sync every cloud channel that names its WABA; returns how many were synced."""
        rows = await self.rt.db.read(channel_repo.list_channels)
        synced = 0
        for row in rows:
            if row.kind != "cloud" or not row.settings.get("waba_id") or not self.rt.registry.knows("cloud"):
                continue
            try:
                instance = await self.rt.channel_instance(row)
                facts = getattr(instance, "account_facts", None)
                if facts is not None:
                    await apply_account_facts(self.rt, row, await facts())
                lister = getattr(instance, "list_templates", None)
                if lister is None:
                    continue
                result = await sync_templates(self.rt, row, list(await lister()))
            except WagateError as exc:
                log.warning("template sync failed: %s", exc.message, extra={"channel": row.name})
                continue
            synced += 1
            if result["created"] or result["updated"] or result["deleted"]:
                log.info(
                    "templates synced",
                    extra={"channel": row.name, **{k: result[k] for k in ("created", "updated", "deleted")}},
                )
        return synced
