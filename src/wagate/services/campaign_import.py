"""Creating a campaign: read the recipient file in bounded chunks, judge every row, store it.

The file is never held in memory: it is read as a stream (an upload is spooled to disk by
the multipart parser), a chunk of rows at a time; each chunk's recipients are written in
their own short transaction, so a 100,000-row import neither holds SQLite's single writer
for seconds nor grows with the file. Only the set of phones seen so far (for duplicates) and
the report's bounded line lists live for the whole import.

The dry run is the policy's own answer (``services.policy`` read-only, as ``preview_messages``
runs it: template and parameters, consent for the template's scope, the service window,
duplicates, caps — judged, nothing stored or charged), plus the one rule campaigns add: a
client who opted out is never part of a bulk send, whatever the channel's consent mode.
A failed import leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy.engine import Connection

from wagate.domain import campaign_csv
from wagate.domain import campaigns as domain
from wagate.domain.campaign_csv import CsvRow, Layout
from wagate.domain.campaigns import CampaignSpec, DryRun, SendingWindow
from wagate.domain.consent import REVOKED
from wagate.domain.messages import MessageType
from wagate.domain.phones import normalize_phone
from wagate.domain.policy import Candidate, ChannelPolicy, Decision, TenantPolicy, evaluate
from wagate.domain.templates import Template, choose, normalize_language
from wagate.errors import PolicyError, ValidationError, WagateError
from wagate.runtime import Runtime
from wagate.services import policy
from wagate.store.repos import campaigns as repo
from wagate.store.repos import consents as consent_repo
from wagate.store.repos import templates as template_repo
from wagate.store.repos.channels import ChannelRow
from wagate.store.repos.tenants import Tenant

CHUNK = 1000
MAX_ROWS = 1_000_000
READ_BLOCK = 1 << 16
SAMPLE_LINES = 20
CONSENT_CODES = ("consent_required",)


@dataclass(slots=True)
class Prepared:
    """One row after the cheap checks: its phone (E.164) or the code of why it has none.

    The code, not the exception: an exception keeps its traceback, whose frame keeps the whole
    chunk alive in a reference cycle — 100,000 rows of garbage for the cyclic collector.
    """

    row: CsvRow
    phone: str | None
    error: str | None


class RecipientFile:
    """A seekable binary stream of CSV (an upload) or a list of rows (JSON), read as ``CsvRow``s."""

    def __init__(self, binary: IO[bytes] | None = None, rows: list[Any] | None = None, filename: str | None = None):
        self.binary = binary
        self.rows = rows
        self.filename = filename
        self.encoding: str | None = None
        self.layout: Layout | None = None
        self._text: io.TextIOWrapper | None = None

    @classmethod
    def from_text(cls, text: str, filename: str | None = None) -> RecipientFile:
        return cls(io.BytesIO(text.encode("utf-8")), filename=filename)

    def open(self, param_count: int) -> Iterator[CsvRow]:
        """Detect the encoding and the layout, then iterate the rows (blocking: run it in a thread)."""
        if self.rows is not None:
            return self._json_rows(self.rows)
        assert self.binary is not None
        binary = self.binary
        binary.seek(0)
        self.encoding = campaign_csv.detect_encoding(iter(lambda: binary.read(READ_BLOCK), b""))
        binary.seek(0)
        try:
            head = list(itertools.islice(self._wrap(), SAMPLE_LINES))
        finally:
            self.release()
        first = next((line for line in head if line.strip()), None)
        if first is None:
            raise ValidationError("the file has no rows", field="file", code="csv_empty")
        self.layout = campaign_csv.map_columns(first.rstrip("\r\n"), "".join(head), param_count)
        binary.seek(0)
        return campaign_csv.read_rows(self._wrap(), self.layout)

    def _wrap(self) -> io.TextIOWrapper:
        assert self.binary is not None and self.encoding is not None
        self._text = io.TextIOWrapper(self.binary, encoding=self.encoding, errors="strict", newline="")
        return self._text

    def release(self) -> None:
        """Let go of the stream without closing it (the caller that opened it closes it)."""
        if self._text is not None:
            self._text.detach()
            self._text = None

    @staticmethod
    def _json_rows(rows: list[Any]) -> Iterator[CsvRow]:
        for index, item in enumerate(rows):
            where = f"rows[{index}]"
            if not isinstance(item, dict):
                raise ValidationError("each row is {phone, name, params}", field=where)
            params = item.get("params") or []
            if not isinstance(params, list) or not all(isinstance(p, str | int | float) for p in params):
                raise ValidationError("params is a list of strings", field=f"{where}.params")
            name = item.get("name")
            yield CsvRow(
                line=index + 1,
                phone=str(item.get("phone") or "").strip(),
                name=str(name).strip()[:250] if name not in (None, "") else None,
                params=[str(p).strip() for p in params],
            )

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"filename": self.filename, "format": "json" if self.rows is not None else "csv"}
        if self.encoding is not None:
            described["encoding"] = self.encoding
        if self.layout is not None:
            described.update(self.layout.describe())
        return described


def _prepare_chunk(rows: Iterator[CsvRow], region: str, size: int) -> list[Prepared]:
    """The next ``size`` rows with their phones normalised (CPU work, run in a thread)."""
    out: list[Prepared] = []
    for row in itertools.islice(rows, size):
        try:
            out.append(Prepared(row, normalize_phone(row.phone, region, "phone"), None))
        except WagateError as exc:
            out.append(Prepared(row, None, exc.code))
    return out


async def find_template(rt: Runtime, tenant: Tenant, spec: CampaignSpec, channel: ChannelRow) -> Template:
    """The approved template the campaign sends (its language may be left out when there is one)."""
    found = await rt.db.read(lambda c: template_repo.templates_for_send(c, tenant.id, {spec.template}, {channel.name}))
    language = spec.language
    if language is None:
        languages = sorted({t.language for t in found if t.name == spec.template})
        if len(languages) > 1:
            raise ValidationError(
                f"template {spec.template!r} exists in {', '.join(languages)}: name the language",
                field="language",
                code="ambiguous",
            )
        language = languages[0] if languages else "en"
    try:
        template = choose(
            found, spec.template, normalize_language(language), channel.name, own_only=channel.kind == "cloud"
        )
    except PolicyError as exc:
        raise ValidationError(exc.message, field="template", code=exc.code) from exc
    if template.status != "approved":
        raise ValidationError(
            f"template {template.name!r} ({template.language}) is {template.status}; a campaign needs an approved one",
            field="template",
            code="template_not_approved",
        )
    return template


def _recipient(campaign_id: int, row: CsvRow, phone: str, state: str, code: str | None) -> dict[str, Any]:
    return {
        "campaign_id": campaign_id,
        "line": row.line,
        "phone": phone[:32],
        "name": row.name[:250] if row.name else None,
        "params": row.params,
        "state": state,
        "error_code": code,
    }


class Importer:
    """Reads one file into one campaign, building the dry-run report as it goes.

    Each chunk is judged by the policy layer itself (``gather`` the facts, ``evaluate`` — what
    ``judge`` does, read-only and charging nothing, as ``preview_messages`` runs it) on policy
    candidates built from the rows: the phone is already normalised and the template fields are
    ours, so the per-draft re-validation of ``preview_messages`` is skipped (a third of the
    import's time), and the consents the policy read serve the campaign's own opt-out rule.
    While a chunk is judged, the next is read in a thread, and the previous one's write commits.
    """

    def __init__(self, rt: Runtime, tenant: Tenant, campaign_id: int, channel: ChannelRow, template: Template):
        self.rt = rt
        self.tenant = tenant
        self.campaign_id = campaign_id
        self.channel = channel
        self.template = template
        self.report = DryRun()
        self.seen: set[str] = set()
        self._writing: asyncio.Future[None] | None = None
        self.policy = ChannelPolicy.of(channel.kind, channel.policy)
        self.settings = TenantPolicy.of(tenant.settings)

    def _candidate(self, item: Prepared) -> Candidate:
        """The row as the policy sees a message (``services.policy.candidate_of`` without the
        intermediate message object, and the channel's policy resolved once per import)."""
        assert item.phone is not None
        template = {"name": self.template.name, "language": self.template.language, "params": item.row.params}
        return Candidate(
            phone=item.phone,
            type=MessageType.TEMPLATE.value,
            payload={"template": template},
            channel_id=self.channel.id,
            channel=self.channel.name,
            policy=self.policy,
            origin="campaign",
            native_templates=self.channel.kind == "cloud",
        )

    async def run(self, rows: Iterator[CsvRow]) -> DryRun:
        region = self.tenant.default_region
        # The next chunk is read and its phones normalised while this one is judged and written.
        reading = asyncio.ensure_future(asyncio.to_thread(_prepare_chunk, rows, region, CHUNK))
        try:
            while True:
                try:
                    chunk = await reading
                except UnicodeDecodeError as exc:
                    raise ValidationError(
                        "the file is neither UTF-8 nor Windows-1251 text", field="file", code="csv_encoding"
                    ) from exc
                except csv.Error as exc:
                    raise ValidationError(
                        f"the file is not CSV after line {self.report.rows + 1}: {exc}",
                        field="file",
                        code="csv_malformed",
                    ) from exc
                if not chunk:
                    return self.report
                if self.report.rows + len(chunk) > MAX_ROWS:
                    raise ValidationError(
                        f"a campaign takes at most {MAX_ROWS:,} rows", field="file", code="too_many_rows"
                    )
                reading = asyncio.ensure_future(asyncio.to_thread(_prepare_chunk, rows, region, CHUNK))
                await self._judge(chunk)
        finally:
            if not reading.done():
                reading.cancel()
                await asyncio.gather(reading, return_exceptions=True)
            await self._flush()

    async def _flush(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await writing

    async def _judge(self, chunk: list[Prepared]) -> None:
        report = self.report
        stored: list[dict[str, Any]] = []
        fresh: list[Prepared] = []
        for item in chunk:
            report.rows += 1
            line = item.row.line
            if item.phone is None:
                report.invalid_phone.add(line)
                code = item.error or "invalid_phone"
                stored.append(_recipient(self.campaign_id, item.row, item.row.phone, domain.INVALID, code))
            elif item.phone in self.seen:
                report.duplicate.add(line)
                stored.append(_recipient(self.campaign_id, item.row, item.phone, domain.DUPLICATE, "duplicate"))
            else:
                self.seen.add(item.phone)
                fresh.append(item)
        candidates = [self._candidate(i) for i in fresh]
        now = self.rt.clock.now()
        tenant, settings = self.tenant, self.settings

        def judge_chunk(conn: Connection) -> tuple[list[Decision], dict[str, Any]]:
            # services.policy.judge, read-only, keeping the facts: the consents it read are ours too.
            facts = policy.gather(conn, tenant, candidates, settings, now, lock=False)
            decisions = evaluate(candidates, facts, settings, now)
            if self.policy.consent == "off":
                return decisions, consent_repo.states(conn, tenant.id, [c.phone for c in candidates])
            return decisions, dict(facts.consents)

        decisions, consents = await self.rt.db.read(judge_chunk)
        for item, decision in zip(fresh, decisions, strict=True):
            assert item.phone is not None
            stored.append(self._classify(item, decision, consents.get(item.phone)))
        await self._flush()  # at most one chunk waits for its commit while the next is read
        campaign_id = self.campaign_id

        def write(conn: Connection) -> None:
            repo.insert_recipients(conn, stored)
            repo.update_campaign(conn, campaign_id, {"updated_at": now})

        self._writing = asyncio.ensure_future(self.rt.db.write(write))

    def _classify(self, item: Prepared, decision: Decision, consent: Any) -> dict[str, Any]:
        report = self.report
        line = item.row.line
        assert item.phone is not None
        error = decision.error
        if error is not None and error.code.startswith("template_param"):
            report.invalid_params.add(line)
            return _recipient(self.campaign_id, item.row, item.phone, domain.INVALID, error.code)
        report.valid += 1
        pending = _recipient(self.campaign_id, item.row, item.phone, domain.PENDING, None)
        if consent is not None and consent.status == REVOKED:
            report.opted_out.add(line)
            return pending
        if error is None:
            if any(w.code in CONSENT_CODES for w in decision.warnings):
                report.no_consent.add(line)  # warn mode: it will go, with a warning in its history
            report.sendable += 1
        elif error.code in CONSENT_CODES:
            report.no_consent.add(line)
        elif error.code in domain.TRANSIENT_REFUSALS:
            report.sendable += 1  # a limit reached today only delays it
        else:
            report.refuse(error.code, line)
        return pending


def consent_mode(channel: ChannelRow) -> str:
    return ChannelPolicy.of(channel.kind, channel.policy).consent


def window_of(spec: CampaignSpec, timezone: str) -> SendingWindow | None:
    return SendingWindow.parse(spec.window, timezone)
