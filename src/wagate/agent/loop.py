"""The agent loop: the hosted services' Automagic flow, made robust.

One step: report what is still unreported, send a heartbeat when due, forward new WhatsApp
notifications, ask for the next message and deliver it. Delivering follows the hosted services: open
the chat with the ``wa.me`` link, wait for the input field (checks after 2 s, then 1.5 s and
5.5 s more), set the text, press send, go back twice, report. On top of that it tells a
number without WhatsApp (the dialog) from a slow or crashed app, wakes the screen, and keeps
a journal so that a message is never sent twice, whatever crashes when.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from wagate import __version__
from wagate.agent import whatsapp as wa
from wagate.agent.client import CheckJob, GatewayClient, GatewayError, Offer
from wagate.agent.driver import AgentClock, Driver, DriverError, Notification, RealClock
from wagate.agent.journal import Journal

log = logging.getLogger("wagate.agent")

MEDIA_TYPES = frozenset({"image", "document", "audio", "voice", "video"})


@dataclass(frozen=True)
class AgentConfig:
    #: Seconds between polls when nothing is due (the hosted services polled every 5 s).
    poll_interval: float = 5.0
    heartbeat_interval: float = 30.0
    #: Waits before each look for the input field: the hosted services' 2 s, then 1.5 s and 5.5 s more.
    entry_waits: tuple[float, ...] = (2.0, 1.5, 5.5)
    #: The short pause between UI steps (the hosted services' ``sle = 200`` ms).
    step_pause: float = 0.2
    #: Seconds to wait after a failed call to the gateway.
    error_backoff: float = 5.0
    #: Notifications already forwarded, remembered to avoid posting them again each poll.
    remember_notifications: int = 5000


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # sent | failed | not_on_whatsapp
    error: str | None = None
    retry: bool = False


@dataclass
class AgentStats:
    sent: int = 0
    failed: int = 0
    not_on_whatsapp: int = 0
    notifications: int = 0
    heartbeats: int = 0
    errors: int = 0
    checks: int = 0
    reported: list[tuple[int, str]] = field(default_factory=list)


class Agent:
    def __init__(
        self,
        client: GatewayClient,
        driver: Driver,
        *,
        config: AgentConfig | None = None,
        clock: AgentClock | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.client = client
        self.driver = driver
        self.config = config or AgentConfig()
        self.clock = clock or RealClock()
        self.journal = journal or Journal()
        self.stats = AgentStats()
        self._last_heartbeat: float | None = None
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._stop = threading.Event()

    # -- running ----------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def run(self, max_steps: int | None = None) -> None:
        """Loop until ``stop()`` (or ``max_steps``); a failing gateway or phone only slows it down."""
        steps = 0
        while not self._stop.is_set() and (max_steps is None or steps < max_steps):
            steps += 1
            try:
                wait = self.step()
            except (httpx.HTTPError, GatewayError, DriverError) as exc:
                self.stats.errors += 1
                log.warning("agent step failed: %s", exc)
                wait = self.config.error_backoff
            if wait:
                self.clock.sleep(wait)

    def step(self) -> float:
        """One turn of the loop; returns how long to wait before the next one."""
        self.report_pending()
        now = self.clock.monotonic()
        if self._last_heartbeat is None or now - self._last_heartbeat >= self.config.heartbeat_interval:
            self.heartbeat()
        self.forward_notifications()
        job = self.client.next_check()
        if job is not None:
            self.check(job)
            return 0.0
        answer = self.client.next()
        if isinstance(answer, Offer):
            outcome = self.deliver(answer)
            self.journal.done(answer.id, outcome.status, outcome.error, outcome.retry)
            self.report_pending()
            return 0.0
        hint = answer if answer is not None else self.config.poll_interval
        return min(self.config.poll_interval, max(0.0, hint))

    # -- gateway ----------------------------------------------------------------------------------

    def heartbeat(self) -> None:
        status = self.driver.status()
        body = {
            "battery": status.battery,
            "charging": status.charging,
            "screen_on": status.screen_on,
            "whatsapp_version": status.whatsapp_version,
            "app_version": f"wagate-agent {__version__}",
        }
        self.client.heartbeat({k: v for k, v in body.items() if v is not None})
        self._last_heartbeat = self.clock.monotonic()
        self.stats.heartbeats += 1

    def report_pending(self) -> None:
        """Tell the gateway every outcome it has not acknowledged yet (results are idempotent)."""
        for message_id, entry in self.journal.unreported():
            assert entry.status is not None
            try:
                self.client.result(message_id, entry.status, entry.error, entry.retry)
            except GatewayError as exc:
                if exc.status in (401, 403, 408, 429) or exc.status >= 500:
                    raise  # the gateway may take it later: keep it
                # Refused for good (the report itself is wrong): do not let it block every later one.
                log.error("the gateway refused the result of message %s: %s", message_id, exc.body)
            self.journal.reported(message_id)
            self.stats.reported.append((message_id, entry.status))

    @staticmethod
    def notification_key(n: Notification) -> str:
        """Android keeps one notification per chat and updates it; its time tells the messages apart."""
        return "|".join([n.key, n.chat or "", str(n.when)])

    def forward_notifications(self) -> int:
        """Post WhatsApp notifications not posted before; the gateway dedupes them by key anyway."""
        posted = 0
        for n in self.driver.notifications():
            key = self.notification_key(n)
            if key in self._seen:
                continue
            body = {
                "key": key,
                "package": n.package,
                "title": n.title,
                "text": n.text,
                "posted_at": datetime.fromtimestamp(n.when / 1000, UTC).isoformat() if n.when else None,
            }
            if n.group:
                body["group"] = n.group
            self.client.notification(body)
            self._seen[key] = None
            while len(self._seen) > self.config.remember_notifications:
                self._seen.popitem(last=False)
            posted += 1
        self.stats.notifications += posted
        return posted

    # -- checking one number ------------------------------------------------------------------------

    def check(self, job: CheckJob) -> str | None:
        """Open the chat link and see whether WhatsApp opens a chat (the seed's own test before
        sending); report ``exists`` or ``none``. No report when the phone could not tell (a crash,
        a timeout): the lease runs out and the gateway offers the check again."""
        try:
            self.ensure_ready()
            self.driver.open_link(job.link)
            state = self.wait_for(wa.ENTRY)
        except DriverError as exc:
            log.warning("phone check %s failed: %s", job.id, exc)
            self.leave_chat()
            return None
        answer = {"ready": "exists", "not_on_whatsapp": "none"}.get(state)
        if state == "not_on_whatsapp":
            self.driver.click(wa.DIALOG_OK)
        self.leave_chat()
        if answer is not None:
            self.client.check_result(job.id, answer)
            self.stats.checks += 1
        return answer

    # -- delivering one message ---------------------------------------------------------------------

    def deliver(self, offer: Offer) -> Outcome:
        """Send one message through WhatsApp's UI; never twice (see ``journal``)."""
        entry = self.journal.get(offer.id)
        if entry is not None and entry.state == "done" and not entry.retry:
            assert entry.status is not None
            return Outcome(entry.status, entry.error)
        try:
            self.ensure_ready()
            if entry is not None and entry.state == "clicking" and self.already_in_chat(offer):
                log.info("message %s was sent before the agent stopped; not sending again", offer.id)
                return self._count(Outcome("sent"))
            if offer.type in MEDIA_TYPES:
                return self._count(self.send_media(offer))
            return self._count(self.send_text(offer))
        except DriverError as exc:
            self.leave_chat()
            return self._count(Outcome("failed", f"the phone did not respond: {exc}", retry=True))

    def _count(self, outcome: Outcome) -> Outcome:
        if outcome.status == "sent":
            self.stats.sent += 1
        elif outcome.status == "not_on_whatsapp":
            self.stats.not_on_whatsapp += 1
        else:
            self.stats.failed += 1
        return outcome

    def ensure_ready(self) -> None:
        """Screen on, no crash dialog in the way (the hosted services woke the phone with a notification)."""
        if not self.driver.screen_is_on():
            self.driver.wake()
            self.clock.sleep(self.config.step_pause)
        if self.driver.exists(wa.CRASH_CLOSE):
            self.driver.click(wa.CRASH_CLOSE)

    def already_in_chat(self, offer: Offer) -> bool:
        """Whether the message is already in the chat (the agent stopped right after pressing send)."""
        if not offer.text:
            return False
        self.driver.open_link(f"https://wa.me/{offer.phone}")
        found = self.wait_for(wa.ENTRY) == "ready" and self.driver.exists(wa.MESSAGE_TEXT, offer.text)
        self.leave_chat()
        return found

    def wait_for(self, resource_id: str) -> str:
        """The hosted services' schedule: look after each of ``entry_waits``; stop early on a dialog or a crash.

        Returns ``ready``, ``not_on_whatsapp``, ``crashed`` or ``timeout``.
        """
        for index, wait in enumerate(self.config.entry_waits):
            self.clock.sleep(wait)
            if self.driver.exists(resource_id):
                return "ready"
            if self.driver.find_text(wa.NOT_ON_WHATSAPP) is not None:
                return "not_on_whatsapp"
            if self.driver.exists(wa.CRASH_CLOSE):
                return "crashed"
            # Gone from the foreground after it had time to start: it died without a dialog.
            if index > 0 and self.driver.foreground_package() not in wa.PACKAGES:
                return "crashed"
        return "timeout"

    def leave_chat(self) -> None:
        """Back twice, as the hosted services did; a crash dialog is closed first."""
        if self.driver.exists(wa.CRASH_CLOSE):
            self.driver.click(wa.CRASH_CLOSE)
            return
        for _ in range(2):
            self.clock.sleep(self.config.step_pause)
            self.driver.back()

    def _not_ready(self, state: str) -> Outcome:
        if state == "not_on_whatsapp":
            message = self.driver.find_text(wa.NOT_ON_WHATSAPP) or "the number is not on WhatsApp"
            self.driver.click(wa.DIALOG_OK)
            self.leave_chat()
            return Outcome("not_on_whatsapp", message)
        self.leave_chat()
        if state == "crashed":
            return Outcome("failed", "WhatsApp stopped before the message was sent", retry=True)
        waited = sum(self.config.entry_waits)
        return Outcome("failed", f"the chat did not open within {waited:g} s", retry=True)

    def press_send(self, offer: Offer) -> Outcome:
        """Journal first, then press: if anything dies in between, the chat is checked, not re-sent."""
        self.clock.sleep(self.config.step_pause)
        self.journal.clicking(offer.id)
        if not self.driver.click(wa.SEND):
            crashed = self.driver.exists(wa.CRASH_CLOSE) or self.driver.foreground_package() not in wa.PACKAGES
            self.journal.done(offer.id, "failed", retry=True)
            self.leave_chat()
            reason = "WhatsApp stopped before the message was sent" if crashed else "the send button was not there"
            return Outcome("failed", reason, retry=True)
        self.journal.done(offer.id, "sent")
        self.leave_chat()
        return Outcome("sent")

    def send_text(self, offer: Offer) -> Outcome:
        self.driver.open_link(offer.link)
        state = self.wait_for(wa.ENTRY)
        if state != "ready":
            return self._not_ready(state)
        self.clock.sleep(self.config.step_pause)
        try:
            self.driver.set_text(wa.ENTRY, offer.text)
        except DriverError:
            self.leave_chat()
            return Outcome("failed", "WhatsApp stopped before the message was sent", retry=True)
        return self.press_send(offer)

    def send_media(self, offer: Offer) -> Outcome:
        """Download the media, copy it to the phone, share it into the chat, caption it, send."""
        media = offer.media or {}
        url = media.get("url")
        if not url:
            return Outcome("failed", "the message has no media URL")
        try:
            content, content_type = self.client.download(str(url))
        except httpx.HTTPError as exc:
            return Outcome("failed", f"could not download the media: {exc}", retry=True)
        mime = str(media.get("mime_type") or (content_type or "").split(";")[0] or "application/octet-stream")
        name = _safe_name(str(media.get("filename") or Path(urlsplit(str(url)).path).name or "file"), mime)
        with tempfile.TemporaryDirectory() as folder:
            local = Path(folder) / name
            local.write_bytes(content)
            remote = self.driver.push_file(str(local), f"{offer.id}-{name}")
        self.driver.share_file(offer.phone, remote, mime)
        state = self.wait_for(wa.SEND)
        if state != "ready":
            return self._not_ready(state)
        if offer.text and self.driver.exists(wa.CAPTION):
            self.driver.set_text(wa.CAPTION, offer.text)
        return self.press_send(offer)


def _safe_name(name: str, mime: str) -> str:
    name = re.sub(r"[^\w.\-]+", "_", name).strip("._") or "file"
    if "." not in name:
        name += mimetypes.guess_extension(mime) or ""
    return name[:120]
