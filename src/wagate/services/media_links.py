"""Signed, expiring links to the gateway's media files, for CRMs that fetch them as plain URLs.

A CRM gets a file of an inbound message as a URL (webhooks, the events feed, WAMM's
``msg_link``, Devino's ``contentUrl``) and opens it without headers. Such a link is a
capability: ``{public URL}/v1/media/{name}?t={tenant}&exp={unix time}&sig={signature}``, where
the signature is HMAC-SHA256 over ``tenant:name:exp`` with a key derived from the node's
secret key (``WAGATE_SECRET_KEY`` or ``DATA_DIR/secret.key``), so every node of a deployment
signs and checks the same. It opens until ``exp`` (``WAGATE_MEDIA_LINK_TTL_SECONDS``, 7 days by
default); a changed name, tenant, expiry or signature, or a past expiry, is refused with 403.
The stored message keeps the plain URL (``Authorization: Bearer`` works on it as before):
links are signed when they are handed out, so each hand-out opens for the full period.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from wagate.runtime import Runtime
from wagate.services import media as media_service

PURPOSE = "media-links"


def _signature(rt: Runtime, tenant_id: int, name: str, exp: int) -> str:
    digest = hmac.new(rt.secret_box.derive(PURPOSE), f"{tenant_id}:{name}:{exp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signed_url(rt: Runtime, tenant_id: int, name: str, now: datetime | None = None) -> str:
    """A link to the tenant's file ``name`` that opens without headers until it expires."""
    moment = now or rt.clock.now()
    exp = int(moment.timestamp() + rt.settings.media_link_ttl_seconds)
    query = urlencode({"t": tenant_id, "exp": exp, "sig": _signature(rt, tenant_id, name, exp)})
    return f"{media_service.media_url(rt.settings, name)}?{query}"


def sign_url(rt: Runtime, tenant_id: int, url: str, now: datetime | None = None) -> str:
    """``url`` signed if it is one of this gateway's media URLs; any other URL is returned as is."""
    name = media_service.local_name_for_url(rt.settings, url)
    return signed_url(rt, tenant_id, name, now) if name is not None else url


def sign_links(rt: Runtime, tenant_id: int, value: Any, now: datetime | None = None) -> Any:
    """A copy of a JSON value with every own media URL under a ``url`` key signed."""
    moment = now or rt.clock.now()
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "url" and isinstance(item, str):
                out[key] = sign_url(rt, tenant_id, item, moment)
            else:
                out[key] = sign_links(rt, tenant_id, item, moment)
        return out
    if isinstance(value, list):
        return [sign_links(rt, tenant_id, item, moment) for item in value]
    return value


def verify(rt: Runtime, name: str, tenant: str | None, exp: str | None, sig: str | None) -> int | None:
    """The tenant id a signed link is for, or ``None`` when it is malformed, tampered with or expired."""
    if not (tenant and exp and sig and tenant.isdigit() and exp.isdigit()):
        return None
    tenant_id, expires = int(tenant), int(exp)
    if not hmac.compare_digest(_signature(rt, tenant_id, name, expires), sig):
        return None
    if expires <= rt.clock.now().timestamp():
        return None
    return tenant_id
