"""`tamas messages send`: drain the outbox's pending messages through whichever adapters the
settings configure (SMS gateways, fax through the HTTP gateway or Asterisk, email over SMTP),
once or every few seconds. Kinds without an adapter stay pending. `tamas messages receive`:
take in received faxes and claims mailed in (integrations/messaging/receiving.py).
`tamas messages text SENDER BODY`: answer one text as the text service would."""

from __future__ import annotations

import argparse
import asyncio

from integrations import migrations
from integrations.database import Database
from integrations.messaging.gateway import HttpFaxGateway, OutboxSender
from integrations.messaging.mail import SmtpMailer
from integrations.messaging.outbox import KINDS
from integrations.messaging.port import Adapter
from messaging import documents
from messaging.email_attachments import StatementAttachments
from tamas.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    send = sub.add_parser("send", help="send pending SMS, faxes and emails")
    send.add_argument("--once", action="store_true", help="one round, then exit")
    send.add_argument("--interval", type=float, default=5.0, help="seconds between rounds")
    sub.add_parser(
        "receive",
        help="take in received faxes (fax_via asterisk) and claims mailed to the claims address",
    )
    text = sub.add_parser(
        "text", help="answer a text as if a customer sent it (the text service; a demo or check)"
    )
    text.add_argument("sender", help="the customer's number (+989121110000 or 09121110000)")
    text.add_argument("body", help="what they text: «بدهی», debt, долг, claim 77001234...")
    fax = sub.add_parser("fax", help="fax a PDF now through Asterisk and say how it went")
    fax.add_argument("pdf", help="the PDF to fax")
    fax.add_argument("--to", required=True, help="the fax number (+982188776655 or 02188776655)")


def mailer(settings: Settings, database: Database | None = None) -> SmtpMailer | None:
    """The SMTP mailer; with the database, it attaches the documents a subject calls for
    (debt statements, policy schedules: messaging/email_attachments.py)."""
    from tamas.errors import CommandError

    if not settings.smtp_host:
        return None
    if not settings.smtp_from:
        raise CommandError("smtp_host is set but smtp_from is not: set the From address")
    try:
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout_s=settings.smtp_timeout_s,
            attachments=_attachments(settings, database),
        )
    except ValueError as error:
        raise CommandError(str(error)) from error


def _attachments(settings: Settings, database: Database | None) -> StatementAttachments | None:
    from tamas.errors import CommandError

    if database is None:
        return None
    from integrations.customer_file.adapters import open_customer_file

    try:
        fonts = documents.Fonts.from_paths(settings.document_font, settings.document_font_bold)
    except documents.DocumentError as error:
        raise CommandError(str(error)) from error
    return StatementAttachments(open_customer_file(settings, database), fonts)


def fax_sender(settings: Settings, database: Database | None = None) -> Adapter | None:
    """The fax channel's sender, as fax_via chooses: the HTTP gateway or Asterisk (which,
    given the database, adds the documents a subject calls for after the message's page)."""
    from tamas.errors import CommandError

    if settings.fax_via == "asterisk":
        from integrations.messaging.fax_asterisk import FaxLine
        from tamas.asterisk.ami import AmiClient

        try:
            return FaxLine.from_settings(
                settings,
                AmiClient.from_settings(settings, name="fax"),
                owns_ami=True,
                attachments=_attachments(settings, database),
            )
        except (ValueError, documents.DocumentError) as error:
            raise CommandError(f"fax through Asterisk: {error}") from error
    if settings.fax_via != "gateway":
        raise CommandError(f"fax_via must be gateway or asterisk, not {settings.fax_via!r}")
    if settings.fax_gateway_url:
        return HttpFaxGateway(settings.fax_gateway_url, settings.fax_gateway_token)
    return None


def sender(settings: Settings, database: Database) -> OutboxSender:
    """An OutboxSender with an adapter for each kind the settings configure."""
    from messaging import sms_channel

    sms = sms_channel.sms_adapter(settings, database)
    return OutboxSender(
        database, sms, fax=fax_sender(settings, database), email=mailer(settings, database)
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from tamas.errors import CommandError

    if args.action == "fax":
        return await _fax(args.pdf, args.to, settings)
    database = Database(settings.effective_database_url)
    try:
        # Like every server, it never migrates (several starting together would race).
        await migrations.require_current(database)
        if args.action == "receive":
            return await _receive(settings, database)
        if args.action == "text":
            return await _text(args.sender, args.body, settings, database)
        outbox = sender(settings, database)
        if not outbox.kinds:
            raise CommandError(
                "nothing to send with: set sms_gateway_url, fax_gateway_url (or fax_via = "
                "asterisk) or smtp_host (with smtp_from) in tamas.toml or as TAMAS_* environment "
                "variables; keep the tokens and smtp_password in the environment (see "
                "docs/configuration.md)"
            )
        waiting = [kind for kind in KINDS if kind not in outbox.kinds]
        note = f"; {', '.join(waiting)} wait in the outbox" if waiting else ""
        print(f"sending {', '.join(outbox.kinds)}{note}", flush=True)
        try:
            if args.once:
                result = await outbox.send_pending()
                print(
                    f"sent {result.sent}, failed {result.failed}, "
                    f"left for later {result.deferred}, uncertain {result.uncertain}"
                )
            else:
                await _run_with_sms_inbox(outbox, settings, database, args.interval)
        finally:
            await outbox.close()
    finally:
        await database.dispose()
    return 0


async def _fax(pdf: str, to: str, settings: Settings) -> int:
    """One fax through Asterisk, whatever fax_via says (a demo, or a check of a trunk)."""
    from pathlib import Path

    from integrations.messaging.fax_asterisk import FaxLine
    from integrations.messaging.port import GatewayError
    from tamas.asterisk.ami import AmiClient
    from tamas.errors import CommandError

    try:
        document = await asyncio.to_thread(Path(pdf).read_bytes)
        line = FaxLine.from_settings(
            settings, AmiClient.from_settings(settings, name="fax"), owns_ami=True
        )
    except (OSError, ValueError, documents.DocumentError) as error:
        raise CommandError(f"cannot fax {pdf}: {error}") from error
    try:
        report = await line.send_document(to, document, reference="cli")
    except GatewayError as error:
        raise CommandError(f"fax not sent: {error}") from error
    finally:
        await line.close()
    print(f"fax sent: {report.summary} (channel {report.uniqueid})")
    return 0


async def _text(sender: str, body: str, settings: Settings, database: Database) -> int:
    """One text through the text service; its answer is queued in the outbox like any other
    (`tamas messages send` sends it)."""
    import uuid

    from integrations.customer_file.adapters import open_customer_file
    from messaging import sms_channel
    from tamas.errors import CommandError

    service = sms_channel.text_service(settings, database, open_customer_file(settings, database))
    reply = await service.receive("cli", uuid.uuid4().hex, sender, body)
    if reply is None:
        raise CommandError(f"{sender!r} is not a phone number")
    print(f"keyword: {reply.keyword}; language: {reply.language}; outcome: {reply.outcome}")
    if reply.answer is None:
        print("not answered (past the hourly answers or the outbox's caps)")
    else:
        print(f"answer (outbox {reply.answer_id}): {reply.answer}")
    return 0


async def _receive(settings: Settings, database: Database) -> int:
    from integrations.customer_file.adapters import open_customer_file
    from integrations.messaging.receiving import receive
    from tamas.errors import CommandError

    try:
        await receive(settings, database, open_customer_file(settings, database))
    except ValueError as error:
        raise CommandError(str(error)) from error
    return 0


async def _run_with_sms_inbox(
    outbox: OutboxSender, settings: Settings, database: Database, interval_s: float
) -> None:
    """Send rounds, and beside them what customers send: the HTTP profile's pull inbox and
    delivery-status query read and answered (messaging/sms_channel.py) where it has them, or
    the SMPP session bound at once (its deliver_sm bring texts and receipts)."""
    from integrations.customer_file.adapters import open_customer_file
    from integrations.messaging.outbox import Outbox
    from integrations.messaging.smpp import SmppGateway
    from integrations.messaging.sms_http import ProfileGateway
    from messaging import sms_channel

    gateway = outbox.adapters.get("sms")
    if isinstance(gateway, SmppGateway):
        gateway.start()
    if not isinstance(gateway, ProfileGateway | SmppGateway):
        await outbox.run(interval_s)
        return
    service = sms_channel.text_service(settings, database, open_customer_file(settings, database))
    polling = sms_channel.poll_forever(gateway, service, Outbox(database), settings.sms_poll_s)
    await asyncio.gather(outbox.run(interval_s), polling)
