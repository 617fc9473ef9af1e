"""The simulator's behaviour: what a Cloud API number does with requests, independent of HTTP routing.

Deterministic recipients (CONTRACT §7): a number ending in ``0000`` is not on WhatsApp
(error 131026, by ``failed`` webhook or synchronously, see ``SimulatorConfig.undeliverable``);
any other number goes ``sent`` → ``delivered`` → ``read`` after ``status_delays``. Throughput
above ``throughput`` messages per second answers 130429; with ``enforce_window`` a free-form
message to a number that has not written within 24 hours fails with 131047; template sends
are checked against the simulator's templates (132001 unknown or not approved, 132000 wrong
number of parameters). State lives in memory and is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from wagate.channels.cloud.versions import DEFAULT_API_VERSION
from wagate.clock import Clock, SystemClock
from wagate.sandbox.config import SimulatorConfig
from wagate.sandbox.errors import GraphApiError, unsupported
from wagate.sandbox.templates import PLACEHOLDER, SimTemplate, default_templates
from wagate.sandbox.webhooks import Delivery, WebhookSender, envelope

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
SEND_TYPES = (
    "text",
    *MEDIA_TYPES,
    "location",
    "contacts",
    "template",
    "interactive",
    "reaction",
)
WINDOW_SECONDS = 24 * 3600
MEDIA_BUDGET_BYTES = 256 * 1024 * 1024
PHONE_RE = re.compile(r"^\d{7,15}$")


def digits(value: Any) -> str | None:
    text = re.sub(r"[\s\-()]", "", str(value or "")).lstrip("+")
    return text if PHONE_RE.match(text) else None


def new_wamid(phone: str) -> str:
    raw = f"\x15\x02{phone}\x15\x02\x00\x11\x18\x12{uuid.uuid4().hex.upper()}\x00"
    return "wamid." + base64.b64encode(raw.encode()).decode()


def numeric_id() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))


@dataclass(slots=True)
class StoredMedia:
    id: str
    content: bytes
    mime_type: str
    sha256: str
    filename: str | None
    created: float


@dataclass(slots=True)
class SentRecord:
    """A message the simulated number accepted, as the sandbox log shows it."""

    id: str
    to: str
    type: str
    body: dict[str, Any]
    status: str
    created: float
    errors: list[dict[str, Any]] = field(default_factory=list)
    pricing: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "to": self.to,
            "type": self.type,
            "status": self.status,
            "created": int(self.created),
            "errors": self.errors,
            "body": self.body,
        }


class Simulator:
    """One simulated WhatsApp Business phone number with its WABA."""

    def __init__(
        self,
        config: SimulatorConfig,
        *,
        clock: Clock | None = None,
        webhook_transport: Any = None,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.templates: list[SimTemplate] = default_templates()
        self.media: OrderedDict[str, StoredMedia] = OrderedDict()
        self.sent: OrderedDict[str, SentRecord] = OrderedDict()
        self.inbound: deque[dict[str, Any]] = deque(maxlen=config.log_size)
        self.read_marks: deque[str] = deque(maxlen=config.log_size)
        self.typing: deque[str] = deque(maxlen=config.log_size)
        self.last_inbound: dict[str, float] = {}
        self._recent_sends: deque[float] = deque()
        self.webhooks = WebhookSender(lambda: self.config, transport=webhook_transport)
        self.profile: dict[str, Any] = {
            "about": "Hello from the wagate sandbox",
            "address": "",
            "description": "",
            "email": "",
            "profile_picture_url": "",
            "websites": [],
            "vertical": "OTHER",
        }
        self.blocked: OrderedDict[str, None] = OrderedDict()
        #: Meta's portfolio messaging limit and the number's throughput level (``account_update`` /
        #: ``phone_number_quality_update`` webhooks announce changes).
        self.messaging_limit = "TIER_2K"
        self.quality_rating = "GREEN"

    async def close(self) -> None:
        await self.webhooks.close()

    def now(self) -> float:
        return self.clock.now().timestamp()

    # auth ----------------------------------------------------------------------------

    def authorize(self, header: str | None) -> None:
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), self.config.access_token):
            raise GraphApiError(190)

    # sending -------------------------------------------------------------------------

    def _throttle(self) -> None:
        now = time.monotonic()
        while self._recent_sends and now - self._recent_sends[0] >= 1.0:
            self._recent_sends.popleft()
        if len(self._recent_sends) >= self.config.throughput:
            raise GraphApiError(
                130429, f"Cloud API message throughput ({self.config.throughput:g}/s) has been reached."
            )
        self._recent_sends.append(now)

    def _check_phone_number_id(self, node: str, method: str = "post") -> None:
        if node != self.config.phone_number_id:
            raise unsupported(method, node)

    async def post_messages(self, node: str, body: Any) -> dict[str, Any]:
        """``POST /{phone_number_id}/messages``: send, or mark an inbound message read."""
        self._check_phone_number_id(node)
        if not isinstance(body, dict):
            raise GraphApiError(100, "The request body must be a JSON object.")
        if body.get("messaging_product") != "whatsapp":
            raise GraphApiError(100, "The parameter messaging_product is required and must be 'whatsapp'.")
        if body.get("status") == "read":
            message_id = body.get("message_id")
            if not isinstance(message_id, str) or not message_id:
                raise GraphApiError(100, "The parameter message_id is required.")
            indicator = body.get("typing_indicator")
            if indicator is not None:
                if not isinstance(indicator, dict) or indicator.get("type") != "text":
                    raise GraphApiError(100, "typing_indicator.type must be 'text'.")
                self.typing.append(message_id)
            self.read_marks.append(message_id)
            return {"success": True}
        to = digits(body.get("to"))
        if to is None:
            raise GraphApiError(100, "The parameter to is required and must be a phone number.")
        kind = body.get("type", "text")
        if kind not in SEND_TYPES:
            raise GraphApiError(131051, f"Message type {kind!r} is not supported.")
        self._validate(kind, body)
        self._throttle()
        failure: GraphApiError | None = None
        if to.endswith("0000"):
            failure = GraphApiError(131026, "The recipient phone number is not a WhatsApp phone number.")
            if self.config.undeliverable == "sync":
                raise failure
        elif self.config.enforce_window and kind != "template" and not self._in_window(to):
            failure = GraphApiError(
                131047,
                "Message failed to send because more than 24 hours have passed since the customer last "
                "replied to this number.",
            )
        wamid = new_wamid(to)
        record = SentRecord(
            id=wamid,
            to=to,
            type=kind,
            body=body,
            status="accepted",
            created=self.now(),
            pricing=self._pricing(to, kind, body),
        )
        self._remember(record)
        self.webhooks.spawn(self._progress(record, failure))
        if self.config.answer_delay_seconds > 0:  # accepted; the answer is late ("slow answer" mode)
            await asyncio.sleep(self.config.answer_delay_seconds)
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": str(body.get("to")), "wa_id": to}],
            "messages": [{"id": wamid, **({"message_status": "accepted"} if kind == "template" else {})}],
        }

    def _pricing(self, to: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Meta's per-message pricing object for this send: a template is billed by its category,
        except a utility template inside the customer service window; a free-form message (only
        possible inside the window) is a free service message."""
        in_window = self._in_window(to)
        if kind != "template":
            return {"billable": False, "pricing_model": "PMP", "category": "service", "type": "free_customer_service"}
        obj = body.get("template") or {}
        language = obj.get("language") if isinstance(obj, dict) else None
        code = language.get("code") if isinstance(language, dict) else None
        found = self.find_template(str(obj.get("name")), str(code)) if isinstance(obj, dict) else None
        category = (found.category if found is not None else "MARKETING").lower()
        if category == "utility" and in_window:
            return {"billable": False, "pricing_model": "PMP", "category": "utility", "type": "free_customer_service"}
        return {"billable": True, "pricing_model": "PMP", "category": category, "type": "regular"}

    def _in_window(self, phone: str) -> bool:
        last = self.last_inbound.get(phone)
        return last is not None and self.now() - last < WINDOW_SECONDS

    def _remember(self, record: SentRecord) -> None:
        self.sent[record.id] = record
        while len(self.sent) > self.config.log_size:
            self.sent.popitem(last=False)

    def _validate(self, kind: str, body: dict[str, Any]) -> None:
        obj = body.get(kind)
        if kind == "reaction":
            if not isinstance(obj, dict) or not obj.get("message_id"):
                raise GraphApiError(131008, "reaction.message_id is required.")
            return
        if kind == "contacts":
            if not isinstance(obj, list) or not obj:
                raise GraphApiError(131008, "contacts must be a non-empty list.")
            for card in obj:
                name = card.get("name") if isinstance(card, dict) else None
                if not isinstance(name, dict) or not name.get("formatted_name"):
                    raise GraphApiError(131008, "contacts[].name.formatted_name is required.")
            return
        if not isinstance(obj, dict):
            raise GraphApiError(131008, f"The parameter {kind} is required for type {kind}.")
        if kind == "text":
            text = obj.get("body")
            if not isinstance(text, str) or not text:
                raise GraphApiError(131008, "text.body is required.")
            if len(text) > 4096:
                raise GraphApiError(100, "text.body is longer than 4096 characters.")
        elif kind in MEDIA_TYPES:
            has_link, has_id = bool(obj.get("link")), bool(obj.get("id"))
            if has_link == has_id:
                raise GraphApiError(131008, f"{kind} needs exactly one of link or id.")
            if has_id and str(obj["id"]) not in self.media:
                raise GraphApiError(131053, f"Media id {obj['id']} does not exist or has expired.")
            if has_link and not str(obj["link"]).startswith(("http://", "https://")):
                raise GraphApiError(100, f"{kind}.link must be an http(s) URL.")
            if kind == "audio" and obj.get("caption"):
                raise GraphApiError(100, "audio messages cannot have a caption.")
        elif kind == "location":
            for key in ("latitude", "longitude"):
                if not isinstance(obj.get(key), int | float) or isinstance(obj.get(key), bool):
                    raise GraphApiError(131008, f"location.{key} is required.")
        elif kind == "interactive":
            if not obj.get("type") or not isinstance(obj.get("body"), dict):
                raise GraphApiError(131008, "interactive.type and interactive.body are required.")
        elif kind == "template":
            self._validate_template(obj)

    def _validate_template(self, obj: dict[str, Any]) -> None:
        name = obj.get("name")
        language = obj.get("language")
        code = language.get("code") if isinstance(language, dict) else None
        if not isinstance(name, str) or not name or not isinstance(code, str) or not code:
            raise GraphApiError(131008, "template.name and template.language.code are required.")
        template = self.find_template(name, code)
        if template is None or template.status != "APPROVED":
            state = "is not approved" if template is not None else "does not exist"
            raise GraphApiError(132001, f"template name ({name}) {state} in {code}")
        given = 0
        for component in obj.get("components") or []:
            if isinstance(component, dict) and str(component.get("type", "")).lower() == "body":
                given += len(component.get("parameters") or [])
        if given != template.param_count:
            raise GraphApiError(
                132000,
                f"body: number of localizable_params ({given}) does not match the expected number of params ({template.param_count})",
            )

    def find_template(self, name: str, language: str) -> SimTemplate | None:
        return next((t for t in self.templates if t.name == name and t.language == language), None)

    async def _progress(self, record: SentRecord, failure: GraphApiError | None) -> None:
        """sent → delivered → read (or failed), each a signed webhook after its delay."""
        delays = self.config.status_delays
        if failure is not None:
            await asyncio.sleep(delays[0])
            record.status = "failed"
            record.errors = [failure.webhook_item()]
            await self.webhooks.deliver(self.status_webhook(record, "failed", [failure.webhook_item()]), "status")
            return
        for status, delay in zip(("sent", "delivered", "read"), delays, strict=True):
            await asyncio.sleep(delay)
            record.status = status
            await self.webhooks.deliver(self.status_webhook(record, status), "status")

    def status_webhook(
        self, record: SentRecord, status: str, errors: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": record.id,
            "status": status,
            "timestamp": str(int(self.now())),
            "recipient_id": record.to,
        }
        if errors:
            item["errors"] = errors
        elif record.pricing is not None:
            item["pricing"] = dict(record.pricing)
        return envelope(self.config, {"statuses": [item]})

    # media ---------------------------------------------------------------------------

    def upload_media(self, node: str, content: bytes, mime_type: str, filename: str | None) -> dict[str, str]:
        self._check_phone_number_id(node)
        if not content:
            raise GraphApiError(131053, "The uploaded file is empty.")
        media_id = numeric_id()
        self.media[media_id] = StoredMedia(
            id=media_id,
            content=content,
            mime_type=mime_type,
            sha256=hashlib.sha256(content).hexdigest(),
            filename=filename,
            created=self.now(),
        )
        total = sum(len(m.content) for m in self.media.values())
        while total > MEDIA_BUDGET_BYTES and len(self.media) > 1:
            _, dropped = self.media.popitem(last=False)
            total -= len(dropped.content)
        return {"id": media_id}

    def media_url(self, media: StoredMedia) -> str:
        return f"{self.config.graph_base_url}/attachments/{media.id}?hash={media.sha256[:16]}"

    def describe_node(self, node: str) -> dict[str, Any]:
        """``GET /{id}``: a media object, the phone number, or the WABA."""
        media = self.media.get(node)
        if media is not None:
            return {
                "messaging_product": "whatsapp",
                "url": self.media_url(media),
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": len(media.content),
                "id": media.id,
            }
        if node == self.config.phone_number_id:
            return self.phone_number()
        if node == self.config.waba_id:
            return {"id": node, "name": "wagate sandbox", "currency": "USD", "timezone_id": "1"}
        raise unsupported("get", node)

    def delete_media(self, node: str) -> dict[str, bool]:
        if self.media.pop(node, None) is None:
            raise GraphApiError(100, f"Object with ID '{node}' does not exist.")
        return {"success": True}

    def attachment(self, media_id: str) -> StoredMedia:
        media = self.media.get(media_id)
        if media is None:
            raise GraphApiError(100, f"Object with ID '{media_id}' does not exist.")
        return media

    # the phone number, its profile, blocked users ------------------------------------

    def phone_number(self) -> dict[str, Any]:
        """A phone number object as ``GET /{phone_number_id}`` and ``GET /{waba_id}/phone_numbers`` give it."""
        return {
            "verified_name": "wagate sandbox",
            "code_verification_status": "VERIFIED",
            "display_phone_number": self.config.display_phone_number,
            "quality_rating": self.quality_rating,
            "platform_type": "CLOUD_API",
            "throughput": {"level": "STANDARD"},
            "whatsapp_business_manager_messaging_limit": self.messaging_limit,
            "messaging_limit_tier": self.messaging_limit,
            "name_status": "APPROVED",
            "status": "CONNECTED",
            "id": self.config.phone_number_id,
        }

    async def change_messaging_limit(self, tier: str) -> Delivery:
        """Meta moves the portfolio to ``tier``: a ``phone_number_quality_update`` webhook (its 2026 shape)."""
        old, self.messaging_limit = self.messaging_limit, tier
        order = ["TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"]
        up = order.index(tier) > order.index(old) if old in order and tier in order else True
        value = {
            "display_phone_number": self.config.display_phone_number,
            "event": "UPGRADE" if up else "DOWNGRADE",
            "old_limit": old,
            "max_daily_conversations_per_business": tier,
        }
        body = envelope(self.config, value, "phone_number_quality_update", at=self.now())
        return await self.webhooks.deliver(body, "account")

    def phone_numbers(self, node: str) -> dict[str, Any]:
        if node != self.config.waba_id:
            raise unsupported("get", node)
        cursor = base64.b64encode(self.config.phone_number_id.encode()).decode()
        return {"data": [self.phone_number()], "paging": {"cursors": {"before": cursor, "after": cursor}}}

    def get_profile(self, node: str, fields: str | None) -> dict[str, Any]:
        self._check_phone_number_id(node, "get")
        wanted = [f.strip() for f in (fields or "").split(",") if f.strip()] or list(self.profile)
        data = {k: self.profile[k] for k in wanted if k in self.profile}
        return {"data": [{**data, "messaging_product": "whatsapp"}]}

    def update_profile(self, node: str, body: Any) -> dict[str, Any]:
        self._check_phone_number_id(node)
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            raise GraphApiError(100, "The parameter messaging_product is required and must be 'whatsapp'.")
        limits = {"about": 139, "address": 256, "description": 512, "email": 128, "vertical": 64}
        for key, value in body.items():
            if key in ("messaging_product", "profile_picture_handle"):
                continue
            if key == "websites":
                if not isinstance(value, list) or len(value) > 2 or not all(isinstance(w, str) for w in value):
                    raise GraphApiError(100, "websites must be a list of at most 2 URLs.")
                self.profile["websites"] = list(value)
            elif key in limits:
                if not isinstance(value, str) or len(value) > limits[key]:
                    raise GraphApiError(100, f"{key} must be a string of at most {limits[key]} characters.")
                self.profile[key] = value
            else:
                raise GraphApiError(100, f"Param {key} is not a valid whatsapp business profile field.")
        handle = body.get("profile_picture_handle")
        if isinstance(handle, str) and handle:
            self.profile["profile_picture_url"] = f"{self.config.graph_base_url}/attachments/{handle}"
        return {"success": True}

    def block_users(self, node: str, body: Any, *, block: bool) -> dict[str, Any]:
        self._check_phone_number_id(node)
        users = body.get("block_users") if isinstance(body, dict) else None
        if not isinstance(users, list) or not users:
            raise GraphApiError(131008, "block_users is required.")
        done: list[dict[str, str]] = []
        for item in users:
            raw = item.get("user") if isinstance(item, dict) else None
            phone = digits(raw)
            if phone is None:
                raise GraphApiError(100, f"Invalid user: {raw!r}.")
            if block:
                self.blocked[phone] = None
            else:
                self.blocked.pop(phone, None)
            done.append({"input": str(raw), "wa_id": phone})
        key = "added_users" if block else "removed_users"
        return {"messaging_product": "whatsapp", "block_users": {key: done}}

    def blocked_users(self, node: str) -> dict[str, Any]:
        self._check_phone_number_id(node, "get")
        return {
            "data": [{"messaging_product": "whatsapp", "wa_id": p} for p in self.blocked],
            "paging": {"cursors": {}},
        }

    # templates -----------------------------------------------------------------------

    def list_templates(
        self, node: str, limit: int, after: str | None, filters: dict[str, str], version: str = DEFAULT_API_VERSION
    ) -> dict[str, Any]:
        """``GET /{waba_id}/message_templates``: Meta's filters (``name`` contains, ``status``,
        ``category``, ``language``), cursor paging and the ``summary`` Meta adds."""
        if node != self.config.waba_id:
            raise unsupported("get", node)
        name = filters.get("name")
        statuses = {v.strip().upper() for v in filters.get("status", "").split(",") if v.strip()}
        categories = {v.strip().upper() for v in filters.get("category", "").split(",") if v.strip()}
        language = filters.get("language")
        items = [
            t
            for t in self.templates
            if (not name or name.lower() in t.name.lower())
            and (not statuses or t.status in statuses)
            and (not categories or t.category in categories)
            and (not language or t.language == language)
        ]
        start = 0
        if after:
            try:
                start = int(base64.b64decode(after.encode()).decode())
            except ValueError as exc:
                raise GraphApiError(100, "Invalid cursor.") from exc
        page = items[start : start + limit]
        body: dict[str, Any] = {"data": [t.as_graph() for t in page]}
        if page:
            cursors = {
                "before": base64.b64encode(str(start).encode()).decode(),
                "after": base64.b64encode(str(start + len(page)).encode()).decode(),
            }
            body["paging"] = {"cursors": cursors}
            if start + len(page) < len(items):
                body["paging"]["next"] = (
                    f"{self.config.graph_base_url}/{version}/{node}/message_templates?limit={limit}&after={cursors['after']}"
                )
        body["summary"] = {
            "total_count": len(items),
            "message_template_count": len(self.templates),
            "message_template_limit": 250,
            "are_translations_complete": True,
        }
        return body

    def create_template(self, node: str, body: Any) -> dict[str, Any]:
        if node != self.config.waba_id:
            raise GraphApiError(100, f"Unsupported post request. Object with ID '{node}' does not exist.")
        if not isinstance(body, dict):
            raise GraphApiError(100, "The request body must be a JSON object.")
        name, language, category = body.get("name"), body.get("language"), body.get("category")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,512}", name):
            raise GraphApiError(100, "name must be lower case letters, digits and underscores.")
        if not isinstance(language, str) or not isinstance(category, str):
            raise GraphApiError(131008, "language and category are required.")
        if self.find_template(name, language) is not None:
            raise GraphApiError(100, f"Content in this language already exists for template {name}.")
        raw_components = body.get("components")
        components = [c for c in raw_components if isinstance(c, dict)] if isinstance(raw_components, list) else []
        for component in components:
            if str(component.get("type", "")).upper() != "BODY":
                continue
            count = len(set(PLACEHOLDER.findall(str(component.get("text") or ""))))
            example = component.get("example")
            samples = example.get("body_text") if isinstance(example, dict) else None
            if count and not (isinstance(samples, list) and samples and len(samples[0] or []) == count):
                raise GraphApiError(
                    100, f"The body has {count} variable(s): example.body_text must give one sample each."
                )
        template = SimTemplate(
            id=numeric_id(),
            name=name,
            language=language,
            status="PENDING",
            category=category.upper(),
            components=components,
        )
        self.templates.append(template)
        if self.config.template_review_seconds is not None:
            self.webhooks.spawn(self._review(template, self.config.template_review_seconds))
        return {"id": template.id, "status": template.status, "category": template.category}

    async def _review(self, template: SimTemplate, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.set_template_status(template, "APPROVED")

    async def set_template_status(self, template: SimTemplate, status: str, reason: str | None = None) -> Delivery:
        template.status = status
        value = {
            "event": status,
            "message_template_id": int(template.id),
            "message_template_name": template.name,
            "message_template_language": template.language,
            "reason": reason or "NONE",
        }
        body = envelope(self.config, value, "message_template_status_update", at=self.now())
        return await self.webhooks.deliver(body, "template")

    async def change_template_category(self, template: SimTemplate, category: str, *, impending: bool) -> Delivery:
        """``template_category_update``: Meta is about to recategorize (``impending``: from a day later)
        or has done so."""
        value: dict[str, Any] = {
            "message_template_id": int(template.id),
            "message_template_name": template.name,
            "message_template_language": template.language,
        }
        if impending:
            value.update(
                correct_category=category,
                new_category=template.category,
                category_update_timestamp=int(self.now()) + 24 * 3600,
            )
        else:
            value.update(previous_category=template.category, new_category=category)
            template.category = category
        body = envelope(self.config, value, "template_category_update", at=self.now())
        return await self.webhooks.deliver(body, "template")

    async def change_template_quality(self, template: SimTemplate, quality: str) -> Delivery:
        """``message_template_quality_update`` (GREEN, YELLOW, RED, UNKNOWN)."""
        value = {
            "previous_quality_score": template.quality,
            "new_quality_score": quality,
            "message_template_id": int(template.id),
            "message_template_name": template.name,
            "message_template_language": template.language,
        }
        template.quality = quality
        body = envelope(self.config, value, "message_template_quality_update", at=self.now())
        return await self.webhooks.deliver(body, "template")

    # contacts (the On-Premises API's check, a sandbox extra) ------------------------

    def check_contacts(self, node: str, body: Any) -> dict[str, Any]:
        self._check_phone_number_id(node)
        numbers = body.get("contacts") if isinstance(body, dict) else None
        if not isinstance(numbers, list):
            raise GraphApiError(131008, "contacts is required.")
        out = []
        for number in numbers:
            phone = digits(number)
            if phone is None or phone.endswith("0000"):
                out.append({"input": str(number), "status": "invalid"})
            else:
                out.append({"input": str(number), "status": "valid", "wa_id": phone})
        return {"contacts": out}

    # a customer writes in ------------------------------------------------------------

    def inbound_message(self, request: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
        """``POST /sandbox/inject`` body → (wamid, webhook body, phone). Raises ``ValueError`` naming the field."""
        from wagate.sandbox.inject import build_inbound

        wamid, message, name = build_inbound(self, request)
        phone = message["from"]
        value = {"contacts": [{"profile": {"name": name}, "wa_id": phone}], "messages": [message]}
        self.last_inbound[phone] = self.now()
        self.inbound.append(message)
        return wamid, envelope(self.config, value), phone
