"""Real faxes through the Asterisk sandbox: SendFAX on one leg of a Local channel, ReceiveFAX
on the other, G.711 audio through spandsp (no T.38). The pages that arrive are compared with
the pages sent; a dropped first attempt is tried again slower with ECM off; a received fax
is an interaction with its PDF. One two-page fax for the whole module (about 25 s)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
from dialer_operators_support import TODAY
from dialer_operators_support import customer_file as write_customer_file
from PIL import Image, ImageChops
from pypdf import PdfReader
from sqlalchemy import select
from test_email_documents import assert_reads
from test_messaging_senders import FROM, MailServer, mail_server  # noqa: F401  (fixture)

from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.messaging.command import fax_sender
from integrations.messaging.fax_asterisk import FaxInbox, FaxLine, FaxSpool, ReceivedFax
from integrations.messaging.gateway import HttpFaxGateway, OutboxSender
from integrations.messaging.mail import SmtpMailer
from integrations.messaging.outbox import OutboundMessage, Outbox
from integrations.messaging.port import GatewayError, Outgoing
from interactions.records import InteractionRecords
from interactions.table import Interaction
from messaging import documents, fax_attempts, fax_images
from messaging.email_attachments import StatementAttachments
from messaging.fax_attempts import FaxReport
from messaging.fax_inbox import record_received_fax
from tamas.asterisk import sandbox, variables
from tamas.asterisk.ami import AmiClient
from tamas.errors import CommandError
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk

OUR_STATION = "+982155550000"
THEIR_NUMBER = "+982188776655"


def fonts(settings: Settings) -> documents.Fonts:
    return documents.Fonts.from_paths(settings.document_font, settings.document_font_bold)


def two_pages(settings: Settings) -> bytes:
    """A Persian notice long enough for two pages, each page's text its own."""
    line = "بند {n}: مانده بدهی بیمه‌نامه شماره {policy} تا پایان ماه پرداخت شود."
    paragraphs = [line.format(n=n, policy=1000 + n) for n in range(40)]
    document = documents.Document(title="اطلاعیه بدهی", language="fa", paragraphs=paragraphs)
    pdf = documents.render_pdf(document, fonts(settings))
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2
    return pdf


@dataclasses.dataclass
class RoundTrip:
    sent_pdf: bytes
    sent: FaxReport
    received: ReceivedFax
    received_dir: Path


def _fax_modules(settings: Settings) -> None:
    """`tamas sandbox up` on a running Asterisk reloads its config, which does not load
    modules added to modules.conf since it started: load res_fax's if missing."""
    for module in ("res_fax.so", "res_fax_spandsp.so"):
        if module not in sandbox.cli(settings, f"module show like {module}"):
            sandbox.cli(settings, f"module load {module}")


async def _fax_across(settings: Settings, pdf: bytes, received_dir: Path) -> RoundTrip:
    ami = AmiClient.from_settings(settings, name="fax-test")
    await ami.connect()
    arrived: asyncio.Future[ReceivedFax] = asyncio.get_running_loop().create_future()

    async def on_fax(fax: ReceivedFax) -> None:
        if not arrived.done():
            arrived.set_result(fax)

    inbox = FaxInbox(ami, FaxSpool.from_settings(settings), received_dir, on_fax)
    inbox.start()
    line = FaxLine.from_settings(settings, ami, station_id=OUR_STATION, retry_wait_s=0)
    try:
        sent = await line.send_document(THEIR_NUMBER, pdf, reference="test-round-trip")
        received = await asyncio.wait_for(arrived, 30)
    finally:
        await inbox.stop()
        await ami.close()
    return RoundTrip(pdf, sent, received, received_dir)


@pytest.fixture(scope="module")
def round_trip(
    asterisk_sandbox: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RoundTrip]:
    _fax_modules(asterisk_sandbox)
    pdf = two_pages(asterisk_sandbox)
    received_dir = tmp_path_factory.mktemp("received")
    yield asyncio.run(_fax_across(asterisk_sandbox, pdf, received_dir))


# --- the pages -----------------------------------------------------------------------------


def test_a_two_page_fax_crosses_between_two_channels(round_trip: RoundTrip) -> None:
    sent, received = round_trip.sent, round_trip.received.report

    assert sent.succeeded and sent.pages == 2
    assert received.succeeded and received.pages == 2
    assert received.rate_bps == 14400 and received.ecm  # the first attempt: fastest, ECM on
    assert received.caller_number == OUR_STATION
    assert round_trip.received.pdf is not None
    assert len(PdfReader(round_trip.received.pdf).pages) == 2


def _ink(page: Image.Image) -> Image.Image:
    """The page's dark dots at a quarter of fax resolution (a dot or two of shift between
    what was sent and what arrived does not count), as a 1-bit mask."""
    small = page.convert("L").resize((432, page.height // 4), Image.Resampling.BOX)
    return small.point(lambda level: 255 if level < 230 else 0).convert("1")


def _dots(mask: Image.Image) -> int:
    return mask.histogram()[255]


def _likeness(a: Image.Image, b: Image.Image) -> float:
    """Dice coefficient of two pages' ink: 1.0 the same marks, near 0 nothing in common."""
    ink_a, ink_b = _ink(a), _ink(b)
    total = _dots(ink_a) + _dots(ink_b)
    return 2 * _dots(ImageChops.logical_and(ink_a, ink_b)) / total if total else 1.0


def _below_header(received: Image.Image, sent: Image.Image) -> tuple[Image.Image, Image.Image]:
    """The receiving side adds the sender's header line (fax_header) above each page: the
    received page is that strip, then the page as sent."""
    strip = received.height - sent.height
    assert strip > 0
    return received.crop((0, 0, received.width, strip)), received.crop(
        (0, strip, received.width, received.height)
    )


def test_the_received_pages_look_like_the_sent_ones(round_trip: RoundTrip, tmp_path: Path) -> None:
    sent_tiff = tmp_path / "sent.tif"
    fax_images.pdf_to_fax_tiff(round_trip.sent_pdf, sent_tiff)
    with Image.open(sent_tiff) as tiff:
        sent = _frames(tiff)
    assert round_trip.received.pdf is not None
    received = [page.images[0].image for page in PdfReader(round_trip.received.pdf).pages]

    assert len(sent) == len(received) == 2
    pages = []
    for sent_page, received_page in zip(sent, received, strict=True):
        assert received_page is not None
        assert received_page.width == sent_page.width == 1728  # a fax line's dots across
        header, page = _below_header(received_page, sent_page)
        assert _dots(_ink(header)) > 0  # our header line is printed on every page
        assert _likeness(sent_page, page) > 0.9
        pages.append(page)
    # ... and the measure tells pages apart: page 1 is not page 2.
    assert _likeness(sent[0], pages[1]) < 0.6


def _frames(tiff: Image.Image) -> list[Image.Image]:
    frames = []
    for index in range(getattr(tiff, "n_frames", 1)):
        tiff.seek(index)
        frames.append(tiff.copy())
    return frames


# --- the record ----------------------------------------------------------------------------


async def test_a_received_fax_is_an_interaction_with_its_pdf(
    round_trip: RoundTrip, database: Database
) -> None:
    records = InteractionRecords(database)
    received = round_trip.received
    root = round_trip.received_dir.parent

    first = await record_received_fax(records, received.report, received.pdf, documents_root=root)
    again = await record_received_fax(records, received.report, received.pdf, documents_root=root)

    assert (first, again) == (True, False)  # the same fax told twice is one record
    async with database.session() as session:
        [row] = (await session.scalars(select(Interaction))).all()
    assert (row.channel, row.direction, row.outcome) == ("fax", "inbound", "delivered")
    assert row.caller_number == OUR_STATION
    assert row.outcome_detail is not None and row.outcome_detail.startswith("SUCCESS 2 pages")
    [document] = row.inputs
    assert document["type"] == "application/pdf" and document["pages"] == 2
    assert (root / document["document"]).read_bytes().startswith(b"%PDF")


# --- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_fax_dropped_on_the_first_attempt_goes_slower_without_ecm(
    asterisk_sandbox: Settings,
    database: Database,
    mail_server: MailServer,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    _fax_modules(asterisk_sandbox)
    caplog.set_level(logging.INFO, "integrations.messaging")
    row = await Outbox(database).put(
        "fax", to=THEIR_NUMBER, subject="debts", body="مانده بدهی شما ۱۲٬۵۰۰٬۰۰۰ ریال است."
    )
    # An email queued behind the fax is not held by it: the kinds go side by side.
    letter = await Outbox(database).put("email", to="ali@bimeh.example", subject="x", body="y")
    mailer = SmtpMailer("127.0.0.1", mail_server.port, FROM, starttls=False)
    ami = AmiClient.from_settings(asterisk_sandbox, name="fax-test")
    await ami.connect()
    # The flaky far end drops its first call before any fax tone (dialplans/fax.conf).
    await ami.send_action({"Action": "Setvar", "Variable": variables.FAX_FLAKY_CALLS, "Value": "0"})
    line = FaxLine.from_settings(
        asterisk_sandbox,
        ami,
        dial="Local/{number}@tamas-fax-flaky",
        attempts=fax_attempts.plan([14400, 9600]),
        retry_wait_s=0,
        owns_ami=True,
    )
    sender = OutboxSender(database, fax=line, email=mailer)
    try:
        result = await sender.send_pending()
    finally:
        await sender.close()

    assert (result.sent, result.failed, result.deferred) == (2, 0, 0)
    logged = caplog.text
    assert logged.index(f"email {letter} sent") < logged.index("attempt 2 at 9600 bps")
    assert "attempt 2 at 9600 bps, ECM off, after failed (THE CALL DROPPED" in caplog.text
    assert f"fax outbox-{row} sent: 1 pages at 9600 bps, ECM off" in caplog.text
    async with database.session() as session:
        message = await session.get(OutboundMessage, row)
    assert message is not None and message.status == "sent" and message.provider_id
    assert (message.provider, message.delivery_status) == ("asterisk", "delivered")
    # What the sandbox's receiving leg wrote: no receiver runs here to take it in.
    received = FaxSpool.from_settings(asterisk_sandbox).host / "incoming"
    (received / f"{message.provider_id};2.tif").unlink(missing_ok=True)


async def test_a_number_that_does_not_answer_waits_for_the_next_round(
    asterisk_sandbox: Settings,
) -> None:
    ami = AmiClient.from_settings(asterisk_sandbox, name="fax-test")
    await ami.connect()
    line = FaxLine.from_settings(
        asterisk_sandbox, ami, dial="Local/{number}@tamas-no-such-context", owns_ami=True
    )
    try:
        with pytest.raises(GatewayError) as raised:
            await line.send_document(THEIR_NUMBER, two_pages(asterisk_sandbox), reference="gone")
    finally:
        await line.close()

    assert not raised.value.permanent and not raised.value.uncertain


async def test_a_channel_gone_without_a_fax_report_leaves_the_fax_uncertain(
    asterisk_sandbox: Settings,
) -> None:
    # The answered leg runs a context with no fax report (as when a dialplan reload drops the
    # h extension mid-fax); the far end hangs up after 2 s.
    ami = AmiClient.from_settings(asterisk_sandbox, name="fax-test")
    await ami.connect()
    await ami.send_action({"Action": "Setvar", "Variable": variables.FAX_FLAKY_CALLS, "Value": "0"})
    line = FaxLine.from_settings(
        asterisk_sandbox,
        ami,
        dial="Local/{number}@tamas-fax-flaky",
        context="tamas-caller",
        attempt_timeout_s=60,
        owns_ami=True,
    )
    try:
        with pytest.raises(GatewayError) as raised:
            await line.send_document(THEIR_NUMBER, two_pages(asterisk_sandbox), reference="lost")
    finally:
        await line.close()

    assert raised.value.uncertain and not raised.value.permanent  # never sent twice blindly
    assert "the channel hung up" in str(raised.value)


# --- without Asterisk ------------------------------------------------------------------------


def test_without_ghostscript_the_fax_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fax_images, "GHOSTSCRIPT", "gs-not-installed-here")

    with pytest.raises(fax_images.FaxImageError, match="apt-get install ghostscript"):
        fax_images.pdf_to_fax_tiff(b"%PDF-1.4", tmp_path / "x.tif")


def test_attempts_step_down_and_turn_ecm_off_after_the_first() -> None:
    plan = fax_attempts.plan(["4800", 14400, 9600])

    assert [(a.max_rate_bps, a.ecm, a.modems) for a in plan] == [
        (14400, True, "v17,v27,v29"),
        (9600, False, "v27,v29"),
        (4800, False, "v27"),
    ]
    with pytest.raises(ValueError, match="not one res_fax knows"):
        fax_attempts.plan([33600])


def test_a_refused_fax_is_not_tried_again_but_a_dropped_line_is() -> None:
    def report(error: str) -> FaxReport:
        return FaxReport.from_event({"Direction": "send", "Status": "FAILED", "Error": error})

    assert fax_attempts.retry_helps(report("HANGUP"))
    assert fax_attempts.retry_helps(report("The call dropped prematurely"))
    assert fax_attempts.retry_helps(report("Timed out waiting for initial communication"))
    assert not fax_attempts.retry_helps(report("INVALID_ARGUMENTS"))
    assert not fax_attempts.retry_helps(report("Far end cannot receive at the size of image"))


def test_fax_via_chooses_the_fax_channels_sender() -> None:
    assert isinstance(fax_sender(Settings(fax_via="asterisk")), FaxLine)
    assert isinstance(
        fax_sender(Settings(fax_gateway_url="http://127.0.0.1:1/fax")), HttpFaxGateway
    )
    assert fax_sender(Settings()) is None  # no gateway configured: faxes wait
    with pytest.raises(CommandError, match="fax_via must be gateway or asterisk"):
        fax_sender(Settings(fax_via="modem"))
    with pytest.raises(CommandError, match="no \\{number\\}"):
        fax_sender(Settings(fax_via="asterisk", fax_dial="PJSIP/trunk"))


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_debt_fax_carries_the_statement_after_the_message_page(
    database: Database, tmp_path: Path
) -> None:
    ali = (await write_customer_file(database))["ali"]
    settings = Settings()
    statements = StatementAttachments(
        SqlCustomerFile(database), fonts(settings), today=lambda: TODAY
    )
    line = FaxLine.from_settings(
        settings, AmiClient.from_settings(settings), attachments=statements
    )
    message = Outgoing(
        to=THEIR_NUMBER, subject="debts", body="صورت‌حساب شما پیوست است.", language="fa",
        reference="9", customer_id=ali,
    )  # fmt: skip

    cover, statement = await line.pages(message)

    assert_reads(cover, "مانده بدهی و سررسیدها", "صورت‌حساب شما پیوست است.")
    assert_reads(statement, "صورت‌حساب بدهی", "علی رضایی گرامی،")
    assert fax_images.pdf_to_fax_tiff([cover, statement], tmp_path / "fax.tif") == 2


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_received_pages_whose_report_was_lost_are_still_taken_in(
    database: Database, tmp_path: Path
) -> None:
    settings = Settings()
    spool = FaxSpool(tmp_path / "spool", PurePosixPath("/var/spool/asterisk/fax"))
    incoming = spool.host / "incoming"
    fax_images.pdf_to_fax_tiff(two_pages(settings), incoming / "tamas-lost;2.tif")
    (incoming / "tamas-empty;2.tif").write_bytes(b"")  # answered, no page ever came
    (incoming / "tamas-arriving;2.tif").write_bytes(b"II*\x00")  # still being written
    an_hour_ago = time.time() - 3600
    for name in ("tamas-lost;2.tif", "tamas-empty;2.tif"):
        os.utime(incoming / name, (an_hour_ago, an_hour_ago))
    records = InteractionRecords(database)
    received_dir = tmp_path / "fax" / "received"

    async def on_fax(fax: ReceivedFax) -> None:
        await record_received_fax(records, fax.report, fax.pdf, documents_root=received_dir.parent)

    inbox = FaxInbox(AmiClient.from_settings(settings), spool, received_dir, on_fax)
    received_dir.mkdir(parents=True)

    assert await inbox.sweep() == 2
    async with database.session() as session:
        rows = {row.linkedid: row for row in (await session.scalars(select(Interaction))).all()}
    lost, empty = rows["fax-in:tamas-lost;2"], rows["fax-in:tamas-empty;2"]
    assert lost.outcome == "delivered"
    assert lost.outcome_detail == "UNREPORTED 2 pages, no report from Asterisk"
    assert len(PdfReader(received_dir.parent / lost.inputs[0]["document"]).pages) == 2
    assert (empty.outcome, empty.inputs) == ("undelivered", [])
    assert sorted(path.name for path in incoming.iterdir()) == ["tamas-arriving;2.tif"]


class LongFax:
    """A fax line whose fax takes `line_s` (the sender's loop is under test, not the line)."""

    def __init__(self, line_s: float) -> None:
        self.line_s = line_s
        self.sent: list[str] = []

    async def send(self, message: Outgoing) -> str:
        await asyncio.sleep(self.line_s)
        self.sent.append(message.reference)
        return f"fax-{message.reference}"

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_an_sms_queued_while_a_fax_is_on_its_line_goes_without_waiting_for_it(
    database: Database,
    mail_server: MailServer,  # noqa: F811
) -> None:
    outbox = Outbox(database)
    await outbox.put("fax", to=THEIR_NUMBER, subject="debts", body="x")
    fax = LongFax(line_s=30.0)
    mailer = SmtpMailer("127.0.0.1", mail_server.port, FROM, starttls=False)
    sender = OutboxSender(database, fax=fax, email=mailer)
    running = asyncio.create_task(sender.run(interval_s=0.1))
    try:
        await asyncio.sleep(0.3)  # the fax is on its line
        await outbox.put("email", to="ali@bimeh.example", subject="debts", body="y")
        for _ in range(100):
            if mail_server.received:
                break
            await asyncio.sleep(0.05)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert len(mail_server.received) == 1 and fax.sent == []
