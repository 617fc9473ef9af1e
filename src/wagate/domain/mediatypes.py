"""MIME types of media files: pure helpers shared by the media store and the channels."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

__all__ = ["base_mime", "extension_for", "mime_for_name"]


def base_mime(mime_type: str | None) -> str:
    """``audio/ogg; codecs=opus`` → ``audio/ogg``."""
    return (mime_type or "").split(";", 1)[0].strip().lower() or "application/octet-stream"


def extension_for(mime_type: str | None, filename: str | None = None) -> str:
    mime = base_mime(mime_type)
    ext = mimetypes.guess_extension(mime, strict=False) if mime != "application/octet-stream" else None
    if not ext and filename:
        suffix = Path(filename).suffix
        if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", suffix):
            ext = suffix.lower()
    return ext or ".bin"


def mime_for_name(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"
