"""A received fax becomes an interaction: who sent it (their number, and the customer on file
with that number), how it went (res_fax's status, pages, rate) and its pages as a PDF, kept
as the record's document. One record per fax: the key is the receiving channel's unique id."""

from __future__ import annotations

import logging
from pathlib import Path

from customer_file.port import CustomerFile, CustomerFileError
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords, MessagePart
from messaging.fax_attempts import FaxReport

log = logging.getLogger(__name__)


def record_key(report: FaxReport) -> str:
    return f"fax-in:{report.uniqueid}"


def detail(report: FaxReport) -> str:
    """res_fax's verdict in the record's outcome detail (128 characters at most)."""
    return f"{report.status or 'NO_FAX'} {report.summary}"[:128]


async def record_received_fax(
    records: InteractionRecords,
    report: FaxReport,
    pdf: Path | None,
    *,
    documents_root: Path,
    customer_file: CustomerFile | None = None,
) -> bool:
    """Record the fax; False when it was already recorded (an event seen twice). The PDF is
    named relative to `documents_root`, so the record survives the folder being moved."""
    customer_id = None
    if customer_file is not None and report.caller_number:
        try:
            customer = await customer_file.customer_by_phone(report.caller_number)
        except CustomerFileError as error:
            log.warning("fax %s: sender not looked up: %s", report.uniqueid, error)
            customer = None
        customer_id = customer.id if customer else None
    documents = []
    if pdf is not None:
        try:
            where = str(pdf.relative_to(documents_root))
        except ValueError:
            where = str(pdf)
        documents.append(
            {
                "document": where,
                "type": "application/pdf",
                "pages": report.pages,
                "remote_station": report.remote_station,
            }
        )
    part = MessagePart(
        key=record_key(report),
        channel="fax",
        direction="inbound",
        address=report.caller_number or report.remote_station,
        outcome=Outcome.DELIVERED if report.has_pages else Outcome.UNDELIVERED,
        customer_id=customer_id,
        detail=detail(report),
        documents=documents,
    )
    return await records.save_message(part)
