"""`tamas messages receive`: what arrives by fax and by email, taken in. Faxes Asterisk
received (dialplans/fax.conf's tamas-fax-receive) become PDFs and inbound interactions; claims
mailed to the claims address (relayed by the insurer's mail server to our SMTP endpoint)
become cases with a task for the line's experts. Runs until stopped."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from cases import types as case_types
from cases.store import CaseStore
from cases.tasks import CaseTasks
from customer_file.port import CustomerFile
from integrations.database import Database
from integrations.messaging.fax_asterisk import FaxInbox, ReceivedFax
from integrations.messaging.mail_inbound import ClaimsMailbox, serve
from integrations.messaging.outbox import Outbox, OutboxLimits
from interactions.records import InteractionRecords
from messaging import email_claims
from messaging.email_inbound import ClaimsByEmail
from messaging.fax_inbox import record_received_fax
from tamas.asterisk.ami import AmiClient
from tamas.settings import Settings

log = logging.getLogger(__name__)
# How often received faxes left without a report are looked for (FaxInbox.sweep).
SWEEP_EVERY_S = 300.0


def received_faxes_dir(settings: Settings) -> Path:
    if settings.fax_received_dir:
        return Path(settings.fax_received_dir)
    return settings.data_dir / "fax" / "received"


def claim_attachments_dir(settings: Settings) -> Path:
    return settings.data_dir / "email" / "received"


def claims_by_email(
    settings: Settings, database: Database, customer_file: CustomerFile
) -> ClaimsByEmail:
    return ClaimsByEmail(
        CaseStore(database, case_types.load()),
        CaseTasks(database),
        InteractionRecords(database),
        email_claims.load(),
        claim_attachments_dir(settings),
        customer_file=customer_file,
        outbox=Outbox(database, OutboxLimits.from_settings(settings)),
        region=settings.default_region,
    )


async def receive(settings: Settings, database: Database, customer_file: CustomerFile) -> None:
    """Take faxes (when fax_via is "asterisk") and claim emails (when inbound_smtp_port is
    set) until cancelled."""
    running: list[str] = []
    ami: AmiClient | None = None
    inbox: FaxInbox | None = None
    server: asyncio.Server | None = None
    try:
        if settings.fax_via == "asterisk":
            ami = AmiClient.from_settings(settings, name="fax-inbox")
            await ami.connect()
            records = InteractionRecords(database)
            root = received_faxes_dir(settings)

            async def on_fax(fax: ReceivedFax) -> None:
                await record_received_fax(
                    records,
                    fax.report,
                    fax.pdf,
                    documents_root=root.parent,
                    customer_file=customer_file,
                )

            inbox = FaxInbox.from_settings(settings, ami, on_fax)
            inbox.start()
            running.append(f"faxes into {root}")
        if settings.inbound_smtp_port:
            mailbox = ClaimsMailbox(
                claims_by_email(settings, database, customer_file),
                settings.inbound_claims_address,
                bounce_address=settings.inbound_bounce_address,
                outbox=Outbox(database, OutboxLimits.from_settings(settings)),
            )
            server = await serve(mailbox, settings.inbound_smtp_host, settings.inbound_smtp_port)
            running.append(
                f"claims mailed to {settings.inbound_claims_address} on "
                f"{settings.inbound_smtp_host}:{settings.inbound_smtp_port}"
            )
        if not running:
            raise ValueError(
                'nothing to receive: set fax_via = "asterisk" for faxes, or inbound_smtp_port '
                "and inbound_claims_address for claims by email"
            )
        print(f"receiving {'; '.join(running)}", flush=True)
        while True:
            if inbox is not None:
                swept = await inbox.sweep()
                if swept:
                    log.warning("%d received faxes had no report; taken in as found", swept)
            await asyncio.sleep(SWEEP_EVERY_S)
    finally:
        if server is not None:
            server.close()
            await server.wait_closed()
        if inbox is not None:
            await inbox.stop()
        if ami is not None:
            await ami.close()
