"""``FakeDevice``: a phone with WhatsApp, modelled well enough to run the real agent loop.

It implements ``Driver`` the way WhatsApp behaves on Android:

* a ``wa.me`` link opens the chat, but the input field (``com.whatsapp:id/entry``) appears
  only after a delay (per number if you like), pre-filled with the link's text;
* a number ending in ``0000`` is not on WhatsApp: a dialog says so after a moment;
* the app can crash on opening a chat, while the text is typed (before send) or right after
  send — Android's "WhatsApp keeps stopping" dialog then takes the screen;
* with the screen off nothing opens; ``wake`` turns it on;
* messages written to the phone show up as notifications (one per chat, updated in place
  like WhatsApp's), groups and summaries included;
* every press of send is recorded, so a test can prove a message went out exactly once.

Time is the agent's ``AgentClock``: with a ``VirtualClock`` the delays hold exactly.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from wagate.agent import whatsapp as wa
from wagate.agent.driver import AgentClock, DriverError, Notification, PhoneStatus

LAUNCHER = "com.android.launcher3"
EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: the fake phone's clock starts here


@dataclass(frozen=True, slots=True)
class SentMessage:
    phone: str
    text: str
    at: float
    media: str | None = None


@dataclass
class FakeDevice:
    clock: AgentClock
    #: Seconds from opening a chat until its input field is there.
    entry_delay: float = 1.0
    #: Seconds until the "not on WhatsApp" dialog shows.
    dialog_delay: float = 0.5
    whatsapp_version: str = "2.24.10.85"
    battery: int = 80
    charging: bool = True
    screen_on: bool = True
    #: Per-number input-field delays, overriding ``entry_delay``.
    entry_delays: dict[str, float] = field(default_factory=dict)
    #: One-shot crashes per number: ``on_open``, ``before_send`` (while typing) or ``after_send``.
    crashes: dict[str, str] = field(default_factory=dict)
    #: Called with every message the moment send is pressed (tests use it to stop the agent there).
    on_send: Callable[[SentMessage], None] | None = None

    sent: list[SentMessage] = field(default_factory=list)
    history: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)

    screen: str = "home"  # home | whatsapp | chat | media | not_registered | crash
    chat_phone: str | None = None
    entry_text: str = ""
    media_path: str | None = None
    ready_at: float = 0.0
    dialog_text: str = ""
    _notifications: dict[str, Notification] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- what tests look at -----------------------------------------------------------------------

    def sends(self) -> Counter[tuple[str, str]]:
        """How many times send was pressed for each (phone, text): every message once, or a bug."""
        with self._lock:
            return Counter((m.phone, m.text) for m in self.sent)

    def receive(
        self, title: str, text: str, *, chat: str | None = None, group: str | None = None, tag: str | None = None
    ) -> Notification:
        """Someone writes to this phone: WhatsApp posts (or updates) the chat's notification."""
        with self._lock:
            key = f"0|{wa.PACKAGE}|1|{tag or chat or title}|10145"
            when = EPOCH_MS + int(self.clock.monotonic() * 1000) + len(self._notifications)
            previous = self._notifications.get(key)
            if previous is not None and previous.when >= when:
                when = previous.when + 1
            n = Notification(key=key, package=wa.PACKAGE, title=title, text=text, when=when, chat=chat, group=group)
            self._notifications[key] = n
            return n

    def summarise(self, text: str) -> Notification:
        """WhatsApp's group-summary notification (``5 new messages``)."""
        with self._lock:
            key = f"0|{wa.PACKAGE}|0|summary|10145"
            when = EPOCH_MS + int(self.clock.monotonic() * 1000)
            n = Notification(key=key, package=wa.PACKAGE, title="WhatsApp", text=text, when=when, summary=True)
            self._notifications[key] = n
            return n

    def dismiss_notifications(self) -> None:
        with self._lock:
            self._notifications.clear()

    def turn_screen_off(self) -> None:
        with self._lock:
            self.screen_on = False

    # -- Driver -----------------------------------------------------------------------------------

    def _now(self) -> float:
        return self.clock.monotonic()

    def _crash(self) -> None:
        self.screen = "crash"
        self.chat_phone = None
        self.entry_text = ""
        self.actions.append("crash")

    def _ready(self) -> bool:
        return self.screen in ("chat", "media") and self._now() >= self.ready_at

    def screen_is_on(self) -> bool:
        with self._lock:
            return self.screen_on

    def wake(self) -> None:
        with self._lock:
            self.screen_on = True
            self.actions.append("wake")

    def _open(self, phone: str, screen: str) -> bool:
        """Common start of a chat or a share; False when nothing visible happens."""
        if not self.screen_on:
            self.actions.append(f"ignored {screen} {phone}: screen off")
            return False
        self.actions.append(f"open {screen} {phone}")
        if self.crashes.get(phone) == "on_open":
            del self.crashes[phone]
            self._crash()
            return False
        if phone.endswith("0000"):
            self.screen = "not_registered"
            self.ready_at = self._now() + self.dialog_delay
            self.dialog_text = f"The phone number +{phone} isn't on WhatsApp."
            return False
        self.screen = screen
        self.chat_phone = phone
        self.ready_at = self._now() + self.entry_delays.get(phone, self.entry_delay)
        return True

    def open_link(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.netloc != "wa.me":
            raise DriverError(f"no app handles {url}")
        phone = parts.path.strip("/")
        with self._lock:
            if self._open(phone, "chat"):
                self.entry_text = parse_qs(parts.query).get("text", [""])[0]

    def push_file(self, local_path: str, name: str) -> str:
        with self._lock:
            remote = f"/sdcard/Download/wagate/{name}"
            self.files[remote] = Path(local_path).read_bytes()
            return remote

    def share_file(self, phone: str, path: str, mime_type: str) -> None:
        with self._lock:
            if path not in self.files:
                raise DriverError(f"no such file on the phone: {path}")
            if self._open(phone, "media"):
                self.media_path = path
                self.entry_text = ""

    def exists(self, resource_id: str, text: str | None = None) -> bool:
        with self._lock:
            if resource_id == wa.ENTRY:
                return self.screen == "chat" and self._ready() and (text is None or self.entry_text == text)
            if resource_id == wa.SEND:
                return self._ready()
            if resource_id == wa.CAPTION:
                return self.screen == "media" and self._ready()
            if resource_id == wa.MESSAGE_TEXT:
                bubbles = self.history.get(self.chat_phone or "", [])
                return self.screen == "chat" and self._ready() and (text is None or text in bubbles)
            if resource_id == wa.CRASH_CLOSE:
                return self.screen == "crash"
            if resource_id == wa.DIALOG_OK:
                return self.screen == "not_registered" and self._now() >= self.ready_at
            return False

    def set_text(self, resource_id: str, text: str) -> None:
        with self._lock:
            if resource_id not in (wa.ENTRY, wa.CAPTION) or not self.exists(resource_id):
                raise DriverError(f"UiObjectNotFoundError: {resource_id}")
            self.entry_text = text
            phone = self.chat_phone or ""
            if self.crashes.get(phone) == "before_send":
                del self.crashes[phone]
                self._crash()

    def click(self, resource_id: str) -> bool:
        with self._lock:
            if not self.exists(resource_id):
                return False
            self.actions.append(f"click {resource_id}")
            if resource_id == wa.CRASH_CLOSE:
                self.screen = "home"
            elif resource_id == wa.DIALOG_OK:
                self.screen = "whatsapp"
            elif resource_id == wa.SEND:
                phone = self.chat_phone or ""
                message = SentMessage(
                    phone, self.entry_text, self._now(), self.media_path if self.screen == "media" else None
                )
                self.sent.append(message)
                self.history.setdefault(phone, []).append(self.entry_text)
                self.entry_text = ""
                if self.screen == "media":
                    self.screen, self.media_path = "chat", None
                if self.crashes.get(phone) == "after_send":
                    del self.crashes[phone]
                    self._crash()
                if self.on_send is not None:
                    self.on_send(message)
            return True

    def find_text(self, pattern: str) -> str | None:
        with self._lock:
            visible = self.screen == "not_registered" and self._now() >= self.ready_at
            if visible and re.fullmatch(pattern, self.dialog_text, re.DOTALL):
                return self.dialog_text
            return None

    def foreground_package(self) -> str | None:
        with self._lock:
            if self.screen in ("home", "crash"):
                return LAUNCHER if self.screen == "home" else "android"
            return wa.PACKAGE

    def back(self) -> None:
        with self._lock:
            self.actions.append("back")
            if self.screen in ("chat", "media", "not_registered"):
                self.screen, self.chat_phone, self.entry_text = "whatsapp", None, ""
            elif self.screen == "whatsapp":
                self.screen = "home"

    def home(self) -> None:
        with self._lock:
            self.screen, self.chat_phone, self.entry_text = "home", None, ""

    def notifications(self) -> list[Notification]:
        with self._lock:
            return list(self._notifications.values())

    def status(self) -> PhoneStatus:
        with self._lock:
            return PhoneStatus(
                battery=self.battery,
                charging=self.charging,
                screen_on=self.screen_on,
                whatsapp_version=self.whatsapp_version,
            )
