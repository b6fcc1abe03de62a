"""The SMS channel put together from the settings: the provider's adapter (an HTTP profile,
or SMPP when `smpp_host` is set) with its sending rate, the text service answering what
customers send, and the rounds that read the pull inbox and the delivery reports. The
`tamas messages` command and the app's webhook (messaging/web.py) both start from here."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from customer_file.port import CustomerFile
from dialer.do_not_call import DoNotCallList
from integrations.database import Database
from integrations.messaging import reports, sms_profiles
from integrations.messaging.inbox import Inbox
from integrations.messaging.outbox import Outbox, OutboxLimits
from integrations.messaging.port import GatewayError
from integrations.messaging.rates import SendingRate
from integrations.messaging.smpp import SmppGateway
from integrations.messaging.sms_http import DeliveryReport, InboundText, ProfileGateway
from integrations.messaging.sms_profiles import HttpProfile, ProfileError
from interactions.records import InteractionRecords
from messaging.text_service import TextService
from tamas.errors import CommandError
from tamas.limits import FailureLimiter, FailureStore, MemoryFailures, RedisFailures
from tamas.settings import Settings

log = logging.getLogger(__name__)
HOUR_S = 3600.0


def profiles(settings: Settings) -> dict[str, HttpProfile]:
    extra = [Path(settings.sms_profiles_file)] if settings.sms_profiles_file else []
    try:
        return sms_profiles.load(*extra)
    except ProfileError as error:
        raise CommandError(str(error)) from error


def http_gateway(settings: Settings) -> ProfileGateway | None:
    """The HTTP provider `sms_gateway_url` and `sms_profile` describe; None when no URL."""
    if not settings.sms_gateway_url:
        return None
    known = profiles(settings)
    profile = known.get(settings.sms_profile)
    if profile is None:
        raise CommandError(
            f"sms_profile {settings.sms_profile!r} is not one of {', '.join(sorted(known))}"
            " (add it to sms_profiles_file)"
        )
    return ProfileGateway(
        profile,
        settings.sms_gateway_url,
        settings.sms_gateway_token,
        sender=settings.sms_sender,
        rate=SendingRate(profile.name, settings.sms_rate_per_s, settings.redis_url),
    )


def sms_adapter(settings: Settings, database: Database) -> ProfileGateway | SmppGateway | None:
    """The adapter SMS go out through: SMPP when `smpp_host` is set, else the HTTP profile."""
    if not settings.smpp_host:
        return http_gateway(settings)
    return smpp_gateway(settings, database)


def smpp_gateway(settings: Settings, database: Database) -> SmppGateway:
    """An SMPP session whose receipts are matched in the outbox and whose texts from
    customers go to the text service."""
    from integrations.customer_file.adapters import open_customer_file

    outbox = Outbox(database)
    service: list[TextService] = []  # made on the first text: it opens the customer file

    async def on_report(report: DeliveryReport, reference: str | None) -> None:
        await reports.record(outbox, "smpp", [report], reference)

    async def on_text(text: InboundText) -> None:
        if not service:
            service.append(text_service(settings, database, open_customer_file(settings, database)))
        await service[0].receive(
            "smpp", text.provider_id, text.from_number, text.text, text.to_number
        )

    return SmppGateway(
        settings.smpp_host,
        settings.smpp_port,
        settings.smpp_system_id,
        settings.smpp_password,
        sender=settings.sms_sender,
        rate=SendingRate("smpp", settings.sms_rate_per_s, settings.redis_url),
        on_report=on_report,
        on_text=on_text,
    )


def answer_limiter(settings: Settings) -> FailureLimiter:
    """Answers per number per hour, shared by every process through Redis where there is one."""
    store: FailureStore = (
        RedisFailures(settings.redis_url, prefix="tamas:text-answers:")
        if settings.redis_url
        else MemoryFailures()
    )
    secret = (settings.lockout_secret or "text-service").encode()
    return FailureLimiter(store, settings.text_service_per_hour, HOUR_S, secret=secret)


def text_service(
    settings: Settings, database: Database, customer_file: CustomerFile
) -> TextService:
    return TextService(
        customer_file,
        Outbox(database, OutboxLimits.from_settings(settings)),
        Inbox(database),
        InteractionRecords(database),
        DoNotCallList(database),
        answer_limiter(settings),
        region=settings.default_region,
    )


@dataclass
class Polled:
    texts: int = 0
    reports: int = 0


async def poll_once(
    gateway: ProfileGateway | SmppGateway, service: TextService, outbox: Outbox
) -> Polled:
    """One round: texts from the pull inbox answered, delivery reports matched (an HTTP
    profile that has them), texts a stopped worker left taken up."""
    polled = Polled()
    if isinstance(gateway, SmppGateway):  # its texts and receipts come as they arrive
        await service.take_up_unanswered()
        return polled
    try:
        texts = await gateway.inbox()
    except GatewayError as error:
        log.warning("%s inbox not read: %s", gateway.provider, error)
        texts = []
    # The provider marks texts read as it gives them: all are kept before any is answered.
    kept = []
    for text in texts:
        row = await service.keep(
            gateway.provider, text.provider_id, text.from_number, text.text, text.to_number
        )
        if row is not None:
            kept.append((row, text))
    for (inbound_id, phone), text in kept:
        await service.answer(
            inbound_id, gateway.provider, text.provider_id, phone, text.text, text.to_number
        )
        polled.texts += 1
    polled.reports = await reports.poll(outbox, gateway)
    await service.take_up_unanswered()
    return polled


async def poll_forever(
    gateway: ProfileGateway | SmppGateway, service: TextService, outbox: Outbox, interval_s: float
) -> None:
    while True:
        try:
            await poll_once(gateway, service, outbox)
        except Exception:
            log.exception("SMS inbox and reports round failed; again in %.0f s", interval_s)
        await asyncio.sleep(interval_s)
