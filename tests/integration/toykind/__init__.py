"""A throw-away channel kind in one package: the proof that a kind needs nothing but its descriptor.

``toy`` delivers by remembering what it was given (its "provider" is this process) and takes
provider callbacks on its own routes, through the ``ChannelBackend`` only: it imports nothing
from the store, the dispatcher, the API or the runtime. A node runs it after one line,
``registry.add(KIND)`` (tests/integration/test_channel_kind_seam.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, HTTPException

from wagate.channels.backend import BackendDep, ChannelBackend
from wagate.channels.base import ChannelConfig, OutgoingMessage, PhonePresence, SendResult
from wagate.channels.kind import Capabilities, ChannelKind
from wagate.crypto import SecretBox
from wagate.domain.channels import NO_POLICY
from wagate.domain.pacing import PROVIDER_PACING
from wagate.domain.statuses import Status
from wagate.errors import ValidationError

#: What every toy channel of this process was given, by provider id (the "provider's" memory).
DELIVERED: dict[str, OutgoingMessage] = {}


class ToyChannel:
    def __init__(self, config: ChannelConfig, backend: ChannelBackend) -> None:
        self.config = config
        self.backend = backend
        self.secret = backend.decrypt(config.settings["secret"])

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, message: OutgoingMessage) -> SendResult:
        provider_id = f"toy-{self.config.id}-{message.id}"
        DELIVERED[provider_id] = message
        await self.backend.report_phone(self.config, message.phone, "exists")
        return SendResult(provider_id=provider_id)

    async def check_phone(self, phone: str) -> PhonePresence:
        return "unknown"


def prepare(settings: dict[str, Any], box: SecretBox) -> dict[str, Any]:
    secret = settings.get("secret")
    if not isinstance(secret, str) or not secret:
        raise ValidationError("settings.secret is required for a toy channel", field="settings.secret")
    return {**settings, "secret": secret if SecretBox.is_encrypted(secret) else box.encrypt(secret)}


router = APIRouter(prefix="/toy", tags=["toy channel"])


async def _channel(backend: ChannelBackend, name: str, secret: str) -> ChannelConfig:
    for config in await backend.channels_of_kind("toy"):
        if config.name == name and backend.decrypt(config.settings["secret"]) == secret:
            return config
    raise HTTPException(404, "no such toy channel")


@router.post("/{name}/inbound")
async def inbound(name: str, body: dict[str, Any], backend: BackendDep) -> dict[str, Any]:
    channel = await _channel(backend, name, str(body.get("secret")))
    record = await backend.record_inbound(
        channel,
        phone=str(body["from"]),
        type="text",
        payload={"text": str(body["text"])},
        provider_id=str(body["id"]),
    )
    return {"message_id": record.message_id, "created": record.created}


@router.post("/{name}/status")
async def status(name: str, body: dict[str, Any], backend: BackendDep) -> dict[str, Any]:
    channel = await _channel(backend, name, str(body.get("secret")))
    found = await backend.record_status(channel, provider_id=str(body["id"]), status=Status(body["status"]))
    return {"found": found}


def _routers() -> Sequence[APIRouter]:
    return [router]


KIND = ChannelKind(
    name="toy",
    factory=ToyChannel,
    capabilities=Capabilities(push=True, resend_safe=False),
    pacing=PROVIDER_PACING,
    policy=NO_POLICY,
    secret_fields=("secret",),
    prepare_settings=prepare,
    routers=_routers,
    description="a throw-away kind for the seam's proof test",
)
