"""Every Cloud API error code the cloud channel knows, through a Devino status callback, over HTTP.

The road: a CRM sends through ``POST /whatsapp/messages`` (a callbackUrl per message) on the
sandbox cloud channel; the messages are handed to the Graph API (``sent`` with their wamid);
Meta's signed status webhook reports each one ``failed`` with one error code; the gateway's
callback reaches the CRM with the seed's ``errorCode``. Meta is the edge we cannot reach: its
webhook is built in Meta's documented shape and signed with the channel's app secret.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.channels.cloud.live import live_gateway, sandbox_plugins
from tests.compat.conftest import API_TOKEN
from tests.conftest import free_port, make_settings
from tests.webhooks.conftest import eventually
from tests.webhooks.receiver import Receiver
from wagate.channels.base import SendResult
from wagate.channels.cloud.channel import CloudChannel
from wagate.channels.cloud.errors import CODES
from wagate.channels.cloud.webhook import sign
from wagate.dispatch.claim import AttemptResult, claim_ready, complete
from wagate.domain.error_codes import CLOUD_STATUS_CODES
from wagate.store.repos import tenants as tenant_repo
from wagate.webhooks.plugin import webhooks_plugin

pytestmark = pytest.mark.asyncio


def status_webhook(phone_number_id: str, statuses: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "200000000000001",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"display_phone_number": "15550000001", "phone_number_id": phone_number_id},
                                "statuses": statuses,
                            },
                        }
                    ],
                }
            ],
        }
    )


async def test_every_cloud_error_code_reaches_the_crm_as_its_devino_code(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        sqlite_url, tmp_path, sandbox=True, port=free_port(), dispatcher=False, webhook_retry_schedule=[0.05, 0.1]
    )
    codes = sorted(CODES)
    receiver = await Receiver().start()
    try:
        async with live_gateway(settings, plugins=[*sandbox_plugins(), webhooks_plugin]) as live:
            tenant = live.app.state.bootstrap.tenant
            now = live.rt.clock.now()
            await live.rt.db.write(lambda c: tenant_repo.store_token(c, tenant.id, "crm", "api", API_TOKEN, now))
            batch = {
                "messages": [
                    {
                        "from": "sandbox",
                        "to": f"7900{index:07d}",
                        "text": f"Заказ №{code} готов",
                        "callbackUrl": receiver.url,
                        "callbackData": str(code),
                    }
                    for index, code in enumerate(codes, start=1)
                ]
            }
            answer = await live.client.post(
                "/whatsapp/messages", json=batch, headers={"Authorization": f"Key {API_TOKEN}"}
            )
            results = answer.json()["result"]
            assert [r["code"] for r in results] == ["OK"] * len(codes), results
            ids = {int(r["messageId"]): code for r, code in zip(results, codes, strict=True)}

            # The dispatcher's hand-over to the Graph API, each message accepted with a wamid.
            channel = (await live.rt.channels_of(tenant.id, fresh=True))["sandbox"]
            claimed: list[Any] = []
            deadline = time.monotonic() + 20
            while len(claimed) < len(ids):
                assert time.monotonic() < deadline, "the sandbox channel's pacing never let the batch through"
                claimed += (await claim_ready(live.rt, channel, owner="test", limit=len(ids))).rows
            await complete(
                live.rt,
                channel,
                [AttemptResult(row.id, row.attempts, SendResult(f"wamid.CODE{ids[row.id]}")) for row in claimed],
                resend_safe=False,
            )

            # Meta reports every message failed, one error code each.
            instance = await live.rt.channel_instance(channel)
            assert isinstance(instance, CloudChannel) and instance.settings.app_secret
            statuses = [
                {
                    "id": f"wamid.CODE{code}",
                    "status": "failed",
                    "timestamp": str(int(time.time())),
                    "recipient_id": f"7900{index:07d}",
                    "errors": [{"code": code, "title": f"Error {code}", "message": f"Error {code}"}],
                }
                for index, code in enumerate(codes, start=1)
            ]
            raw = status_webhook(instance.settings.phone_number_id, statuses)
            webhook = await live.client.post(
                f"/webhooks/cloud/{channel.settings['webhook_id']}",
                content=raw,
                headers={"X-Hub-Signature-256": sign(raw, instance.settings.app_secret)},
            )
            assert webhook.status_code == 200, webhook.text

            def failures() -> dict[str, Any]:
                items = [item for d in receiver.delivered() for item in d.json if item["status"] == "UNDELIVERED"]
                return {item["options"]: item for item in items}

            await eventually(lambda: len(failures()) == len(codes), timeout=30, what="a failure callback per code")
            got = {int(options): item["errorCode"] for options, item in failures().items()}
            assert got == {code: CLOUD_STATUS_CODES[code] for code in codes}
            assert got[131047] == 2312 and got[131056] == 2301 and got[132000] == 2308
    finally:
        await receiver.stop()
