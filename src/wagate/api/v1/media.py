"""``/v1/media``: files the gateway keeps — inbound media from providers, files a CRM uploads to send.

A message may name an uploaded file by its URL (``media.url``); the channel then reads the
file from disk (the cloud channel uploads it to Meta) instead of fetching a URL.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, UploadFile
from fastapi.responses import FileResponse

from wagate.api import browser_safety
from wagate.api.deps import PrincipalDep, RuntimeDep
from wagate.errors import NotFoundError, ValidationError
from wagate.services import media as service

router = APIRouter(prefix="/v1/media", tags=["media"])
CHUNK = 1024 * 1024


@router.post("", status_code=201, summary="Upload a file (multipart field 'file') to send as media")
async def upload(file: UploadFile, principal: PrincipalDep, rt: RuntimeDep) -> dict[str, Any]:
    chunks: list[bytes] = []
    total = 0
    while chunk := await file.read(CHUNK):
        total += len(chunk)
        if total > service.MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"files are limited to {service.MAX_UPLOAD_BYTES} bytes", field="file", code="too_large"
            )
        chunks.append(chunk)
    if total == 0:
        raise ValidationError("the file is empty", field="file", code="required")
    stored = await service.store(rt.settings, principal.tenant.id, b"".join(chunks), file.content_type, file.filename)
    return {
        "name": stored.name,
        "url": service.media_url(rt.settings, stored.name),
        "mime_type": stored.mime_type,
        "size": stored.size,
        "sha256": stored.sha256,
        "filename": file.filename,
    }


@router.get("/{name}", summary="Download a stored file (inbound media, uploads)", response_class=FileResponse)
async def download(name: str, principal: PrincipalDep, rt: RuntimeDep) -> FileResponse:
    path = service.path_of(rt.settings, principal.tenant.id, name)
    if path is None:
        raise NotFoundError("no such media file", field="name")
    return browser_safety.file_response(path, service.mime_for_name(name))
