"""Encryption at rest for secrets wagate must be able to read back (invariant 8).

API and device tokens are only hashed. Channel credentials (Cloud API access token, app
secret) and webhook signing secrets must be usable later, so they are stored encrypted
with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``). The key comes from
``WAGATE_SECRET_KEY`` or, failing that, ``DATA_DIR/secret.key``, created once with mode 0600.
Values are stored as ``enc:v1:<token>`` so plain legacy values are recognisable.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "enc:v1:"


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._key = key

    def derive(self, purpose: str) -> bytes:
        """A key for ``purpose`` (e.g. signing media links), derived from this one with HMAC-SHA256:
        every node with the same ``WAGATE_SECRET_KEY`` derives the same, nothing else can."""
        return hmac.new(self._key, f"wagate:{purpose}".encode(), hashlib.sha256).digest()

    @classmethod
    def from_environment(cls, data_dir: Path, env_key: str | None = None) -> SecretBox:
        key = env_key or os.environ.get("WAGATE_SECRET_KEY")
        if key:
            return cls(key.encode())
        path = data_dir / "secret.key"
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def encrypt(self, plaintext: str) -> str:
        return PREFIX + self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, stored: str) -> str:
        """Plain values (not starting with the prefix) pass through, e.g. ones set before encryption."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with this key (WAGATE_SECRET_KEY changed?)") from exc

    @staticmethod
    def is_encrypted(stored: str) -> bool:
        return stored.startswith(PREFIX)
