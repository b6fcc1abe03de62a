"""Escalation and the SLA scan with a controllable clock: the owner is told an hour before the
deadline, the team lead when it passes, the case is reassigned four hours later; each step
fires once, and the alert reaches the owner and the supervisors on the bus. `tamas cases`
creates, lists, shows and scans."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

import pytest

from cases import command, types
from cases.escalation import SlaScan
from cases.store import CaseChannel, CaseRequest, CaseStore
from cases.types import EscalationAction
from integrations.database import Database
from ivr.hours import TEHRAN
from tamas.bus import InProcessBus, Message
from tamas.settings import Settings

CASE_TYPES = types.load()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TEHRAN)


class Clock:
    def __init__(self, start: str) -> None:
        self.now = at(start)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock("2025-10-15 09:00")  # Wednesday


async def test_steps_fire_once_each_as_the_deadline_nears_and_passes(
    database: Database, clock: Clock
) -> None:
    store = CaseStore(database, CASE_TYPES, clock=clock)
    bus = InProcessBus()
    heard: list[Message] = []

    async def listen(message: Message) -> None:
        heard.append(message)

    bus.subscribe(listen)
    scan = SlaScan(store, bus, clock)
    # A callback for agent 205's team: first response due in 2 business hours (11:00).
    case = await store.open_case(
        CaseRequest("callback", CaseChannel.DIALER, "dialer", fields={"reason": "claim"})
    )
    await store.assign(case.tracking_number, "supervisor:1", owner="102")
    quiet = await store.open_case(
        CaseRequest("loss_estimate", CaseChannel.DESKTOP, "agent:1", fields={"claim_number": "C"})
    )
    clock.now = at("2025-10-15 09:59")
    assert await scan.run() == []
    clock.now = at("2025-10-15 10:00")
    fired = await scan.run()
    assert [(f.action, f.to) for f in fired] == [(EscalationAction.NOTIFY_OWNER, "102")]
    assert await scan.run() == []  # once
    alert = heard[-1]
    assert alert.name == "case.alert"
    assert alert.audience.admits("102") and alert.audience.admits("999", ["supervisor"])
    assert not alert.audience.admits("103", ["agent"])
    assert alert.payload["tracking_number"] == case.tracking_number
    assert alert.payload["overdue"] is False
    clock.now = at("2025-10-15 11:00")
    fired = await scan.run()
    assert [(f.action, f.to) for f in fired] == [(EscalationAction.NOTIFY_LEAD, "201")]
    assert heard[-1].payload["overdue"] is True
    # Unnoticed until the afternoon: the reassignment to the lead fires at 15:00.
    clock.now = at("2025-10-15 15:30")
    fired = [f for f in await scan.run() if f.tracking_number == case.tracking_number]
    assert [(f.action, f.to) for f in fired] == [(EscalationAction.REASSIGN, "201")]
    assert (await store.get(case.tracking_number)).owner == "201"
    assert await scan.run() == []
    escalations = [
        e.data["action"]
        for e in await store.timeline(case.tracking_number)
        if e.kind == "escalated"
    ]
    assert escalations == ["notify_owner", "notify_lead", "reassign"]
    # The estimate (first response due at 13:00, nobody owning it): its steps went to the
    # claims lead; its reassignment comes at 17:00.
    quiet_steps = [
        (e.data["action"], e.data["to"])
        for e in await store.timeline(quiet.tracking_number)
        if e.kind == "escalated"
    ]
    assert quiet_steps == [("notify_owner", "301"), ("notify_lead", "301")]


async def test_a_response_moves_the_deadline_and_the_steps_start_again(
    database: Database, clock: Clock
) -> None:
    store = CaseStore(database, CASE_TYPES, clock=clock)
    scan = SlaScan(store, None, clock)
    case = await store.open_case(
        CaseRequest("callback", CaseChannel.SMS, "customer", fields={"reason": "claim"})
    )
    clock.now = at("2025-10-15 10:30")
    assert [f.action for f in await scan.run()] == [EscalationAction.NOTIFY_OWNER]
    await store.move(case.tracking_number, "in_progress", "agent:101")
    after = await store.get(case.tracking_number)
    # Now the resolution clock: 8 business hours from Wednesday 09:00 (7 h) -> Thursday 09:00.
    assert after.next_due_clock == "resolution" and after.escalation_step == 0
    assert after.next_due_at == at("2025-10-16 09:00")
    assert await scan.run() == []
    assert [c.tracking_number for c in await scan.due(at("2025-10-16 08:30"))] == [
        case.tracking_number
    ]


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.configure(parser)
    return parser.parse_args(argv)


async def test_cases_command_creates_lists_shows_and_scans(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=database.url)
    await command.run(
        _args(
            "create",
            "complaint",
            "--field",
            "remedy_sought=refund",
            "--field",
            "category=premium",
            "--phone",
            "09121234567",
            "--json",
        ),
        settings,
    )
    created = json.loads(capsys.readouterr().out)
    number = created["tracking_number"]
    assert created["state"] == "received" and created["team"] == "customer_care"
    await command.run(_args("list", "--team", "customer_care"), settings)
    assert number in capsys.readouterr().out
    await command.run(_args("show", number), settings)
    shown = capsys.readouterr().out
    assert "opened" in shown and "sla_set" in shown
    await command.run(_args("scan", "--json"), settings)
    assert isinstance(json.loads(capsys.readouterr().out), list)
    with pytest.raises(Exception, match="no case"):
        await command.run(_args("show", "123"), settings)
