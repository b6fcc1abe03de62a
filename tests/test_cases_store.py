"""Cases on SQLite and PostgreSQL: opened from any channel with a tracking number, routed, their
clocks following the workflow (ISO 10002's complaint states, pauses, an SLA changed mid-case),
tasks with control dates, and the customer's satisfaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cases import types
from cases.calendar import iranian_holidays
from cases.store import CaseChannel, CaseError, CaseRequest, CaseStore, TimelineKind
from cases.tasks import CaseTasks
from cases.tracking import canonical_tracking_number
from cases.types import CaseFieldError, Priority
from customer_file.identifiers import (
    InvalidIdentifier,
    company_id_check_digit,
    national_id_check_digit,
)
from integrations.database import Database
from ivr.hours import TEHRAN

NATIONAL_ID = "001234567" + str(national_id_check_digit("001234567"))
COMPANY_ID = "1010020030" + str(company_id_check_digit("1010020030"))
CASE_TYPES = types.load()


class Clock:
    """The time the store sees; tests move it."""

    def __init__(self, start: str) -> None:
        self.now = datetime.fromisoformat(start).replace(tzinfo=TEHRAN)

    def __call__(self) -> datetime:
        return self.now

    def at(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).replace(tzinfo=TEHRAN)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TEHRAN)


@pytest.fixture
def clock() -> Clock:
    # Wednesday 15 October 2025 (1404-07-23), a week without holidays.
    return Clock("2025-10-15 09:00")


@pytest.fixture
def store(database: Database, clock: Clock) -> CaseStore:
    return CaseStore(database, CASE_TYPES, clock=clock)


def complaint(**overrides: object) -> CaseRequest:
    values: dict[str, object] = {
        "type": "complaint",
        "channel": CaseChannel.IVR,
        "actor": "ivr",
        "summary": "the garage kept my car two weeks",
        "fields": {"remedy_sought": "pay the rental car", "category": "delay"},
        "phone": "09121234567",
        "national_id": NATIONAL_ID,
    }
    values.update(overrides)
    return CaseRequest(**values)  # type: ignore[arg-type]


async def test_case_opened_from_the_ivr_gets_a_tracking_number_and_its_deadlines(
    store: CaseStore,
) -> None:
    case = await store.open_case(complaint())
    assert canonical_tracking_number(case.tracking_number) == case.tracking_number
    assert case.tracking_number.startswith("3") and len(case.tracking_number) == 9
    assert (case.state, case.status, case.team, case.channel) == (
        "received",
        "open",
        "customer_care",
        "ivr",
    )
    # 4 business hours for the first response, 56 for the resolution.
    assert case.first_response_due_at == at("2025-10-15 13:00")
    assert case.next_due_at == at("2025-10-15 13:00")
    assert case.next_due_clock == "first_response"
    assert case.phone == "+989121234567"
    assert case.national_id_masked == "001****" + NATIONAL_ID[-3:]
    # The customer can give the number with Persian digits and dashes.
    spoken = "-".join(case.tracking_number).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert (await store.get(spoken)).id == case.id
    kinds = [entry.kind for entry in await store.timeline(case.tracking_number)]
    assert kinds == ["opened", "sla_set", "assigned"]


async def test_invalid_identity_opens_no_case(store: CaseStore) -> None:
    with pytest.raises(InvalidIdentifier, match="check digit"):
        await store.open_case(complaint(national_id="0012345678"[:-1] + "0"))
    with pytest.raises(InvalidIdentifier):
        await store.open_case(complaint(national_id=None, company_id="10100200301"))
    case = await store.open_case(complaint(national_id=None, company_id=COMPANY_ID))
    assert case.national_id_masked is not None
    with pytest.raises(CaseFieldError, match="remedy_sought: is required"):
        await store.open_case(complaint(fields={"category": "delay"}))
    assert len(await store.find()) == 1


async def test_complaint_follows_iso_10002_each_step_time_stamped(
    store: CaseStore, clock: Clock
) -> None:
    case = await store.open_case(complaint(tier="gold"))
    assert (case.owner, case.priority, case.sla_name) == ("205", "high", "complaint_urgent")
    number = case.tracking_number
    clock.at("2025-10-15 09:30")
    case = await store.move(number, "acknowledged", "agent:205", "we have your complaint")
    assert case.next_due_clock == "resolution" and not case.breached
    clock.at("2025-10-15 10:00")
    assessment = {"severity": "high", "complexity": "low", "impact": "medium", "urgency": "high"}
    case = await store.move(number, "assessed", "agent:205", fields=assessment)
    assert case.fields["severity"] == "high"
    clock.at("2025-10-15 11:00")
    await store.move(number, "investigating", "agent:205")
    clock.at("2025-10-15 12:00")
    case = await store.move(number, "waiting_customer", "agent:205", "asked for the invoice")
    assert case.next_due_at is None  # the clock stopped: nothing for the scan
    clock.at("2025-10-18 12:00")
    case = await store.move(number, "responded", "agent:205")
    # 16 h SLA: 3 h used on Wednesday before the pause; 13 h from Saturday noon.
    assert case.resolution_due_at == at("2025-10-20 09:00")
    clock.at("2025-10-18 13:00")
    case = await store.move(number, "communicated", "agent:205", "refund agreed")
    assert case.status == "resolved" and case.next_due_at is None
    assert case.resolved_at == at("2025-10-18 13:00")
    clock.at("2025-10-19 09:00")
    case = await store.move(number, "closed", "agent:205")
    assert case.status == "closed"
    case = await store.record_satisfaction(number, "customer", score=4, nps=9)
    assert (case.satisfaction, case.nps) == (4, 9)
    states = [
        (entry.data["to"], entry.at)
        for entry in await store.timeline(number)
        if entry.kind == TimelineKind.STATE
    ]
    assert states == [
        ("acknowledged", at("2025-10-15 09:30")),
        ("assessed", at("2025-10-15 10:00")),
        ("investigating", at("2025-10-15 11:00")),
        ("waiting_customer", at("2025-10-15 12:00")),
        ("responded", at("2025-10-18 12:00")),
        ("communicated", at("2025-10-18 13:00")),
        ("closed", at("2025-10-19 09:00")),
    ]
    with pytest.raises(CaseError, match="not a state"):
        await store.move(number, "resolved", "agent:205")
    with pytest.raises(ValueError, match="1 to 5"):
        await store.record_satisfaction(number, "customer", score=6)


async def test_sla_changed_mid_case_keeps_the_paused_time(store: CaseStore, clock: Clock) -> None:
    clock.at("2025-10-11 08:00")  # Saturday
    case = await store.open_case(
        CaseRequest(
            "vehicle_inspection",
            CaseChannel.DESKTOP,
            "agent:101",
            fields={"purpose": "loss", "plate": "12ب345-67"},
        )
    )
    number = case.tracking_number
    clock.at("2025-10-11 10:00")
    await store.move(number, "in_progress", "agent:101")
    await store.move(number, "waiting_document", "agent:101", "police report")
    clock.at("2025-10-12 10:00")
    await store.move(number, "in_progress", "agent:101")
    clock.at("2025-10-13 08:00")
    case = await store.change_sla(number, "callback", "supervisor:1")
    # 8 h counted (Saturday 08-10, Sunday 10-16) of the new 8 h: due at Sunday's close, not
    # breached yet (no business time has passed since); the scan finds it due.
    assert case.resolution_due_at == at("2025-10-12 16:00")
    assert case.breached == ()
    case = await store.change_sla(number, "estimate", "supervisor:1")
    # 40 h: 32 h left from Monday 08:00 -> Mon 8, Tue 8, Wed 8, Thu 6 (the inspection team
    # works Thursdays until 14:00), Sat 2.
    assert case.resolution_due_at == at("2025-10-18 10:00")
    assert case.breached == ()


async def test_notes_calls_and_attachments_are_on_the_timeline(
    store: CaseStore, clock: Clock
) -> None:
    case = await store.open_case(
        CaseRequest(
            "callback",
            CaseChannel.SMS,
            "customer",
            fields={"reason": "claim"},
            phone="+989121234567",
            attachment="recording:1700000000.42",
        )
    )
    clock.now += timedelta(minutes=20)
    case = await store.record(
        case.tracking_number,
        TimelineKind.CALL,
        "agent:101",
        "called back, no answer",
        {"direction": "outbound", "linkedid": "1700000001.7"},
    )
    assert case.next_due_clock == "resolution"  # an outbound call is the first response
    await store.record(
        case.tracking_number, TimelineKind.ATTACHMENT, "partner:acme", "photo", attachment="s3:x"
    )
    entries = await store.timeline(case.tracking_number)
    assert entries[0].attachment == "recording:1700000000.42"
    assert [e.kind for e in entries[3:]] == ["call", "responded", "attachment"]


async def test_each_team_sees_its_unfinished_tasks_soonest_first(
    store: CaseStore, database: Database, clock: Clock
) -> None:
    tasks = CaseTasks(database, clock=clock)
    first = await store.open_case(
        CaseRequest(
            "loss_estimate", CaseChannel.DESKTOP, "agent:101", fields={"claim_number": "C-1"}
        )
    )
    second = await store.open_case(
        CaseRequest(
            "loss_estimate", CaseChannel.DESKTOP, "agent:101", fields={"claim_number": "C-2"}
        )
    )
    late = await tasks.add(first.tracking_number, "chase the police report", at("2025-10-18 10:00"))
    urgent = await tasks.add(
        second.tracking_number, "call the garage", at("2025-10-16 10:00"), Priority.URGENT
    )
    calm = await tasks.add(second.tracking_number, "send the form", at("2025-10-16 10:00"))
    await tasks.add(
        first.tracking_number, "ask the inspector", at("2025-10-16 09:00"), team="inspection"
    )
    seen = await tasks.unfinished(team="claims")
    assert [task.id for task in seen] == [urgent.id, calm.id, late.id]
    assert await tasks.complete(urgent.id, "101")
    assert not await tasks.complete(urgent.id, "101")
    assert [task.id for task in await tasks.unfinished(team="claims")] == [calm.id, late.id]
    clock.at("2025-10-17 09:00")
    assert calm.overdue(clock()) and not late.overdue(clock())


async def test_reassigning_to_another_team_counts_on_its_hours(
    store: CaseStore, clock: Clock
) -> None:
    clock.at("2025-10-16 11:00")  # Thursday
    case = await store.open_case(
        CaseRequest("loss_estimate", CaseChannel.DESKTOP, "agent:101", fields={"claim_number": "C"})
    )
    assert case.first_response_due_at == at("2025-10-18 11:00")  # claims: Thursday until 12
    case = await store.assign(case.tracking_number, "supervisor:1", team="inspection", owner="401")
    # The inspection team works Thursdays until 14:00: 3 h on Thursday, 1 h on Saturday.
    assert case.first_response_due_at == at("2025-10-18 09:00")
    assert case.owner == "401"
    assert [c.id for c in await store.find(owner="401")] == [case.id]


async def test_official_holidays_announced_late_move_open_cases_deadlines(
    database: Database, clock: Clock, tmp_path: Path
) -> None:
    estimates, official = tmp_path / "estimates.yaml", tmp_path / "official.yaml"
    estimates.write_text("every_year: []\ndates: []\n", encoding="utf-8")
    # Eid al-Fitr 1408 announced a day later than the package's estimate (Tue-Wed).
    official.write_text(
        'every_year: []\ndates:\n  - {date: "1408-11-18", name: Eid}\n'
        '  - {date: "1408-11-19", name: Eid}\n',
        encoding="utf-8",
    )
    clock.at("2030-02-04 15:00")  # Monday
    before = CaseStore(database, CASE_TYPES, iranian_holidays(estimates), clock)
    case = await before.open_case(
        CaseRequest("loss_estimate", CaseChannel.DESKTOP, "agent:1", fields={"claim_number": "C"})
    )
    # 4 h: Monday 1 h, Tuesday and Wednesday off (estimated Eid), Thursday 3 h.
    assert case.first_response_due_at == at("2030-02-07 11:00")
    after = CaseStore(database, CASE_TYPES, iranian_holidays(official), clock)
    assert await after.recompute_open() == 1
    assert (await after.get(case.tracking_number)).first_response_due_at == at("2030-02-05 11:00")
