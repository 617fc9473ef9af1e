"""A typed Python client for wagate's native API, synchronous (``Client``) and asynchronous
(``AsyncClient``), on httpx.

    from wagate.client import Client

    with Client("http://127.0.0.1:8080", token="wg_…") as wagate:
        accepted = wagate.send_message("+7 900 123-45-67", "Your order is ready")
        message = wagate.get_message(accepted.id)
        print(message.status, [change.status for change in message.history or []])

Answers are the API's own pydantic models (``MessageOut``, ``ChannelOut`` …), so a field the
server adds later is kept (``model_extra``) rather than lost. Every 4xx/5xx raises ``ApiError``
with the native error's ``code``, ``message`` and ``field``. Both clients share one description
of each call (``_Call``), so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

import httpx
from pydantic import TypeAdapter

from wagate.api.models import Page
from wagate.api.v1.access import TokenOut, UserOut
from wagate.api.v1.channels import ChannelOut
from wagate.api.v1.contacts import ContactOut
from wagate.api.v1.schemas import AcceptedMessage, BatchAccepted, MessageOut
from wagate.api.v1.webhooks import SubscriptionOut

__all__ = [
    "AcceptedMessage",
    "ApiError",
    "AsyncClient",
    "BatchAccepted",
    "ChannelOut",
    "Client",
    "ContactOut",
    "MessageOut",
    "SubscriptionOut",
    "TokenOut",
    "UserOut",
]

DEFAULT_URL = "http://127.0.0.1:8080"
Model = TypeVar("Model")


class ApiError(Exception):
    """The server refused the request: ``status`` and the native error's ``code``/``message``/``field``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, body: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" (field {field})" if field else ""))
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.body = body


@dataclass(frozen=True)
class _Call(Generic[Model]):
    """One API call: the request to make and how to read its answer."""

    method: str
    path: str
    answer: Any  # a type for TypeAdapter (a model, ``Page[...]``, ``dict[str, Any]``) or None for no body
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] | None = None
    files: dict[str, Any] | None = None

    def request(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        params = {k: v for k, v in self.params.items() if v is not None}
        return client.build_request(
            self.method,
            self.path,
            json=self.json,
            params=params,
            headers=self.headers,
            data=self.data,
            files=self.files,
        )

    def read(self, response: httpx.Response) -> Model:
        if response.status_code >= 400:
            raise _error(response)
        if self.answer is None or response.status_code == 204 or not response.content:
            return None  # type: ignore[return-value]
        value: Model = TypeAdapter(self.answer).validate_python(response.json())
        return value


def _error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        return ApiError(response.status_code, "http_error", response.text[:500])
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return ApiError(
            response.status_code, str(error.get("code")), str(error.get("message")), error.get("field"), body
        )
    return ApiError(response.status_code, "http_error", response.text[:500], body=body)


def _message(to: str, text: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"to": to, **{k: v for k, v in fields.items() if v is not None}}
    if text is not None:
        body["text"] = text
    return body


class _Calls:
    """The native API as a list of calls; ``Client`` and ``AsyncClient`` only execute them."""

    @staticmethod
    def send_message(to: str, text: str | None, idempotency_key: str | None, **fields: Any) -> _Call[AcceptedMessage]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return _Call("POST", "/v1/messages", AcceptedMessage, json=_message(to, text, fields), headers=headers)

    @staticmethod
    def send_batch(messages: list[dict[str, Any]], idempotency_key: str | None) -> _Call[BatchAccepted]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return _Call("POST", "/v1/messages", BatchAccepted, json={"messages": messages}, headers=headers)

    @staticmethod
    def get_message(message_id: int) -> _Call[MessageOut]:
        return _Call("GET", f"/v1/messages/{message_id}", MessageOut)

    @staticmethod
    def list_messages(**params: Any) -> _Call[Page[MessageOut]]:
        return _Call("GET", "/v1/messages", Page[MessageOut], params=params)

    @staticmethod
    def cancel_message(message_id: int) -> _Call[MessageOut]:
        return _Call("POST", f"/v1/messages/{message_id}/cancel", MessageOut)

    @staticmethod
    def check_phone(phone: str, channel: str | None) -> _Call[dict[str, Any]]:
        return _Call("GET", f"/v1/phones/{phone}", dict[str, Any], params={"channel": channel})

    @staticmethod
    def put_contact(phone: str, fields: dict[str, Any]) -> _Call[ContactOut]:
        return _Call("PUT", f"/v1/contacts/{phone}", ContactOut, json=fields)

    @staticmethod
    def get_contact(phone: str) -> _Call[ContactOut]:
        return _Call("GET", f"/v1/contacts/{phone}", ContactOut)

    @staticmethod
    def delete_contact(phone: str) -> _Call[None]:
        return _Call("DELETE", f"/v1/contacts/{phone}", None)

    @staticmethod
    def list_channels() -> _Call[dict[str, list[ChannelOut]]]:
        return _Call("GET", "/v1/channels", dict[str, list[ChannelOut]])

    @staticmethod
    def create_channel(name: str, kind: str, fields: dict[str, Any]) -> _Call[ChannelOut]:
        return _Call("POST", "/v1/channels", ChannelOut, json={"name": name, "kind": kind, **fields})

    @staticmethod
    def update_channel(name: str, fields: dict[str, Any]) -> _Call[ChannelOut]:
        return _Call("PATCH", f"/v1/channels/{name}", ChannelOut, json=fields)

    @staticmethod
    def create_webhook(url: str, events: list[str] | None, format: str | None) -> _Call[SubscriptionOut]:
        body = {k: v for k, v in {"url": url, "events": events, "format": format}.items() if v is not None}
        return _Call("POST", "/v1/webhooks", SubscriptionOut, json=body)

    @staticmethod
    def create_campaign(file: Path, form: dict[str, str]) -> _Call[dict[str, Any]]:
        files = {"file": (file.name, file.read_bytes(), "text/csv")}
        return _Call("POST", "/v1/campaigns", dict[str, Any], data=form, files=files)

    @staticmethod
    def campaign(campaign_id: int, action: str | None = None) -> _Call[dict[str, Any]]:
        if action is None:
            return _Call("GET", f"/v1/campaigns/{campaign_id}", dict[str, Any])
        return _Call("POST", f"/v1/campaigns/{campaign_id}/{action}", dict[str, Any])

    @staticmethod
    def delete_campaign(campaign_id: int) -> _Call[None]:
        return _Call("DELETE", f"/v1/campaigns/{campaign_id}", None)

    @staticmethod
    def create_token(name: str, role: str) -> _Call[TokenOut]:
        return _Call("POST", "/v1/tokens", TokenOut, json={"name": name, "role": role})

    @staticmethod
    def create_user(fields: dict[str, Any]) -> _Call[UserOut]:
        return _Call("POST", "/v1/users", UserOut, json=fields)


def _http_options(url: str, token: str, timeout: float) -> dict[str, Any]:
    return {
        "base_url": url.rstrip("/"),
        "headers": {"Authorization": f"Bearer {token}"},
        "timeout": timeout,
    }


class Client:
    """Synchronous client. Use as a context manager, or call ``close()``."""

    def __init__(
        self, url: str = DEFAULT_URL, *, token: str, timeout: float = 30.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.http = httpx.Client(**_http_options(url, token, timeout), transport=transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _run(self, call: _Call[Model]) -> Model:
        return call.read(self.http.send(call.request(self.http)))

    def send_message(
        self, to: str, text: str | None = None, *, idempotency_key: str | None = None, **fields: Any
    ) -> AcceptedMessage:
        """Queue one message (``type``, ``media``, ``template``, ``channel`` … as keyword arguments)."""
        return self._run(_Calls.send_message(to, text, idempotency_key, **fields))

    def send_batch(self, messages: list[dict[str, Any]], *, idempotency_key: str | None = None) -> BatchAccepted:
        return self._run(_Calls.send_batch(messages, idempotency_key))

    def get_message(self, message_id: int) -> MessageOut:
        return self._run(_Calls.get_message(message_id))

    def list_messages(self, **filters: Any) -> Page[MessageOut]:
        """One page (``phone``, ``direction``, ``status``, ``since``, ``until``, ``limit``, ``cursor``)."""
        return self._run(_Calls.list_messages(**filters))

    def iter_messages(self, **filters: Any) -> Iterator[MessageOut]:
        """Every message matching ``filters``, newest first, following the cursor."""
        while True:
            page = self.list_messages(**filters)
            yield from page.data
            if page.next_cursor is None:
                return
            filters["cursor"] = page.next_cursor

    def cancel_message(self, message_id: int) -> MessageOut:
        return self._run(_Calls.cancel_message(message_id))

    def check_phone(self, phone: str, *, channel: str | None = None) -> dict[str, Any]:
        return self._run(_Calls.check_phone(phone, channel))

    def put_contact(self, phone: str, **fields: Any) -> ContactOut:
        return self._run(_Calls.put_contact(phone, fields))

    def get_contact(self, phone: str) -> ContactOut:
        return self._run(_Calls.get_contact(phone))

    def delete_contact(self, phone: str) -> None:
        self._run(_Calls.delete_contact(phone))

    def list_channels(self) -> list[ChannelOut]:
        return self._run(_Calls.list_channels())["data"]

    def create_channel(self, name: str, kind: str, **fields: Any) -> ChannelOut:
        return self._run(_Calls.create_channel(name, kind, fields))

    def update_channel(self, name: str, **fields: Any) -> ChannelOut:
        return self._run(_Calls.update_channel(name, fields))

    def create_webhook(
        self, url: str, *, events: list[str] | None = None, format: str | None = None
    ) -> SubscriptionOut:
        return self._run(_Calls.create_webhook(url, events, format))

    def create_campaign(self, file: Path, **form: str) -> dict[str, Any]:
        """Upload a CSV (``template``, ``language``, ``channel`` … as form fields); answers the dry-run report."""
        return self._run(_Calls.create_campaign(file, form))

    def get_campaign(self, campaign_id: int) -> dict[str, Any]:
        return self._run(_Calls.campaign(campaign_id))

    def campaign_action(self, campaign_id: int, action: str) -> dict[str, Any]:
        """``start``, ``pause``, ``resume`` or ``cancel``."""
        return self._run(_Calls.campaign(campaign_id, action))

    def delete_campaign(self, campaign_id: int) -> None:
        self._run(_Calls.delete_campaign(campaign_id))

    def create_token(self, name: str, *, role: str = "api") -> TokenOut:
        """A new API token (admin); ``.token`` is shown this once."""
        return self._run(_Calls.create_token(name, role))

    def create_user(self, login: str, password: str, **fields: Any) -> UserOut:
        """A dashboard user (admin): ``role``, ``name``, ``locale`` as keywords."""
        return self._run(_Calls.create_user({"login": login, "password": password, **fields}))


class AsyncClient:
    """Asynchronous client with the same methods as ``Client``; use ``async with``."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        token: str,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.http = httpx.AsyncClient(**_http_options(url, token, timeout), transport=transport)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.aclose()

    async def _run(self, call: _Call[Model]) -> Model:
        return call.read(await self.http.send(call.request(self.http)))

    async def send_message(
        self, to: str, text: str | None = None, *, idempotency_key: str | None = None, **fields: Any
    ) -> AcceptedMessage:
        return await self._run(_Calls.send_message(to, text, idempotency_key, **fields))

    async def send_batch(self, messages: list[dict[str, Any]], *, idempotency_key: str | None = None) -> BatchAccepted:
        return await self._run(_Calls.send_batch(messages, idempotency_key))

    async def get_message(self, message_id: int) -> MessageOut:
        return await self._run(_Calls.get_message(message_id))

    async def list_messages(self, **filters: Any) -> Page[MessageOut]:
        return await self._run(_Calls.list_messages(**filters))

    async def iter_messages(self, **filters: Any) -> AsyncIterator[MessageOut]:
        while True:
            page = await self.list_messages(**filters)
            for message in page.data:
                yield message
            if page.next_cursor is None:
                return
            filters["cursor"] = page.next_cursor

    async def cancel_message(self, message_id: int) -> MessageOut:
        return await self._run(_Calls.cancel_message(message_id))

    async def check_phone(self, phone: str, *, channel: str | None = None) -> dict[str, Any]:
        return await self._run(_Calls.check_phone(phone, channel))

    async def put_contact(self, phone: str, **fields: Any) -> ContactOut:
        return await self._run(_Calls.put_contact(phone, fields))

    async def get_contact(self, phone: str) -> ContactOut:
        return await self._run(_Calls.get_contact(phone))

    async def delete_contact(self, phone: str) -> None:
        await self._run(_Calls.delete_contact(phone))

    async def list_channels(self) -> list[ChannelOut]:
        return (await self._run(_Calls.list_channels()))["data"]

    async def create_channel(self, name: str, kind: str, **fields: Any) -> ChannelOut:
        return await self._run(_Calls.create_channel(name, kind, fields))

    async def update_channel(self, name: str, **fields: Any) -> ChannelOut:
        return await self._run(_Calls.update_channel(name, fields))

    async def create_webhook(
        self, url: str, *, events: list[str] | None = None, format: str | None = None
    ) -> SubscriptionOut:
        return await self._run(_Calls.create_webhook(url, events, format))

    async def create_campaign(self, file: Path, **form: str) -> dict[str, Any]:
        return await self._run(_Calls.create_campaign(file, form))

    async def get_campaign(self, campaign_id: int) -> dict[str, Any]:
        return await self._run(_Calls.campaign(campaign_id))

    async def campaign_action(self, campaign_id: int, action: str) -> dict[str, Any]:
        return await self._run(_Calls.campaign(campaign_id, action))

    async def delete_campaign(self, campaign_id: int) -> None:
        await self._run(_Calls.delete_campaign(campaign_id))

    async def create_token(self, name: str, *, role: str = "api") -> TokenOut:
        return await self._run(_Calls.create_token(name, role))

    async def create_user(self, login: str, password: str, **fields: Any) -> UserOut:
        return await self._run(_Calls.create_user({"login": login, "password": password, **fields}))
