"""The UI seam of the agent: what it needs from a phone, and the time it runs on.

A ``Driver`` is a handful of blocking calls — the shape of uiautomator2's API, which is
what the real implementation wraps. Time is an ``AgentClock`` so the fake device and the
agent share one timeline in tests (``VirtualClock``) and the real one on a phone.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol


class DriverError(Exception):
    """A UI step could not be done (the element vanished, adb dropped, the app died)."""


@dataclass(frozen=True, slots=True)
class Notification:
    """One active notification as the phone shows it."""

    #: Android's key of the status-bar notification (``0|com.whatsapp|1|tag|uid``); WhatsApp
    #: updates one notification per chat under the same key, so ``when`` tells updates apart.
    key: str
    package: str
    title: str
    text: str
    #: When the newest message arrived, epoch milliseconds.
    when: int
    #: The chat's JID when the phone exposes it (``79001234567@s.whatsapp.net``, ``…@g.us``).
    chat: str | None = None
    #: The group's name for group conversations.
    group: str | None = None
    summary: bool = False


@dataclass(frozen=True, slots=True)
class PhoneStatus:
    battery: int | None = None
    charging: bool | None = None
    screen_on: bool | None = None
    whatsapp_version: str | None = None


class Driver(Protocol):
    """The phone, as the agent drives it. Every call blocks until the device answered."""

    def screen_is_on(self) -> bool: ...

    def wake(self) -> None:
        """Turn the screen on and dismiss a swipe lock screen."""

    def open_link(self, url: str) -> None:
        """Start an Android VIEW intent for ``url`` in WhatsApp (a ``wa.me`` chat link)."""

    def share_file(self, phone: str, path: str, mime_type: str) -> None:
        """Start a SEND intent that hands the file at ``path`` (on the phone) to WhatsApp for ``phone``."""

    def push_file(self, local_path: str, name: str) -> str:
        """Copy a file onto the phone; returns its path there."""

    def exists(self, resource_id: str, text: str | None = None) -> bool:
        """Whether a view with this resource id (and exactly this text, if given) is on screen."""

    def set_text(self, resource_id: str, text: str) -> None:
        """Replace the text of a field; ``DriverError`` if it is not on screen."""

    def click(self, resource_id: str) -> bool:
        """Click a view; False if it is not on screen (nothing was clicked)."""

    def find_text(self, pattern: str) -> str | None:
        """The text of a visible view matching the regular expression, if any (dialogs)."""

    def foreground_package(self) -> str | None: ...

    def back(self) -> None: ...

    def home(self) -> None: ...

    def notifications(self) -> list[Notification]:
        """The active notifications of WhatsApp."""

    def status(self) -> PhoneStatus: ...


class AgentClock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class VirtualClock:
    """Time that moves only when someone sleeps, by exactly that much.

    ``real_scale`` also sleeps that fraction for real (at least ``min_real``), so an agent
    polling a real server does not spin. The agent and the fake device share it: "the input field appears 3 s after the
    link opened" then holds exactly, however busy the machine is.
    """

    def __init__(self, real_scale: float = 0.0, min_real: float = 0.0) -> None:
        self.real_scale = real_scale
        #: Real seconds every non-zero sleep takes at least, so polling a real server stays gentle.
        self.min_real = min_real
        self._now = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        with self._lock:
            self._now += seconds
        real = max(seconds * self.real_scale, self.min_real if seconds > 0 else 0.0)
        if real:
            time.sleep(real)
