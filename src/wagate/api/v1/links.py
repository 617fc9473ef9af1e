"""``/v1/links``: click-to-chat (``wa.me``) and opt-in page links with QR codes and a website button."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from wagate.api.deps import PrincipalDep, RuntimeDep
from wagate.services import links as service

router = APIRouter(prefix="/v1/links", tags=["links"])

Format = Annotated[str, Query(pattern="^(json|svg|png)$")]
Scale = Annotated[int, Query(ge=1, le=40)]


def _image(data: str, fmt: str, scale: int, field: str) -> Response:
    if fmt == "svg":
        return Response(service.qr_svg(data, scale, field), media_type="image/svg+xml")
    return Response(service.qr_png(data, scale, field), media_type="image/png")


IMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The link (format=json) or its QR code (format=svg or png)",
        "content": {
            "image/svg+xml": {"schema": {"type": "string"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get(
    "/click-to-chat",
    summary="A wa.me link to chat with a number, and its QR code (json, svg or png)",
    responses=IMAGE_RESPONSES,
)
async def click_to_chat(
    principal: PrincipalDep,
    rt: RuntimeDep,
    phone: str | None = None,
    text: str | None = None,
    format: Format = "json",
    scale: Scale = 4,
) -> Any:
    link = await service.click_to_chat(rt, principal.tenant, phone, text)
    if format != "json":
        return _image(link["url"], format, scale, "text")
    return {**link, "qr": service.qr_json(link["url"], scale, "text")}


@router.get(
    "/optin",
    summary="The public opt-in page: link, QR code (json, svg or png) and a website button",
    responses=IMAGE_RESPONSES,
)
async def optin_link(
    principal: PrincipalDep,
    rt: RuntimeDep,
    format: Format = "json",
    scale: Scale = 4,
    lang: Annotated[str, Query(pattern="^(en|ru)$")] = "en",
) -> Any:
    tenant = principal.tenant
    url = service.optin_url(rt, tenant)
    qr_url = service.optin_url(rt, tenant, "qr")
    if format != "json":
        return _image(qr_url, format, scale, "url")
    return {
        "url": url,
        "qr_url": qr_url,
        "qr": service.qr_json(qr_url, scale, "url"),
        "button_html": service.optin_button(url, service.BUTTON_LABELS[lang]),
    }
