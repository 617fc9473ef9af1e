"""``GET/PATCH /v1/channels/{name}/profile``: the WhatsApp business profile of a channel's number.

The fields are Meta's (``about`` ≤ 139 characters, ``address`` ≤ 256, ``description`` ≤ 512,
``email`` ≤ 128, ``websites`` ≤ 2 URLs, ``vertical``); the profile photo is shown
(``profile_picture_url``) but changed in WhatsApp Manager (it needs Meta's resumable upload).
Channels whose protocol has no profile answer 422 ``not_supported``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from wagate.api.deps import AdminDep, JsonObject, PrincipalDep, RuntimeDep
from wagate.errors import ValidationError
from wagate.services.messages import resolve_channel

router = APIRouter(prefix="/v1/channels", tags=["channels"])

LIMITS = {"about": 139, "address": 256, "description": 512, "email": 128, "vertical": 64}


async def _profile_channel(rt: Any, tenant: Any, name: str, method: str) -> Any:
    row = await resolve_channel(rt, tenant, name)
    instance = await rt.channel_instance(row) if rt.registry.knows(row.kind) else None
    if instance is None or getattr(instance, method, None) is None:
        raise ValidationError(
            f"channel {row.name!r} ({row.kind}) has no business profile", field="name", code="not_supported"
        )
    return instance


def validate_profile(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "websites":
            if (
                not isinstance(value, list)
                or len(value) > 2
                or not all(isinstance(w, str) and w.startswith(("http://", "https://")) for w in value)
            ):
                raise ValidationError("websites is a list of at most 2 http(s) URLs", field="websites")
            out[key] = value
        elif key in LIMITS:
            if not isinstance(value, str) or len(value) > LIMITS[key]:
                raise ValidationError(f"{key} is text of at most {LIMITS[key]} characters", field=key)
            if key == "email" and value and "@" not in value:
                raise ValidationError("email must be an e-mail address", field=key)
            out[key] = value
        else:
            raise ValidationError(f"{key!r} is not a profile field ({', '.join([*LIMITS, 'websites'])})", field=key)
    if not out:
        raise ValidationError("nothing to change", field="body")
    return out


@router.get("/{name}/profile", summary="The channel's WhatsApp business profile (cloud channels)")
async def get_profile(name: str, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    channel = await _profile_channel(rt, principal.tenant, name, "get_profile")
    profile: dict[str, Any] = await channel.get_profile()
    profile.pop("messaging_product", None)
    return {"channel": name, **profile}


@router.patch("/{name}/profile", summary="Change about, address, description, email, websites or vertical (admin)")
async def patch_profile(name: str, principal: AdminDep, rt: RuntimeDep, body: JsonObject) -> dict[str, Any]:
    changes = validate_profile(body)
    channel = await _profile_channel(rt, principal.tenant, name, "update_profile")
    await channel.update_profile(changes)
    profile: dict[str, Any] = await channel.get_profile()
    profile.pop("messaging_product", None)
    return {"channel": name, **profile}
