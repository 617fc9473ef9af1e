"""Click-to-chat links (``wa.me``), opt-in page links, and their QR codes (``segno``).

A QR code is the hosted services' suggested way to subscribe from print or a shop counter; the same
link works as a website button.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote, urlencode

import segno

from wagate.domain.phones import normalize_phone
from wagate.domain.records import Tenant
from wagate.errors import ValidationError
from wagate.runtime import Runtime

MAX_LINK_TEXT = 1000
PHONE_SETTINGS = ("phone", "phone_number", "display_phone_number")


def wa_me(phone: str, text: str | None) -> str:
    """``https://wa.me/<digits>[?text=…]``: opens a chat with ``phone`` on a phone or WhatsApp Web."""
    url = f"https://wa.me/{phone}"
    return f"{url}?text={quote(text, safe='')}" if text else url


def _qr(data: str, field: str) -> segno.QRCode:
    try:
        return segno.make(data, error="m", micro=False)
    except segno.DataOverflowError as exc:
        raise ValidationError("too long to fit in a QR code", field=field, code="too_long") from exc


def qr_svg(data: str, scale: int = 4, field: str = "text") -> str:
    buffer = io.BytesIO()
    _qr(data, field).save(buffer, kind="svg", scale=scale, xmldecl=False, svgns=True, title="QR code")
    return buffer.getvalue().decode()


def qr_png(data: str, scale: int = 4, field: str = "text") -> bytes:
    buffer = io.BytesIO()
    _qr(data, field).save(buffer, kind="png", scale=scale)
    return buffer.getvalue()


def qr_json(data: str, scale: int = 4, field: str = "text") -> dict[str, str]:
    return {"svg": qr_svg(data, scale, field), "png": _qr(data, field).png_data_uri(scale=scale)}


async def business_phone(rt: Runtime, tenant: Tenant, phone: str | None) -> str:
    """The number to chat with: as given, else the default channel's own number from its settings."""
    if phone:
        return normalize_phone(phone, tenant.default_region, "phone")
    channels = await rt.channels_of(tenant.id)
    ordered = sorted(channels.values(), key=lambda c: (not c.is_default, c.id))
    for row in ordered:
        for key in PHONE_SETTINGS:
            value = row.settings.get(key)
            if isinstance(value, str | int) and str(value).strip():
                return normalize_phone(str(value), tenant.default_region, "phone")
    raise ValidationError("phone is required (no channel has a phone number in its settings)", field="phone")


async def click_to_chat(rt: Runtime, tenant: Tenant, phone: str | None, text: str | None) -> dict[str, Any]:
    if text is not None and len(text) > MAX_LINK_TEXT:
        raise ValidationError(f"text is longer than {MAX_LINK_TEXT} characters", field="text", code="too_long")
    number = await business_phone(rt, tenant, phone)
    return {"phone": number, "text": text or None, "url": wa_me(number, text or None)}


def optin_url(rt: Runtime, tenant: Tenant, source: str | None = None) -> str:
    base = f"{rt.settings.base_url}/optin/{quote(tenant.name, safe='')}"
    return f"{base}?{urlencode({'src': source})}" if source else base


BUTTON_LABELS = {"en": "Get WhatsApp notifications", "ru": "Получать уведомления в WhatsApp"}


def optin_button(url: str, label: str) -> str:
    """A self-contained HTML snippet (no script, no external assets) to paste into a website."""
    from html import escape

    return (
        f'<a href="{escape(url)}" target="_blank" rel="noopener" '
        'style="display:inline-block;padding:10px 18px;border-radius:22px;background:#25D366;color:#fff;'
        'font:600 15px/1.2 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;text-decoration:none">'
        f"{escape(label)}</a>"
    )
