"""Fax through Asterisk: the fax channel's sender for the outbox (`fax_via = "asterisk"`), and
the inbox that turns faxes Asterisk received into PDFs.

Sending: the document (a PDF; for an outbox row, its text drawn as a page) becomes a G4 TIFF
in the fax spool, and an AMI Originate dials the number into dialplans/fax.conf's
tamas-fax-send, which runs SendFAX once the far end answers. res_fax's figures come back in a
TamasFax UserEvent from the channel's `h` extension (so a hang-up mid-page is told too). A
failed attempt on a bad line is tried again one rate step slower with ECM off
(messaging/fax_attempts.py); a busy or unanswered number is left for the outbox's next round.

Receiving: dialplans/fax.conf's tamas-fax-receive runs ReceiveFAX into the spool's incoming
folder and tells its TamasFax; `FaxInbox` turns the TIFF into a PDF kept under
`fax_received_dir` and hands a `ReceivedFax` to its callback (which records the interaction).

The spool is shared by both sides: this host writes the TIFFs Asterisk reads, and reads the
ones it writes. In the sandbox it is the chroot's /var/spool/asterisk/fax seen from the host."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from integrations.messaging.mail import attach
from integrations.messaging.port import GatewayError, Outgoing
from integrations.messaging.subjects import title
from messaging import documents, fax_attempts, fax_images
from messaging.email_attachments import PDF, AttachmentSource
from messaging.fax_attempts import Attempt, FaxReport
from tamas.asterisk import variables
from tamas.asterisk.ami import AmiClient, AmiError
from tamas.settings import Settings

log = logging.getLogger(__name__)

SEND_CONTEXT = "tamas-fax-send"
EVENT = "TamasFax"
# Seconds the far end may take to answer before the attempt counts as unanswered.
RING_TIMEOUT_S = 45
# A received TIFF with no report this long after its last page is taken in by `sweep`.
SWEEP_AFTER_S = 600.0
# The report comes from the channel's `h` extension, before its Hangup event; this long after
# the Hangup with no report, none is coming.
REPORT_AFTER_HANGUP_S = 3.0


@dataclass(frozen=True)
class FaxSpool:
    """One folder, two names: `host` as this process sees it, `asterisk` as Asterisk does."""

    host: Path
    asterisk: PurePosixPath

    @classmethod
    def from_settings(cls, settings: Settings) -> FaxSpool:
        asterisk = PurePosixPath(settings.fax_asterisk_spool_dir)
        if settings.fax_spool_dir:
            return cls(Path(settings.fax_spool_dir), asterisk)
        sandbox_root = settings.sandbox_dir.resolve() / "root"
        if (sandbox_root / "usr/sbin/asterisk").exists():
            return cls(sandbox_root / str(asterisk).lstrip("/"), asterisk)
        return cls(settings.data_dir / "fax", asterisk)

    def prepare(self) -> None:
        """Make outgoing/ and incoming/, owned like the spool's parent (Asterisk's own
        folder, so its user may write received faxes there)."""
        parent = self.host.parent
        owner = parent.stat() if parent.exists() else None
        for folder in (self.host, self.host / "outgoing", self.host / "incoming"):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o750)
            if owner is not None and os.geteuid() == 0:
                os.chown(folder, owner.st_uid, owner.st_gid)

    def outgoing(self, name: str) -> tuple[Path, PurePosixPath]:
        return self.host / "outgoing" / name, self.asterisk / "outgoing" / name

    def on_host(self, asterisk_path: str) -> Path:
        """Where a file Asterisk names lives on this host; only inside the spool."""
        path = PurePosixPath(asterisk_path)
        try:
            relative = path.relative_to(self.asterisk)
        except ValueError as error:
            raise fax_images.FaxImageError(f"{asterisk_path} is outside the fax spool") from error
        if ".." in relative.parts:
            raise fax_images.FaxImageError(f"{asterisk_path} leaves the fax spool")
        return self.host / str(relative)


def dialled(number: str, dial: str, region_prefix: str = "+98") -> str:
    """The dial string for `number`: E.164 of the home region is dialled nationally (0...)."""
    digits = number.strip()
    if digits.startswith(region_prefix):
        digits = "0" + digits[len(region_prefix) :]
    digits = re.sub(r"[^0-9+]", "", digits)
    if not digits:
        raise GatewayError("not a fax number", permanent=True)
    return dial.format(number=digits)


class FaxLine:
    """Sends faxes through Asterisk; an outbox adapter (`send`) and a direct API
    (`send_document`). One fax at a time per call; several may run at once."""

    # The outbox row's provider; and SendFAX's SUCCESS is the receiving machine's own
    # confirmation of every page, so a sent fax is a delivered one (gateway.OutboxSender).
    provider = "asterisk"
    confirms_delivery = True
    # Rows the outbox sender claims at a time: each fax holds its line for minutes.
    batch = 1

    def __init__(
        self,
        ami: AmiClient,
        spool: FaxSpool,
        *,
        dial: str,
        attempts: Sequence[Attempt],
        fonts: documents.Fonts | None = None,
        station_id: str = "",
        header: str = "",
        attempt_timeout_s: float = 300.0,
        retry_wait_s: float = 30.0,
        owns_ami: bool = False,
        attachments: AttachmentSource | None = None,
        context: str = SEND_CONTEXT,
    ) -> None:
        if "{number}" not in dial:
            raise ValueError(f"fax_dial {dial!r} has no {{number}} in it")
        self.ami = ami
        self.spool = spool
        self.dial = dial
        self.attempts = list(attempts)
        self.fonts = fonts
        self.station_id = station_id
        self.header = header
        self.attempt_timeout_s = attempt_timeout_s
        self.retry_wait_s = retry_wait_s
        self.owns_ami = owns_ami
        self.attachments = attachments
        self.context = context  # where the answered channel runs SendFAX
        self._prepared = False

    @classmethod
    def from_settings(cls, settings: Settings, ami: AmiClient, **options: Any) -> FaxLine:
        """A line configured by the `fax_*` settings; `options` override any of them."""
        configured: dict[str, Any] = {
            "dial": settings.fax_dial,
            "attempts": fax_attempts.plan(settings.fax_rates_bps),
            "fonts": documents.Fonts.from_paths(
                settings.document_font, settings.document_font_bold
            ),
            "station_id": settings.fax_station_id,
            "header": settings.fax_header,
            "attempt_timeout_s": settings.fax_attempt_timeout_s,
            "retry_wait_s": settings.fax_retry_wait_s,
        }
        return cls(ami, FaxSpool.from_settings(settings), **{**configured, **options})

    # ------------------------------------------------------------ the outbox's adapter

    async def send(self, message: Outgoing) -> str:
        """The row faxed: its text as a page, then the documents its subject calls for (a
        debt statement...); the fax channel's unique id."""
        pdfs = await self.pages(message)
        report = await self.send_document(message.to, pdfs, reference=f"outbox-{message.reference}")
        return report.uniqueid

    async def pages(self, message: Outgoing) -> list[bytes]:
        """The PDFs a row's fax is made of, in order."""
        if self.fonts is None:
            raise GatewayError("no fonts to draw the fax page with", permanent=False)
        page = documents.message_document(
            title(message.subject, message.language),
            message.body,
            message.language,
            header=self.header,
        )
        try:
            pdfs = [await asyncio.to_thread(documents.render_pdf, page, self.fonts)]
        except documents.DocumentError as error:
            raise GatewayError(str(error), permanent=False) from error
        if self.attachments is not None:
            attached = await attach(self.attachments, message)
            pdfs += [each.content for each in attached if each.mime_type == PDF]
        return pdfs

    async def close(self) -> None:
        if self.owns_ami:
            await self.ami.close()

    # ------------------------------------------------------------ any PDF

    async def send_document(
        self, to: str, pdf: bytes | Sequence[bytes], *, reference: str
    ) -> FaxReport:
        """Fax `pdf` (or several, one after the other) to `to`, stepping down through the
        attempts; the successful attempt's report. Raises GatewayError: permanent when every
        attempt failed on the line or the far end refused the fax, not when the number was
        busy or did not answer."""
        channel = dialled(to, self.dial)
        if not self.ami.connected and self.owns_ami:
            try:
                await self.ami.connect()
            except (AmiError, OSError, TimeoutError) as error:
                raise GatewayError(
                    f"Asterisk's manager unreachable: {type(error).__name__}", permanent=False
                ) from error
        name = f"{re.sub(r'[^A-Za-z0-9_.-]', '_', reference)}-{uuid.uuid4().hex[:8]}.tif"
        tiff, tiff_for_asterisk = self.spool.outgoing(name)
        if not self._prepared:
            await asyncio.to_thread(self.spool.prepare)
            self._prepared = True
        try:
            pages = await asyncio.to_thread(fax_images.pdf_to_fax_tiff, pdf, tiff)
        except fax_images.FaxImageError as error:
            # The document or Ghostscript is at fault: fixing either lets it go next round.
            raise GatewayError(f"fax not rendered: {error}", permanent=False) from error
        log.info("fax %s: %d pages to send", reference, pages)
        try:
            return await self._attempts(channel, str(tiff_for_asterisk), reference)
        finally:
            tiff.unlink(missing_ok=True)

    async def _attempts(self, channel: str, tiff: str, reference: str) -> FaxReport:
        last: FaxReport | None = None
        for attempt in self.attempts:
            if last is not None:
                log.info(
                    "fax %s: attempt %d at %d bps, ECM %s, after %s",
                    reference,
                    attempt.number,
                    attempt.max_rate_bps,
                    "on" if attempt.ecm else "off",
                    last.summary,
                )
                await asyncio.sleep(self.retry_wait_s)
            last = await self._attempt(channel, tiff, f"{reference}.{attempt.number}", attempt)
            if last.succeeded:
                log.info("fax %s sent: %s", reference, last.summary)
                return last
            if not fax_attempts.retry_helps(last):
                break
        assert last is not None
        raise GatewayError(
            f"fax failed after {len(self.attempts)} attempts: {last.summary}", permanent=True
        )

    async def _attempt(self, channel: str, tiff: str, fax_id: str, attempt: Attempt) -> FaxReport:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[FaxReport] = loop.create_future()
        hung_up: asyncio.Future[None] = loop.create_future()
        channel_id = f"tamas-fax-{uuid.uuid4().hex}"

        def on_report(event: Any) -> None:
            if str(event.get("UserEvent", "")) != EVENT:
                return
            report = FaxReport.from_event(event)
            if report.direction == "send" and report.reference == fax_id and not done.done():
                done.set_result(report)

        def on_hangup(event: Any) -> None:
            if str(event.get("Uniqueid", "")) == channel_id and not hung_up.done():
                hung_up.set_result(None)

        self.ami.on_event("UserEvent", on_report)
        self.ami.on_event("Hangup", on_hangup)
        try:
            try:
                result = await self.ami.originate(
                    channel,
                    context=self.context,
                    exten="s",
                    caller_id=self.station_id or None,
                    timeout_ms=RING_TIMEOUT_S * 1000,
                    channel_id=channel_id,
                    variables={
                        variables.FAX_ID: fax_id,
                        variables.FAX_FILE: tiff,
                        variables.FAX_MAXRATE: str(attempt.max_rate_bps),
                        # AMI splits an Originate's variables at commas: escaped, the list
                        # reaches FAXOPT(modem) whole.
                        variables.FAX_MODEMS: attempt.modems.replace(",", "\\,"),
                        variables.FAX_ECM: "yes" if attempt.ecm else "no",
                        variables.FAX_STATION: self.station_id,
                        variables.FAX_HEADER: self.header,
                    },
                )
            except (AmiError, TimeoutError) as error:
                raise GatewayError(
                    f"fax not dialled: {type(error).__name__}: {error}", permanent=False
                ) from error
            if not result.answered:
                # Busy, no answer, congestion: the line, not the fax; the next round tries.
                raise GatewayError(f"fax number {result.reason_name}", permanent=False)
            return await self._report(done, hung_up)
        finally:
            self.ami.remove_listener("UserEvent", on_report)
            self.ami.remove_listener("Hangup", on_hangup)

    async def _report(
        self, done: asyncio.Future[FaxReport], hung_up: asyncio.Future[None]
    ) -> FaxReport:
        """The attempt's report. The `h` extension tells it before the channel is gone; a
        channel gone without one (a dialplan reloaded mid-fax, a crash) is not waited for."""
        try:
            await asyncio.wait_for(
                asyncio.wait((done, hung_up), return_when=asyncio.FIRST_COMPLETED),
                self.attempt_timeout_s,
            )
            if not done.done():
                await asyncio.wait_for(asyncio.shield(done), REPORT_AFTER_HANGUP_S)
            return done.result()
        except TimeoutError as error:
            # Answered, and no word of how it went: the far end may have the pages.
            why = "the channel hung up" if hung_up.done() else f"{self.attempt_timeout_s:.0f} s"
            raise GatewayError(f"no fax report ({why})", permanent=False, uncertain=True) from error


# ---------------------------------------------------------------- receiving


@dataclass(frozen=True)
class ReceivedFax:
    report: FaxReport
    pdf: Path | None  # None when the fax failed before a page arrived

    @property
    def caller_number(self) -> str:
        return self.report.caller_number


OnFax = Callable[[ReceivedFax], Awaitable[None]]


class FaxInbox:
    """Listens for faxes Asterisk received; each becomes a PDF and a `ReceivedFax` for
    `on_fax`. The TIFF is removed once its PDF is written."""

    def __init__(self, ami: AmiClient, spool: FaxSpool, received_dir: Path, on_fax: OnFax) -> None:
        self.ami = ami
        self.spool = spool
        self.received_dir = received_dir
        self.on_fax = on_fax
        self._busy: set[asyncio.Task[None]] = set()

    @classmethod
    def from_settings(cls, settings: Settings, ami: AmiClient, on_fax: OnFax) -> FaxInbox:
        received = (
            Path(settings.fax_received_dir)
            if settings.fax_received_dir
            else settings.data_dir / "fax" / "received"
        )
        return cls(ami, FaxSpool.from_settings(settings), received, on_fax)

    def start(self) -> None:
        self.spool.prepare()
        self.received_dir.mkdir(parents=True, exist_ok=True)
        self.ami.on_event("UserEvent", self._on_event)

    async def stop(self) -> None:
        self.ami.remove_listener("UserEvent", self._on_event)
        for task in list(self._busy):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def sweep(self, older_than_s: float = SWEEP_AFTER_S) -> int:
        """Received TIFFs no report came for (Asterisk restarted or its dialplan reloaded
        mid-fax, this process down when the report came): taken in with the pages they hold,
        status UNREPORTED. How many."""
        cutoff = time.time() - older_than_s
        found = 0
        for tiff in sorted((self.spool.host / "incoming").glob("*.tif")):
            try:
                if tiff.stat().st_mtime > cutoff:
                    continue  # perhaps still arriving
                pages = await asyncio.to_thread(fax_images.page_count, tiff)
            except (OSError, fax_images.FaxImageError):
                pages = 0
            report = FaxReport(
                direction="receive",
                reference="",
                status=fax_attempts.UNREPORTED,
                status_text="no report from Asterisk",
                error="",
                pages=pages,
                rate_bps=None,
                ecm=False,
                remote_station="",
                caller_number="",
                uniqueid=tiff.stem,
                file=str(self.spool.asterisk / "incoming" / tiff.name),
            )
            await self._take(report)
            if pages == 0:
                tiff.unlink(missing_ok=True)  # nothing in it: recorded as undelivered
            found += 1
        return found

    def _on_event(self, event: Any) -> None:
        if str(event.get("UserEvent", "")) != EVENT:
            return
        report = FaxReport.from_event(event)
        if report.direction != "receive":
            return
        task = asyncio.ensure_future(self._take(report))
        self._busy.add(task)
        task.add_done_callback(self._busy.discard)

    async def _take(self, report: FaxReport) -> None:
        pdf_path: Path | None = None
        try:
            if report.file and report.pages > 0:
                pdf_path = await asyncio.to_thread(self._to_pdf, report)
        except fax_images.FaxImageError as error:
            log.error("received fax %s unreadable: %s", report.uniqueid, error)
        try:
            await self.on_fax(ReceivedFax(report, pdf_path))
        except Exception:
            log.exception("received fax %s not recorded", report.uniqueid)

    def _to_pdf(self, report: FaxReport) -> Path:
        tiff = self.spool.on_host(report.file)
        pdf = fax_images.tiff_to_pdf(tiff)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", report.uniqueid) or uuid.uuid4().hex
        target = self.received_dir / f"{safe}.pdf"
        target.write_bytes(pdf)
        tiff.unlink(missing_ok=True)
        return target
