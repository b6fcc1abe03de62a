"""What a campaign call says and how its end becomes an outcome, without Asterisk; and the
worker's calling window on a controllable clock (nothing is dialled on the Iranian weekend)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from test_ami import SECRET, FakeAsterisk

from dialer import control, kinds
from dialer.campaigns import Campaigns
from dialer.imports import TargetRow
from dialer.message import message
from dialer.originate import CallEnd, outcome_of
from dialer.tables import TargetRow as StoredTarget
from dialer.worker import DialerWorker
from integrations.database import Database
from ivr.speech import PromptVoice
from prompts.dates import say_date
from prompts.numbers import say_amount, say_digits
from tamas.asterisk.ami import AmiClient
from tamas.settings import Settings

TEHRAN = ZoneInfo("Asia/Tehran")
NOW = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)


def test_the_message_says_the_values_with_the_ivr_rules_and_jalali_dates_in_persian() -> None:
    voice = PromptVoice()
    fields = {"policy_number": "1403-55", "amount_rials": "1250000", "due_date": "2026-12-20"}
    said = message(voice, ("campaign_overdue_installment",), fields, "fa")

    assert voice.phrase("campaign_overdue_installment", "fa").text in said.text
    assert say_digits("140355", "fa").text in said.text
    assert say_amount(1_250_000, "fa").text in said.text
    # 29 Azar 1405 in the Jalali calendar.
    assert say_date(date(2026, 12, 20), "fa").text in said.text
    assert said.fragments[0] == "fa/prompt/hello"


def test_a_value_that_cannot_be_said_is_left_out_not_said_wrong() -> None:
    said = message(PromptVoice(), ("campaign_debt_reminder",), {"amount_rials": "soon"}, "en")
    assert "rial" not in said.text


ANSWERED = datetime(2026, 12, 5, 7, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("end", "mode", "result", "outcome"),
    [
        (CallEnd("c", NOW, reason=5), "broadcast", None, "busy"),
        (CallEnd("c", NOW, reason=3), "broadcast", None, "no_answer"),
        (CallEnd("c", NOW, reason=8), "broadcast", None, "congestion"),
        (CallEnd("c", NOW, reason=0), "broadcast", None, "dial_failed"),
        (CallEnd("c", NOW, ANSWERED, 4, "MACHINE"), "broadcast", None, "answering_machine"),
        (CallEnd("c", NOW, ANSWERED, 4, "HUMAN"), "broadcast", "opted_out", "opted_out"),
        (CallEnd("c", NOW, ANSWERED, 4, "HUMAN", "Local/121"), "broadcast", "to_agent", "to_agent"),
        (CallEnd("c", NOW, ANSWERED, 4, "HUMAN"), "broadcast", "to_agent", "no_agent"),
        (CallEnd("c", NOW, ANSWERED, 4, "HUMAN"), "broadcast", None, "hung_up"),
        (CallEnd("c", NOW, ANSWERED, 4, "HUMAN", "Local/122"), "predictive", None, "to_agent"),
        (CallEnd("c", NOW, ANSWERED, 4, "HUMAN"), "predictive", None, "abandoned"),
        (CallEnd("c", NOW, ANSWERED, 4, "HANGUP"), "progressive", None, "hung_up"),
    ],
)
def test_each_way_a_call_ends_has_its_outcome(
    end: CallEnd, mode: str, result: str | None, outcome: str
) -> None:
    assert outcome_of(end, mode, result, None) == outcome


async def test_nobody_is_dialled_on_the_iranian_weekend_and_the_target_waits_for_saturday(
    database: Database,
) -> None:
    friday_noon = datetime(2026, 12, 4, 12, 0, tzinfo=TEHRAN)
    campaigns = Campaigns(database)
    await campaigns.create("debts", kinds.load()["debt_reminder"], NOW)
    campaign = await control.start(database, "debts", NOW)
    await campaigns.add_targets(campaign.id, [TargetRow(line=2, phone="+989120000001")])
    # A round that places no call sends Asterisk nothing (a local AMI server: it is up).
    asterisk = FakeAsterisk()
    await asterisk.start()
    ami = AmiClient("127.0.0.1", asterisk.port, "tamas", SECRET)
    await ami.connect()
    worker = DialerWorker(Settings(), database, ami, name="w", clock=lambda: friday_noon)
    try:
        assert await worker.round() == 0
    finally:
        await worker.close()
        await ami.close()
        await asterisk.stop()
    async with database.session() as session:
        target = await session.scalar(select(StoredTarget))
    assert target is not None
    assert (target.state, target.attempts) == ("pending", 0)
    assert target.next_try_at == datetime(2026, 12, 5, 9, 0, tzinfo=TEHRAN)
