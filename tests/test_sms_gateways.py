"""SMS through HTTP providers' profiles, against a local provider speaking each (bench/
local_sms_gateway.py), on SQLite and PostgreSQL: sent once with the provider's id kept,
nothing lost while the provider is down, nothing sent twice after a dropped answer, refusals
failed for good, throttling waited out, delivery reports matched, the rate held exactly."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.local_sms_gateway import API_KEY, LocalSmsGateway
from integrations.database import Database
from integrations.messaging import reports, sms_profiles
from integrations.messaging.gateway import OutboxSender
from integrations.messaging.outbox import OutboundMessage, Outbox
from integrations.messaging.rates import SendingRate, most_in_any_second
from integrations.messaging.sms_http import ProfileGateway

PROFILES = sms_profiles.load()
CUSTOMER = "+989121234567"
REDIS = "redis://127.0.0.1:6379/0"
PERSIAN = "بیمه‌گذار گرامی، قسط بیمه‌نامه شما در ۱۴۰۵/۱۰/۰۱ سررسید می‌شود. " * 2


def profile_gateway(
    local: LocalSmsGateway, profile: str = "iran_rest", **options: object
) -> ProfileGateway:
    base = local.url if profile == "iran_rest" else f"{local.url}/generic"
    return ProfileGateway(PROFILES[profile], base, API_KEY, sender="3000", **options)  # type: ignore[arg-type]


async def queue(database: Database, body: str = PERSIAN, to: str = CUSTOMER) -> int:
    return await Outbox(database).put("sms", to=to, subject="debts", body=body)


async def row(database: Database, message_id: int) -> OutboundMessage:
    async with database.session() as session:
        found = await session.scalar(
            select(OutboundMessage).where(OutboundMessage.id == message_id)
        )
        assert found is not None
        return found


@pytest.mark.parametrize("profile", ["iran_rest", "generic"])
async def test_message_is_sent_once_with_the_providers_id_and_its_delivery_report_matched(
    database: Database, sms_provider: LocalSmsGateway, profile: str
) -> None:
    message_id = await queue(database)
    adapter = profile_gateway(sms_provider, profile)
    sender = OutboxSender(database, adapter)
    try:
        assert (await sender.send_pending()).sent == 1
        assert (await sender.send_pending()).sent == 0
    finally:
        await sender.close()
    sent = await row(database, message_id)
    assert sent.status == "sent" and sent.provider == profile and sent.parts == 2
    [taken] = sms_provider.taken.values()
    assert sent.provider_id == taken.provider_id and taken.text == PERSIAN
    assert taken.reference == str(message_id)

    sms_provider.deliver_all()
    assert await reports.poll(Outbox(database), profile_gateway(sms_provider, profile)) == 1
    delivered = await row(database, message_id)
    assert delivered.delivery_status == "delivered" and delivered.delivered_at is not None


async def test_nothing_is_lost_while_the_provider_is_down_and_sent_once_when_back(
    database: Database,
) -> None:
    local = LocalSmsGateway()
    await local.start()
    port = local.port
    await local.stop()  # nothing listens: connections are refused
    message_id = await queue(database)
    sender = OutboxSender(database, profile_gateway(local))
    try:
        result = await sender.send_pending()
        assert (result.sent, result.deferred) == (0, 1)
        assert (await row(database, message_id)).status == "pending"
        await local.start(port)
        assert (await sender.send_pending()).sent == 1
        assert (await sender.send_pending()).sent == 0
    finally:
        await sender.close()
        await local.stop()
    assert len(local.taken) == 1


async def test_provider_errors_defer_and_refusals_fail_for_good(
    database: Database, sms_provider: LocalSmsGateway, caplog: pytest.LogCaptureFixture
) -> None:
    sms_provider.fail_next = 1
    sms_provider.refuse_numbers = {"09121111111"}  # iran_rest writes numbers as dialled
    deferred = await queue(database)
    refused = await queue(database, to="+989121111111")
    sender = OutboxSender(database, profile_gateway(sms_provider))
    try:
        first = await sender.send_pending()
        assert (first.deferred, first.failed) == (1, 1)
        assert (await row(database, refused)).status == "failed"
        assert (await sender.send_pending()).sent == 1
    finally:
        await sender.close()
    assert (await row(database, deferred)).status == "sent"
    # The provider quoted the refused number; the log line names the row instead.
    assert "refused (411): receptor <recipient> is invalid" in caplog.text
    assert "9121111111" not in caplog.text


@pytest.mark.parametrize("failure", ["drop_next", "no_id_next", "slow"])
async def test_an_unanswered_send_is_settled_by_the_status_query_never_sent_twice(
    database: Database, sms_provider: LocalSmsGateway, failure: str
) -> None:
    if failure == "slow":
        sms_provider.delay_s = 0.5
    else:
        setattr(sms_provider, failure, 1)
    message_id = await queue(database)
    sender = OutboxSender(database, profile_gateway(sms_provider, timeout_s=0.3))
    try:
        assert (await sender.send_pending()).uncertain == 1
        sms_provider.delay_s = 0.0
        assert (await sender.send_pending()).sent == 1
    finally:
        await sender.close()
    sent = await row(database, message_id)
    [taken] = sms_provider.taken.values()
    assert sent.status == "sent" and sent.provider_id == taken.provider_id


async def test_an_uncertain_send_the_provider_never_got_is_sent_again(
    database: Database, sms_provider: LocalSmsGateway
) -> None:
    message_id = await queue(database)
    sms_provider.delay_s = 0.5
    sender = OutboxSender(database, profile_gateway(sms_provider, timeout_s=0.1))
    try:
        assert (await sender.send_pending()).uncertain == 1
        # The provider lost it after all (restarted mid-request).
        sms_provider.taken.clear()
        sms_provider.by_reference.clear()
        sms_provider.delay_s = 0.0
        await sender.send_pending()  # the status query says never got: pending, then sent
        await sender.send_pending()
    finally:
        await sender.close()
    assert (await row(database, message_id)).status == "sent"
    assert len(sms_provider.taken) == 1


async def test_throttled_sends_are_waited_out_and_sent_once(
    database: Database, sms_provider: LocalSmsGateway
) -> None:
    sms_provider.throttle_over_s = 2
    for _ in range(4):
        await queue(database, body="debt", to=f"+98912123456{_}")
    sender = OutboxSender(database, profile_gateway(sms_provider))
    try:
        assert (await sender.send_pending()).sent == 4
    finally:
        await sender.close()
    assert len(sms_provider.taken) == 4


async def test_the_sending_rate_holds_across_processes_through_redis(
    sms_provider: LocalSmsGateway,
) -> None:
    per_s = 8
    # Two windows on one Redis: what two sender processes hold.
    provider = f"test-{time.time()}"
    rates = [SendingRate(provider, per_s, REDIS) for _ in range(2)]
    admitted: list[float] = []

    async def send(rate: SendingRate) -> None:
        for _ in range(10):
            async with rate.request():
                admitted.append(time.time())
                await asyncio.sleep(0.01)  # the request on its way

    try:
        await asyncio.gather(*(send(rate) for rate in rates))
    finally:
        for rate in rates:
            await rate.close()
    assert len(admitted) == 20
    assert most_in_any_second(admitted) <= per_s


async def test_a_profile_file_with_a_mistake_names_the_profile_and_the_key(tmp_path: Path) -> None:
    broken = tmp_path / "profiles.yaml"
    broken.write_text(
        "profiles:\n  mine:\n    auth: cookie\n    send: {path: /send}\n    id: id\n",
        encoding="utf-8",
    )
    with pytest.raises(sms_profiles.ProfileError, match="'mine', auth"):
        sms_profiles.load(broken)


async def test_two_senders_sharing_the_rate_never_put_more_than_n_in_any_provider_second(
    database: Database, sms_provider: LocalSmsGateway
) -> None:
    per_s = 4
    for n in range(10):
        await queue(database, body=f"reminder {n}", to=f"+98912123450{n}")
    provider = f"rate-{time.time()}"  # a window of its own in Redis
    senders = [
        OutboxSender(
            database,
            profile_gateway(sms_provider, rate=SendingRate(provider, per_s, REDIS)),
            batch=3,
        )
        for _ in range(2)
    ]

    async def drain(sender: OutboxSender) -> None:
        while (await sender.send_pending()).sent:
            pass

    try:
        await asyncio.gather(*(drain(sender) for sender in senders))
    finally:
        for sender in senders:
            await sender.close()
    assert len(sms_provider.taken) == 10
    assert most_in_any_second(sms_provider.requests_at) <= per_s
