"""What the agent did with each message, kept until the gateway has heard it.

Written before the gateway is told, so an agent that restarts (or a lease the gateway
re-offers) never makes the phone send a message twice:

* ``clicking`` — written just before pressing send: if the agent dies here, it looks for the
  message in the chat before trying again;
* ``done`` — the outcome is known (``sent``, ``failed``, ``not_on_whatsapp``) and waits to be
  reported; a re-offered message with a ``done`` entry is reported again, not re-sent.

A ``path`` makes it survive restarts (JSON, replaced atomically).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

KEEP = 2000


@dataclass
class Entry:
    state: str  # "clicking" | "done"
    status: str | None = None
    error: str | None = None
    retry: bool = False
    reported: bool = False


class Journal:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._entries: dict[int, Entry] = {}
        self._lock = threading.Lock()
        if path is not None and path.exists():
            data = json.loads(path.read_text() or "{}")
            self._entries = {int(k): Entry(**v) for k, v in data.items()}

    def get(self, message_id: int) -> Entry | None:
        with self._lock:
            return self._entries.get(message_id)

    def clicking(self, message_id: int) -> None:
        self._put(message_id, Entry("clicking"))

    def done(self, message_id: int, status: str, error: str | None = None, retry: bool = False) -> None:
        self._put(message_id, Entry("done", status, error, retry))

    def reported(self, message_id: int) -> None:
        with self._lock:
            entry = self._entries.get(message_id)
            if entry is None:
                return
            if entry.retry:  # a retry is a new attempt: forget it, the gateway will offer it again
                del self._entries[message_id]
            else:
                entry.reported = True
            self._save()

    def unreported(self) -> list[tuple[int, Entry]]:
        with self._lock:
            return [(k, v) for k, v in self._entries.items() if v.state == "done" and not v.reported]

    def _put(self, message_id: int, entry: Entry) -> None:
        with self._lock:
            self._entries[message_id] = entry
            if len(self._entries) > KEEP:
                for old in sorted(self._entries)[: len(self._entries) - KEEP]:
                    del self._entries[old]
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({str(k): asdict(v) for k, v in self._entries.items()}))
        os.replace(tmp, self.path)
