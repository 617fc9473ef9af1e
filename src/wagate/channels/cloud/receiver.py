"""The Cloud API webhook receiver: ``GET`` handshake and ``POST`` events at ``/webhooks/cloud/{webhook_id}``.

Every POST is checked against ``X-Hub-Signature-256`` before its body is even parsed; a
missing or wrong signature is answered 401, logged and counted
(``wagate_cloud_webhook_rejected_total``). Accepted events are stored through
``services.inbound`` before the 200 goes back (invariant 1), so Meta retries anything we
did not keep. Inbound media is downloaded into ``WAGATE_DATA_DIR`` first and the stored
message carries its authenticated URL (``/v1/media/…``); a failed download keeps the
message with Meta's media id and the reason.

A status for a ``wamid`` not stored yet (Meta was faster than our own commit of the send's
answer) is kept in ``cloud_pending_statuses`` and applied by ``PendingStatusSweeper`` as
soon as the message carries that id; later statuses of the same ``wamid`` queue behind it,
so their order holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from datetime import timedelta
from typing import Any

import httpx
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import Counter
from sqlalchemy.engine import Connection

from wagate.api.deps import RuntimeDep
from wagate.channels.cloud.account import apply_account_facts
from wagate.channels.cloud.channel import CloudChannel
from wagate.channels.cloud.errors import NOT_ON_WHATSAPP, GraphError, classify, describe_with_hint
from wagate.channels.cloud.webhook import (
    SIGNATURE_HEADER,
    ChangeBatch,
    InboundEvent,
    StatusEvent,
    parse_envelope,
    parse_limit_updates,
    parse_template_events,
    signature_valid,
)
from wagate.domain import storable
from wagate.domain.statuses import Status
from wagate.errors import AuthError, NotFoundError, ValidationError
from wagate.runtime import Runtime
from wagate.services import media as media_service
from wagate.services.inbound import record_inbound, record_provider_status
from wagate.services.templates import apply_meta_event
from wagate.store.repos import channels as channel_repo
from wagate.store.repos import cloud as cloud_repo
from wagate.store.repos import messages as message_repo
from wagate.store.repos.channels import ChannelRow

log = logging.getLogger("wagate.channels.cloud.webhook")

router = APIRouter(tags=["cloud webhooks"])

STATUS_MAP = {"sent": Status.SENT, "delivered": Status.DELIVERED, "read": Status.READ, "failed": Status.FAILED}
PENDING_KEEP = timedelta(days=1)
CLEANUP_EVERY = 60.0


# channel lookup --------------------------------------------------------------------------


async def find_channel(rt: Runtime, webhook_id: str) -> tuple[ChannelRow, CloudChannel]:
    """The cloud channel whose ``settings.webhook_id`` is ``webhook_id`` (any tenant).

    Only the id → (tenant, name) mapping is cached here; the row itself comes from
    ``rt.channels_of``, which a PATCH invalidates, so a changed app secret applies at once.
    """
    index: dict[str, tuple[int, str]] = rt.extras.setdefault("cloud_webhook_ids", {})
    row: ChannelRow | None = None
    if webhook_id in index:
        tenant_id, name = index[webhook_id]
        row = (await rt.channels_of(tenant_id)).get(name)
    if row is None or row.settings.get("webhook_id") != webhook_id:
        index.clear()
        for candidate in await rt.db.read(channel_repo.list_channels):
            key = candidate.settings.get("webhook_id") if candidate.kind == "cloud" else None
            if isinstance(key, str):
                index[key] = (candidate.tenant_id, candidate.name)
        row = None
        if webhook_id in index:
            tenant_id, name = index[webhook_id]
            row = (await rt.channels_of(tenant_id, fresh=True)).get(name)
    if row is None or row.kind != "cloud":
        raise NotFoundError("no cloud channel has this webhook id", field="webhook_id")
    channel = await rt.channel_instance(row)
    if not isinstance(channel, CloudChannel):
        raise NotFoundError("no cloud channel has this webhook id", field="webhook_id")
    return row, channel


def _rejections(rt: Runtime) -> Counter:
    counter: Counter | None = rt.extras.get("cloud_webhook_rejected")
    if counter is None:
        counter = Counter(
            "wagate_cloud_webhook_rejected_total",
            "Cloud API webhook calls refused",
            ["channel", "reason"],
            registry=rt.extras["metrics_registry"],
        )
        rt.extras["cloud_webhook_rejected"] = counter
    return counter


# routes ----------------------------------------------------------------------------------


@router.get("/webhooks/cloud/{webhook_id}", summary="Meta's webhook verification handshake")
async def verify(webhook_id: str, request: Request, rt: RuntimeDep) -> Response:
    row, channel = await find_channel(rt, webhook_id)
    params = request.query_params
    expected = channel.settings.verify_token
    given = params.get("hub.verify_token", "")
    if params.get("hub.mode") == "subscribe" and expected and hmac.compare_digest(given.encode(), expected.encode()):
        log.info("webhook verified", extra={"channel": row.name})
        return PlainTextResponse(params.get("hub.challenge", ""))
    _rejections(rt).labels(row.name, "bad_verify_token").inc()
    log.warning("webhook verification refused", extra={"channel": row.name})
    return JSONResponse(
        {"error": {"code": "forbidden", "message": "verify token mismatch", "field": "hub.verify_token"}},
        status_code=403,
    )


@router.post("/webhooks/cloud/{webhook_id}", summary="Cloud API events, signed with X-Hub-Signature-256")
async def receive(webhook_id: str, request: Request, rt: RuntimeDep) -> Response:
    row, channel = await find_channel(rt, webhook_id)
    raw = await request.body()
    header = request.headers.get(SIGNATURE_HEADER)
    if not signature_valid(raw, header, channel.settings.app_secret):
        reason = "missing_signature" if not header else "bad_signature"
        _rejections(rt).labels(row.name, reason).inc()
        log.warning(
            "webhook refused: %s",
            reason.replace("_", " "),
            extra={"channel": row.name, "client": request.client.host if request.client else None},
        )
        raise AuthError("X-Hub-Signature-256 is missing or does not match the app secret", field=SIGNATURE_HEADER)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:  # orjson refuses lone surrogates, which JSON allows: the standard parser keeps them
            body = json.loads(raw)
        except ValueError as exc:
            raise ValidationError("the body is not valid JSON", field="body", code="malformed_json") from exc
    # What a customer sent is kept; a character no database can store becomes U+FFFD.
    await process(rt, row, channel, storable.scrub(body))
    return JSONResponse({"status": "ok"})


# processing ------------------------------------------------------------------------------


async def process(rt: Runtime, row: ChannelRow, channel: CloudChannel, body: Any) -> None:
    """Store everything a webhook body says; returns once it is durable."""
    for template_event in parse_template_events(body):
        changed = await apply_meta_event(rt, row, template_event)
        log.info(
            "template webhook %s: %d template(s) changed",
            template_event.field,
            changed,
            extra={"channel": row.name, "template": template_event.name},
        )
    for update in parse_limit_updates(body):
        await apply_account_facts(rt, row, update)
    for batch in parse_envelope(body):
        if batch.phone_number_id and batch.phone_number_id != channel.settings.phone_number_id:
            log.warning(
                "webhook for another phone number ignored",
                extra={"channel": row.name, "phone_number_id": batch.phone_number_id},
            )
            continue
        await _process_batch(rt, row, channel, batch)


async def _process_batch(rt: Runtime, row: ChannelRow, channel: CloudChannel, batch: ChangeBatch) -> None:
    for event in batch.inbound:
        await handle_inbound(rt, row, channel, event)
    for status in batch.statuses:
        await handle_status(rt, row, channel, status)
    for error in batch.errors:
        log.warning("Cloud API reported an error", extra={"channel": row.name, "error": error.describe()})
    for skipped in batch.skipped:
        log.info("webhook item skipped: %s", skipped, extra={"channel": row.name})


async def handle_inbound(rt: Runtime, row: ChannelRow, channel: CloudChannel, event: InboundEvent) -> None:
    known = await rt.db.read(lambda c: message_repo.find_by_provider_id(c, event.provider_id, row.id))
    if known is not None:
        return  # a re-delivered webhook: stored already, nothing to download again
    payload = dict(event.payload)
    if event.media is not None:
        media = dict(payload.get("media") or {})
        try:
            stored = await channel.fetch_media(row.tenant_id, event.media)
        except (GraphError, httpx.HTTPError, OSError) as exc:
            media["download_error"] = str(exc)[:300]
            log.warning("inbound media not downloaded", extra={"channel": row.name, "error": str(exc)[:200]})
        else:
            media.update(
                url=media_service.media_url(rt.settings, stored.name),
                size=stored.size,
                mime_type=media.get("mime_type") or stored.mime_type,
                sha256=media.get("sha256") or stored.sha256,
            )
        payload["media"] = media
    # The same webhook delivered twice at once gets the first one's id back (insert_inbound).
    result = await record_inbound(
        rt,
        row,
        phone=event.phone,
        type=event.type,
        payload=payload,
        provider_id=event.provider_id,
        received_at=event.timestamp,
    )
    if result.created:
        await channel.record_presence(row.tenant_id, event.phone, "exists")


def _status_error(event: StatusEvent) -> tuple[str | None, str | None, str | None]:
    if not event.errors:
        return (None, None, None) if event.status != "failed" else ("provider_failed", "failed without a reason", None)
    first = event.errors[0]
    code, _retryable, _pause = classify(first)
    return code, describe_with_hint(first), str(first.code)


async def handle_status(rt: Runtime, row: ChannelRow, channel: CloudChannel, event: StatusEvent) -> None:
    status = STATUS_MAP.get(event.status)
    if status is None:
        log.info("status %r ignored", event.status, extra={"channel": row.name})
        return
    error_code, error_message, provider_code = _status_error(event)
    queued = await rt.db.read(lambda c: cloud_repo.has_pending(c, row.id, event.provider_id))
    if not queued:
        found = await record_provider_status(
            rt,
            row,
            provider_id=event.provider_id,
            status=status,
            error_code=error_code,
            error_message=error_message,
            reason=f"cloud webhook: {event.status}",
            pricing=event.pricing,
        )
        if found:
            await _presence_from_status(rt, row, channel, event, provider_code)
            return
    now = rt.clock.now()
    await rt.db.write(
        lambda c: cloud_repo.add_pending(
            c,
            channel_id=row.id,
            provider_id=event.provider_id,
            status=event.status,
            error_code=error_code,
            error_message=error_message,
            provider_code=provider_code,
            now=now,
            pricing=event.pricing,
        )
    )
    sweeper: PendingStatusSweeper | None = rt.extras.get("cloud_sweeper")
    if sweeper is not None:
        sweeper.poke()


async def _presence_from_status(
    rt: Runtime, row: ChannelRow, channel: CloudChannel, event: StatusEvent, provider_code: str | None
) -> None:
    phone = event.recipient
    if phone is None:
        return
    if event.status == "failed" and provider_code is not None and int(provider_code) in NOT_ON_WHATSAPP:
        await channel.record_presence(row.tenant_id, phone, "none")
    elif event.status in ("delivered", "read"):
        await channel.record_presence(row.tenant_id, phone, "exists")


class PendingStatusSweeper:
    """Applies statuses that arrived before their message's ``wamid`` was stored.

    Polls quickly right after a status was parked (the dispatcher's commit is usually
    milliseconds away), then backs off while nothing resolves; drops what waited a day.
    """

    FAST = 0.2
    SLOW = 30.0

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._interval = self.FAST
        self._last_cleanup = 0.0
        self.cleanup_every = CLEANUP_EVERY

    def poke(self) -> None:
        self._interval = self.FAST
        self._event.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cloud-pending-statuses")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._event.clear()  # before sweeping: a poke during the sweep must not be lost
            try:
                remaining = await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("applying pending cloud statuses failed")
                remaining = 1
            if remaining:
                wait = self._interval
                self._interval = min(self.SLOW, self._interval * 1.5)
            else:
                wait = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), wait)

    async def sweep(self) -> int:
        """Apply what can be applied; returns how many statuses still wait."""
        rt = self.rt
        if time.monotonic() - self._last_cleanup >= self.cleanup_every:
            self._last_cleanup = time.monotonic()
            cutoff = rt.clock.now() - PENDING_KEEP
            dropped = await rt.db.write(lambda c: cloud_repo.delete_older_than(c, cutoff))
            if dropped:
                log.warning("dropped %d cloud statuses whose message never appeared", dropped)
        rows = await rt.db.read(cloud_repo.list_pending)
        if not rows:
            return 0
        channel_ids = {r.channel_id for r in rows}
        wamids = {r.provider_id for r in rows}
        known = await rt.db.read(lambda c: cloud_repo.known_provider_ids(c, channel_ids, wamids))
        channels: dict[int, ChannelRow | None] = {}
        done: list[int] = []
        for pending in rows:
            if (pending.channel_id, pending.provider_id) not in known:
                continue
            if pending.channel_id not in channels:
                channel_id = pending.channel_id
                channels[channel_id] = await rt.db.read(
                    lambda c, cid=channel_id: channel_repo.get_channel_by_id(c, cid)  # type: ignore[misc]
                )
            channel_row = channels[pending.channel_id]
            if channel_row is not None:
                await record_provider_status(
                    rt,
                    channel_row,
                    provider_id=pending.provider_id,
                    status=STATUS_MAP[pending.status],
                    error_code=pending.error_code,
                    error_message=pending.error_message,
                    reason=f"cloud webhook: {pending.status} (arrived before the send was recorded)",
                    pricing=pending.pricing,
                )
            done.append(pending.id)
        if done:
            ids = done

            def delete(conn: Connection) -> None:
                cloud_repo.delete_pending(conn, ids)

            await rt.db.write(delete)
        return len(rows) - len(done)
