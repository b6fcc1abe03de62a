"""Wallboard alerts: thresholds per queue and on the IVR, read from a checked YAML file, shown
on the board at once and sent to the supervisor on duty through the outbox at most once per
condition per interval, across processes. The clock is the test's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from integrations.database import Database
from integrations.messaging.outbox import OutboundMessage, Outbox
from ivr.hours import TEHRAN
from supervisors.alert_notices import AlertFirings, AlertWatch
from supervisors.alerts import (
    RULES_PATH,
    Alert,
    AlertRules,
    DefinitionError,
    QueueRule,
    Shift,
    evaluate,
    load_rules,
)
from supervisors.wallboard import Wallboard
from tamas.bus import InProcessBus

# A Saturday morning in Tehran (the centre is open).
SATURDAY_10 = datetime(2026, 12, 5, 10, 0, tzinfo=TEHRAN)
RULES = AlertRules(
    defaults=QueueRule(
        service_level_below=0.8,
        abandon_rate_over=0.1,
        min_offered=10,
        longest_wait_over_s=120,
        no_agent_logged_in=True,
        notify=("sms",),
    ),
    on_duty=(
        Shift(
            "Day",
            frozenset({5, 6, 0, 1, 2}),
            SATURDAY_10.time().replace(hour=8),
            SATURDAY_10.time().replace(hour=16),
            sms="09120000000",
        ),
    ),
)


def board(**queue: Any) -> dict[str, Any]:
    shown = {"agents_logged_in": 2, "longest_wait_s": 0, "today": None, **queue}
    return {"queues": {"support": shown}, "ivr": {"agi_errors_today": 0}}


def kinds(alerts: list[Alert]) -> list[str]:
    return [alert.kind for alert in alerts]


def always_open(_at: datetime) -> bool:
    return True


def test_a_quiet_queue_raises_nothing() -> None:
    today = {"offered": 40, "service_level": 0.9, "abandon_rate": 0.05}
    assert evaluate(RULES, board(today=today), SATURDAY_10, always_open) == []


def test_service_level_and_abandon_rate_alert_only_once_enough_calls_were_offered() -> None:
    bad = {"service_level": 0.5, "abandon_rate": 0.3}
    assert evaluate(RULES, board(today={**bad, "offered": 9}), SATURDAY_10, always_open) == []
    alerts = evaluate(RULES, board(today={**bad, "offered": 10}), SATURDAY_10, always_open)
    assert kinds(alerts) == ["service_level", "abandon_rate"]
    assert (alerts[0].value, alerts[0].threshold, alerts[0].queue) == (0.5, 0.8, "support")


def test_a_long_wait_alerts_at_once() -> None:
    assert evaluate(RULES, board(longest_wait_s=120), SATURDAY_10, always_open) == []
    [alert] = evaluate(RULES, board(longest_wait_s=121.4), SATURDAY_10, always_open)
    assert (alert.value, alert.condition) == (121, "support:longest_wait")


def test_no_agent_logged_in_alerts_only_during_opening_hours() -> None:
    empty = board(agents_logged_in=0)
    assert kinds(evaluate(RULES, empty, SATURDAY_10, always_open)) == ["no_agent"]
    assert evaluate(RULES, empty, SATURDAY_10, lambda _at: False) == []


def test_ivr_errors_over_the_threshold_alert() -> None:
    rules = AlertRules(ivr=RULES.ivr.__class__(agi_errors_over=3, notify=("email",)))
    shown = {"queues": {}, "ivr": {"agi_errors_today": 4}}
    [alert] = evaluate(rules, shown, SATURDAY_10, always_open)
    assert (alert.condition, alert.notify) == ("ivr:ivr_errors", ("email",))


def test_the_shipped_rules_load_and_a_queue_inherits_the_defaults() -> None:
    rules = load_rules(RULES_PATH)
    assert rules.for_queue("priority").longest_wait_over_s == 45
    assert rules.for_queue("priority").min_offered == rules.defaults.min_offered
    assert rules.for_queue("support") == rules.defaults
    assert rules.supervisor_on_duty(SATURDAY_10) is not None
    assert rules.supervisor_on_duty(SATURDAY_10.replace(hour=20)) is None


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("defaults:\n  service_level_below: 80\n", ":2: defaults.service_level_below"),
        ("queues:\n  support:\n    longest_wait: 3\n", ":3: queues.support.longest_wait"),
        ("ivr:\n  notify: [pager]\n", ":2: ivr.notify[0]"),
        (
            "on_duty:\n  - name: A\n    days: [caturday]\n    from: '08:00'\n    to: '16:00'\n"
            "    sms: '0912'\n",
            ":3: on_duty[0].days[0]",
        ),
        (
            "on_duty:\n  - name: A\n    days: [friday]\n    from: '16:00'\n    to: '08:00'\n"
            "    sms: '0912'\n",
            ":5: on_duty[0].to",
        ),
    ],
)
def test_a_mistake_in_the_rules_names_the_line_and_key(
    tmp_path: Path, text: str, where: str
) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as error:
        load_rules(path)
    assert f"alerts.yaml{where}" in str(error.value)


async def test_a_condition_is_claimed_once_per_interval_across_processes(
    database: Database,
) -> None:
    one, other = AlertFirings(database), AlertFirings(database)
    [alert] = evaluate(RULES, board(longest_wait_s=300), SATURDAY_10, always_open)
    at = SATURDAY_10.astimezone(UTC)
    assert await one.claim(alert, at)
    assert not await other.claim(alert, at)
    assert not await one.claim(alert, at + timedelta(minutes=29))
    assert await other.claim(alert, at + timedelta(minutes=30))
    assert not await one.claim(alert, at + timedelta(minutes=31))


async def test_the_board_shows_an_alert_at_once_and_the_supervisor_gets_one_sms(
    database: Database,
) -> None:
    now = [SATURDAY_10.timestamp()]
    wallboard = Wallboard(InProcessBus(), clock=lambda: now[0])
    watch = AlertWatch(
        RULES, AlertFirings(database), Outbox(database), always_open, clock=lambda: now[0]
    )
    wallboard.on_flush.append(watch)
    member = {
        "Event": "QueueMemberAdded",
        "Queue": "support",
        "Interface": "Local/101@tamas-agents/n",
        "MemberName": "Agent 101",
        "Status": "1",
    }
    caller = {"Event": "QueueCallerJoin", "Queue": "support", "Uniqueid": "u1"}
    wallboard.feed(member, now[0])
    wallboard.feed(caller, now[0] - 200)
    await wallboard.step()
    assert wallboard.alerts == [
        {"kind": "longest_wait", "queue": "support", "value": 200, "threshold": 120}
    ]
    for step_s in (1, 60, 29 * 60):  # still waiting: no second SMS within 30 minutes
        now[0] += step_s
        await wallboard.step()
    now[0] += 60
    await wallboard.step()
    async with database.session() as session:
        sent = list(await session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))
    assert [(m.kind, m.to) for m in sent] == [("sms", "09120000000")] * 2
    assert "support" in sent[0].body
    wallboard.feed({"Event": "QueueCallerLeave", "Queue": "support", "Uniqueid": "u1"}, now[0])
    now[0] += 1
    await wallboard.step()
    assert wallboard.alerts == []


async def test_the_board_keeps_going_when_alerts_cannot_be_sent(database: Database) -> None:
    sent: list[str] = []
    wallboard = Wallboard(InProcessBus())

    async def frames(message: object) -> None:
        sent.append(str(getattr(message, "name", "")))

    wallboard.bus.subscribe(frames)
    # The firings' database cannot be reached: claiming the condition fails.
    unreachable = Database("sqlite+aiosqlite:////nonexistent/tamas.sqlite3")
    broken = AlertWatch(RULES, AlertFirings(unreachable), Outbox(database), always_open)
    wallboard.on_flush.append(broken)
    wallboard.feed({"Event": "QueueCallerJoin", "Queue": "support", "Uniqueid": "u1"}, 0.0)
    await wallboard.step()
    assert sent == ["wallboard.changed"]
    assert wallboard.alerts[0]["kind"] == "longest_wait"
    await unreachable.dispose()
