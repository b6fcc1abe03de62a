"""Delivery reports matched to the outbox's messages, whichever way they come: asked for (a
profile with a delivery-status query, polled for messages sent in the last `window`), pushed
(a provider posting to our webhook) or received over SMPP (deliver_sm receipts). Every report
names the provider's id; the outbox row is found by (provider, provider_id)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from integrations.messaging.outbox import Outbox
from integrations.messaging.port import GatewayError
from integrations.messaging.sms_http import DeliveryReport, ProfileGateway

log = logging.getLogger(__name__)
# Past this, a message without a final report stays as it is (operators see it unreported).
REPORT_WINDOW = timedelta(hours=72)


async def record(
    outbox: Outbox,
    provider: str,
    reports: Iterable[DeliveryReport],
    reference: str | None = None,
) -> int:
    """Match each report to its message; how many matched one of ours."""
    matched = 0
    for report in reports:
        message_id = await outbox.record_delivery(
            provider, report.provider_id, report.status, error=report.error, reference=reference
        )
        if message_id is None:
            log.info("%s report for unknown id %s ignored", provider, report.provider_id)
        else:
            matched += 1
    return matched


async def poll(outbox: Outbox, gateway: ProfileGateway, batch: int = 500) -> int:
    """Ask the provider about messages still without a final report; how many matched."""
    if gateway.profile.status is None:
        return 0
    since = datetime.now(UTC) - REPORT_WINDOW
    waiting = await outbox.awaiting_delivery(gateway.provider, since, batch)
    if not waiting:
        return 0
    try:
        reports = await gateway.delivery_reports([provider_id for _, provider_id in waiting])
    except GatewayError as error:
        log.warning("%s delivery reports not read: %s", gateway.provider, error)
        return 0
    return await record(outbox, gateway.provider, reports)
