"""Media files kept by the gateway: inbound media downloaded from providers, files uploaded by CRMs.

Files live under ``WAGATE_DATA_DIR/media/<tenant id>/<random name>.<ext>`` and are served
only to API callers of that tenant (``GET /v1/media/{name}``). Names are 32 random hex
characters plus an extension chosen from the MIME type, so a name is unguessable, never
reused and safe as a path component; the content of a name never changes, which lets a
channel cache "this file is already uploaded to the provider as id X".
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

from wagate.config import Settings
from wagate.domain.mediatypes import base_mime, extension_for
from wagate.domain.mediatypes import mime_for_name as mime_for_name  # re-exported
from wagate.errors import ValidationError

NAME_RE = re.compile(r"^[0-9a-f]{32}(\.[A-Za-z0-9]{1,10})?$")
ROUTE = "/v1/media/"
#: Larger than any Cloud API media limit (documents: 100 MB).
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredMedia:
    name: str
    path: Path
    mime_type: str
    size: int
    sha256: str


def tenant_dir(settings: Settings, tenant_id: int) -> Path:
    return settings.data_dir / "media" / str(int(tenant_id))


def prune_files(settings: Settings, tenant_id: int, before: datetime) -> int:
    """Delete the tenant's media files last written before ``before`` (retention); returns how many.

    Each node prunes its own ``DATA_DIR``. Only names this module gives out are touched.
    """
    directory = tenant_dir(settings, tenant_id)
    if not directory.is_dir():
        return 0
    cutoff = before.timestamp()
    removed = 0
    with os.scandir(directory) as entries:
        for entry in entries:
            if not NAME_RE.match(entry.name) or not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                with contextlib.suppress(FileNotFoundError):  # another pass got it first
                    os.unlink(entry.path)
                    removed += 1
    return removed


def media_url(settings: Settings, name: str) -> str:
    return f"{settings.base_url}{ROUTE}{name}"


def local_name_for_url(settings: Settings, url: str) -> str | None:
    """The file name if ``url`` is one of this gateway's own media URLs, else ``None``."""
    prefix = f"{settings.base_url}{ROUTE}"
    if url.startswith(prefix):
        name = url[len(prefix) :].split("?", 1)[0]
        return name if NAME_RE.match(name) else None
    parsed = urlparse(url)
    own = urlparse(settings.base_url)
    if parsed.netloc == own.netloc and parsed.path.startswith(ROUTE):
        name = parsed.path[len(ROUTE) :]
        return name if NAME_RE.match(name) else None
    return None


def is_own_media_url(settings: Settings, url: str) -> bool:
    """True when ``url`` points at this gateway's ``/v1/media/`` route, whatever the name."""
    parsed = urlparse(url)
    own = urlparse(settings.base_url)
    return parsed.netloc == own.netloc and parsed.path.startswith(ROUTE)


def check_own_media(settings: Settings, tenant_id: int, url: str) -> None:
    """A media URL of this gateway must name one of the tenant's stored files.

    Fetched over HTTP it would answer 401 (or 404) and the message would fail later with a
    misleading "media URL answered HTTP 401"; refused at the door it says what is wrong.
    """
    if not url or not is_own_media_url(settings, url):
        return
    name = local_name_for_url(settings, url)
    if name is None or path_of(settings, tenant_id, name) is None:
        raise ValidationError(f"no such media on this gateway: {url}", field="media.url", code="media_not_found")


def path_of(settings: Settings, tenant_id: int, name: str) -> Path | None:
    """The file for ``name`` in the tenant's directory, if the name is valid and the file exists."""
    if not NAME_RE.match(name):
        return None
    path = tenant_dir(settings, tenant_id) / name
    return path if path.is_file() else None


def _write(directory: Path, name: str, content: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    tmp = directory / f".{name}.part"
    tmp.write_bytes(content)
    tmp.replace(path)
    return path


async def store(
    settings: Settings, tenant_id: int, content: bytes, mime_type: str | None, filename: str | None = None
) -> StoredMedia:
    """Write ``content`` under a fresh name (atomically: a reader never sees half a file)."""
    mime = base_mime(mime_type)
    name = secrets.token_hex(16) + extension_for(mime, filename)
    path = await asyncio.to_thread(_write, tenant_dir(settings, tenant_id), name, content)
    return StoredMedia(
        name=name, path=path, mime_type=mime, size=len(content), sha256=hashlib.sha256(content).hexdigest()
    )


async def read(settings: Settings, tenant_id: int, name: str) -> bytes | None:
    path = path_of(settings, tenant_id, name)
    if path is None:
        return None
    return await asyncio.to_thread(path.read_bytes)
