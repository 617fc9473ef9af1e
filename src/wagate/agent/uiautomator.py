"""``Uiautomator2Driver``: a real phone or emulator over adb, through uiautomator2.

Install with ``pip install 'wagate[agent]'``. uiautomator2 is imported only when a driver
is built, so the rest of wagate (and its test suite) works without it. Every call follows
uiautomator2's documented API: ``u2.connect(serial)``, selectors ``d(resourceId=…)`` with
``.exists`` / ``.set_text`` / ``.click_exists``, ``d(textMatches=…)``, ``d.shell([...])``,
``d.press("back")``, ``d.screen_on()``, ``d.unlock()``, ``d.app_current()``,
``d.app_info(package)``, ``d.push(src, dst)``, ``d.info["screenOn"]``.
"""

from __future__ import annotations

import importlib
import shlex
from typing import Any

from wagate.agent import whatsapp as wa
from wagate.agent.driver import DriverError, Notification, PhoneStatus

REMOTE_DIR = "/sdcard/Download/wagate"


class Uiautomator2Driver:
    def __init__(self, serial: str | None = None, *, package: str = wa.PACKAGE, device: Any = None) -> None:
        """Connect to ``serial`` (``adb devices``; ``HOST:PORT`` for adb over TCP) or the only device."""
        self.package = package
        if device is None:
            try:
                u2 = importlib.import_module("uiautomator2")
            except ImportError as exc:
                raise DriverError("uiautomator2 is not installed: pip install 'wagate[agent]'") from exc
            try:
                device = u2.connect(serial)
            except Exception as exc:  # adbutils/uiautomator2 raise their own trees
                raise DriverError(f"cannot connect to the device {serial or '(default)'}: {exc}") from exc
        self.d: Any = device

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one uiautomator2 call; any failure of adb or of the on-device server is a ``DriverError``."""
        try:
            return fn(*args, **kwargs)
        except DriverError:
            raise
        except Exception as exc:
            raise DriverError(f"{what}: {type(exc).__name__}: {exc}") from exc

    def _shell(self, args: list[str]) -> str:
        response = self._call(shlex.join(args[:3]), self.d.shell, args)
        return str(response.output)

    def screen_is_on(self) -> bool:
        info = self._call("device info", lambda: self.d.info)
        return bool(info.get("screenOn"))

    def wake(self) -> None:
        self._call("screen on", self.d.screen_on)
        self._call("unlock", self.d.unlock)

    def open_link(self, url: str) -> None:
        # -p: WhatsApp handles the wa.me link itself, no browser or chooser in between.
        self._shell(["am", "start", "-a", "android.intent.action.VIEW", "-d", url, "-p", self.package])

    def push_file(self, local_path: str, name: str) -> str:
        remote = f"{REMOTE_DIR}/{name}"
        self._shell(["mkdir", "-p", REMOTE_DIR])
        self._call("push", self.d.push, local_path, remote)
        # Let the media store index it: WhatsApp reads shared files through content:// URIs.
        self._shell(
            ["am", "broadcast", "-a", "android.intent.action.MEDIA_SCANNER_SCAN_FILE", "-d", f"file://{remote}"]
        )
        return remote

    def _content_uri(self, path: str) -> str:
        out = self._shell(
            [
                "content",
                "query",
                "--uri",
                "content://media/external/file",
                "--projection",
                "_id",
                "--where",
                f"_data='{path}'",
            ]
        )
        for part in out.replace(",", " ").split():
            if part.startswith("_id="):
                return f"content://media/external/file/{part[4:]}"
        return f"file://{path}"

    def share_file(self, phone: str, path: str, mime_type: str) -> None:
        # WhatsApp's share target takes the chat from the ``jid`` extra and opens the media preview.
        self._shell(
            [
                "am",
                "start",
                "-a",
                "android.intent.action.SEND",
                "-t",
                mime_type,
                "--eu",
                "android.intent.extra.STREAM",
                self._content_uri(path),
                "--es",
                "jid",
                f"{phone}@s.whatsapp.net",
                "--grant-read-uri-permission",
                "-p",
                self.package,
            ]
        )

    def exists(self, resource_id: str, text: str | None = None) -> bool:
        selector = {"resourceId": resource_id} if text is None else {"resourceId": resource_id, "text": text}
        return bool(self._call(f"exists {resource_id}", lambda: bool(self.d(**selector).exists)))

    def set_text(self, resource_id: str, text: str) -> None:
        self._call(f"set text {resource_id}", self.d(resourceId=resource_id).set_text, text, timeout=1.0)

    def click(self, resource_id: str) -> bool:
        return bool(self._call(f"click {resource_id}", self.d(resourceId=resource_id).click_exists, timeout=0.5))

    def find_text(self, pattern: str) -> str | None:
        view = self.d(textMatches=pattern)
        if not self._call("find text", lambda: bool(view.exists)):
            return None
        return str(self._call("get text", view.get_text))

    def foreground_package(self) -> str | None:
        current = self._call("current app", self.d.app_current)
        return str(current.get("package")) if current else None

    def back(self) -> None:
        self._call("back", self.d.press, "back")

    def home(self) -> None:
        self._call("home", self.d.press, "home")

    def notifications(self) -> list[Notification]:
        return wa.parse_notifications(self._shell(["dumpsys", "notification", "--noredact"]))

    def status(self) -> PhoneStatus:
        battery, charging = wa.parse_battery(self._shell(["dumpsys", "battery"]))
        try:
            version = str(self.d.app_info(self.package).get("versionName") or "") or None
        except Exception:  # not installed, or an old adb: the heartbeat goes without it
            version = None
        return PhoneStatus(battery=battery, charging=charging, screen_on=self.screen_is_on(), whatsapp_version=version)
