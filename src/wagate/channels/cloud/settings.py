"""The settings of a ``cloud`` channel: validation, secrets at rest, and reading them back.

Stored settings (``channels.settings``)::

    phone_number_id   the sending number's id in Meta's WhatsApp Manager          (required)
    access_token      a system-user token with whatsapp_business_messaging       (required, secret)
    app_secret        the Meta app's secret: checks X-Hub-Signature-256          (secret)
    verify_token      your choice; Meta echoes it in the webhook handshake       (secret)
    waba_id           the WhatsApp Business Account id: message_templates
    graph_url         default https://graph.facebook.com (the sandbox: …/sandbox/graph)
    api_version       default ``versions.DEFAULT_API_VERSION``; a pinned version is warned about
                      within 60 days of Meta's retirement date (see ``versions``)
    webhook_id        generated: the callback URL is {public URL}/webhooks/cloud/{webhook_id}
    upload_media      auto (default) | always | never — see ``channel.CloudChannel``
    contacts_check    false (default): true where the endpoint offers the On-Premises contact check
    timeout_seconds   default 30

Secrets (invariant 8): a plain value is encrypted with the node's ``SecretBox`` when the
channel is created or patched (``enc:v1:…``); a value ``env:NAME`` is not stored at all but
read from the environment variable ``NAME`` when the channel starts. The API masks them.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from wagate.channels.cloud.versions import parse_version
from wagate.crypto import SecretBox
from wagate.errors import ValidationError

SECRET_FIELDS = ("access_token", "app_secret", "verify_token")
UPLOAD_MODES = ("auto", "always", "never")
ENV_PREFIX = "env:"
MASK = "***"


def _require_str(settings: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = settings.get(key)
    if value is None or value == "":
        if required:
            raise ValidationError(f"settings.{key} is required for a cloud channel", field=f"settings.{key}")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValidationError(f"settings.{key} must be a string", field=f"settings.{key}")
    return str(value)


def prepare_settings(settings: dict[str, Any], box: SecretBox) -> dict[str, Any]:
    """Validate, encrypt plain secrets, generate the webhook id. Idempotent on its own output."""
    out = dict(settings)
    out["phone_number_id"] = _require_str(out, "phone_number_id", required=True)
    for key in ("waba_id", "api_version", "display_phone_number"):
        value = _require_str(out, key)
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    if "api_version" in out and parse_version(out["api_version"]) is None:
        raise ValidationError("settings.api_version must look like v26.0", field="settings.api_version")
    if out.get("graph_url") is not None:
        url = _require_str(out, "graph_url")
        parsed = urlparse(url or "")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValidationError("settings.graph_url must be an http(s) URL", field="settings.graph_url")
        out["graph_url"] = (url or "").rstrip("/")
    mode = out.get("upload_media", "auto")
    if mode not in UPLOAD_MODES:
        raise ValidationError("settings.upload_media must be auto, always or never", field="settings.upload_media")
    out["upload_media"] = mode
    for key in ("contacts_check",):
        if key in out and not isinstance(out[key], bool):
            raise ValidationError(f"settings.{key} must be true or false", field=f"settings.{key}")
    if "timeout_seconds" in out:
        timeout = out["timeout_seconds"]
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 1 <= timeout <= 300:
            raise ValidationError("settings.timeout_seconds must be 1–300", field="settings.timeout_seconds")
    for key in SECRET_FIELDS:
        value = out.get(key)
        if value is None or value == "":
            if key == "access_token":
                raise ValidationError("settings.access_token is required", field="settings.access_token")
            out.pop(key, None)
            continue
        if not isinstance(value, str):
            raise ValidationError(f"settings.{key} must be a string", field=f"settings.{key}")
        if value == MASK:
            raise ValidationError(f"settings.{key}: send the secret itself, not its mask", field=f"settings.{key}")
        if not value.startswith(ENV_PREFIX) and not SecretBox.is_encrypted(value):
            out[key] = box.encrypt(value)
    webhook_id = out.get("webhook_id")
    if not isinstance(webhook_id, str) or not webhook_id.isalnum() or len(webhook_id) > 64:
        out["webhook_id"] = secrets.token_hex(12)
    return out


def reveal(value: Any, box: SecretBox | None) -> str | None:
    """A stored secret in clear: decrypt ``enc:v1:``, read ``env:NAME``, pass anything else."""
    if not isinstance(value, str) or not value:
        return None
    if value.startswith(ENV_PREFIX):
        return os.environ.get(value[len(ENV_PREFIX) :]) or None
    if SecretBox.is_encrypted(value):
        if box is None:
            raise ValueError("an encrypted secret needs the node's SecretBox")
        return box.decrypt(value)
    return value


@dataclass(frozen=True, slots=True)
class CloudSettings:
    """A channel's settings with secrets in clear, as the running channel uses them."""

    phone_number_id: str
    access_token: str
    app_secret: str | None
    verify_token: str | None
    waba_id: str | None
    graph_url: str
    api_version: str
    webhook_id: str | None
    upload_media: str
    contacts_check: bool
    timeout_seconds: float

    @classmethod
    def from_stored(cls, settings: dict[str, Any], box: SecretBox | None) -> CloudSettings:
        from wagate.channels.cloud.client import DEFAULT_API_VERSION, DEFAULT_GRAPH_URL

        return cls(
            phone_number_id=str(settings.get("phone_number_id") or ""),
            access_token=reveal(settings.get("access_token"), box) or "",
            app_secret=reveal(settings.get("app_secret"), box),
            verify_token=reveal(settings.get("verify_token"), box),
            waba_id=str(settings["waba_id"]) if settings.get("waba_id") else None,
            graph_url=str(settings.get("graph_url") or DEFAULT_GRAPH_URL),
            api_version=str(settings.get("api_version") or DEFAULT_API_VERSION),
            webhook_id=str(settings["webhook_id"]) if settings.get("webhook_id") else None,
            upload_media=str(settings.get("upload_media") or "auto"),
            contacts_check=bool(settings.get("contacts_check", False)),
            timeout_seconds=float(settings.get("timeout_seconds") or 30.0),
        )
