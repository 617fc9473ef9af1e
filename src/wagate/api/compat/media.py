"""MIME types of files the compatibility doors send, and the media class each one is sent as.

The classes and limits are the Devino-style table of the original service's description (audio, document, image,
video, voice). What is checked here, at acceptance, is only the type: it must be an existing
MIME type, and it decides the message type. Sizes cannot be known without fetching the file,
so they are left to send time, where the provider enforces them (see docs/compatibility.md).

The MIME table is Python's built-in one (``mimetypes.MimeTypes()`` without system files, so
every machine answers the same) plus the types the original service's table names.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
from urllib.parse import unquote, urlparse

from wagate.domain.messages import MessageType

_BUILTIN = mimetypes.MimeTypes()
_EXTRA_BY_EXTENSION = {
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".amr": "audio/amr",
    ".m4a": "audio/mp4",
    ".mp4a": "audio/mp4",
    ".aac": "audio/aac",
    ".3gp": "video/3gpp",
    ".3g2": "video/3gpp2",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
}
KNOWN_TYPES: frozenset[str] = frozenset(
    {*_BUILTIN.types_map[True].values(), *_BUILTIN.types_map[False].values(), *_EXTRA_BY_EXTENSION.values()}
    | {"audio/mp4", "audio/amr", "audio/ogg", "video/3gpp", "audio/mpeg"}
)
#: The hosted services' own table spells the voice type ``auidio/ogg``; a CRM that copied it is understood.
ALIASES = {"auidio/ogg": "audio/ogg", "image/jpg": "image/jpeg"}

_TOP_LEVEL = ("application", "audio", "font", "image", "message", "model", "multipart", "text", "video")
_TOKEN = r"[A-Za-z0-9][A-Za-z0-9!#$&\-^_.+]{0,126}"
_MIME = re.compile(rf"^({_TOKEN})/({_TOKEN})$")

#: The hosted services' media classes: the types WhatsApp shows natively; any other valid type is a document.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
VIDEO_TYPES = frozenset({"video/mp4", "video/3gpp"})
AUDIO_TYPES = frozenset({"audio/aac", "audio/mp4", "audio/amr", "audio/mpeg", "audio/ogg"})
VOICE_TYPES = frozenset({"audio/ogg"})


def normalize_mime(value: str) -> str | None:
    """``"Audio/OGG; codecs=opus"`` → ``"audio/ogg"``; ``None`` if it is not an existing MIME type.

    Existing means: in the table, or in an open registration tree (``vnd.``, ``x-``, ``prs.``)
    under an IANA top-level type — those trees are open-ended by design.
    """
    essence = value.split(";", 1)[0].strip().lower()
    essence = ALIASES.get(essence, essence)
    match = _MIME.match(essence)
    if match is None:
        return None
    top, sub = match.groups()
    if essence in KNOWN_TYPES:
        return essence
    if top in _TOP_LEVEL and sub.startswith(("vnd.", "x-", "prs.")):
        return essence
    return None


def guess_mime(url: str) -> str | None:
    """The MIME type a URL's file name suggests (query and fragment ignored)."""
    path = unquote(urlparse(url).path)
    extension = posixpath.splitext(path)[1].lower()
    if not extension:
        return None
    if extension in _EXTRA_BY_EXTENSION:
        return _EXTRA_BY_EXTENSION[extension]
    guessed, _encoding = _BUILTIN.guess_type("file" + extension, strict=False)
    return ALIASES.get(guessed, guessed) if guessed else None


def file_name(url: str) -> str | None:
    """The last path segment of a URL, if it has one."""
    name = posixpath.basename(unquote(urlparse(url).path))
    return name[:255] or None


def media_class(mime: str | None) -> MessageType:
    """The message type a file of this (normalised) MIME type is sent as."""
    if mime in VOICE_TYPES:
        return MessageType.VOICE
    if mime in IMAGE_TYPES:
        return MessageType.IMAGE
    if mime in VIDEO_TYPES:
        return MessageType.VIDEO
    if mime in AUDIO_TYPES:
        return MessageType.AUDIO
    return MessageType.DOCUMENT
