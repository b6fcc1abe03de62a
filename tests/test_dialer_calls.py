"""Campaign calls through the real Asterisk sandbox: the dialer worker originates each attempt,
AMD() tells people from machines, our FastAGI route says the message and reads the keys, and
every attempt ends recorded on its target and as an outbound interaction. The customers are
Local channels of dialplans/outbound.conf that behave by their number's last two digits
(01 listens, 02 busy, 03 never answers, 04 a machine, 11/12/13/19 press 1/2/3/9); agents are
the sandbox queue's Local-channel agents."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, or_, select

from agi_scripts.fastagi import build_server
from cases import types
from cases.tables import CaseRow
from dialer import control, kinds
from dialer.attempts import Attempts
from dialer.call_route import CampaignCallRoute
from dialer.campaigns import Campaign, Campaigns
from dialer.do_not_call import DoNotCallList
from dialer.imports import TargetRow
from dialer.status import campaign_status
from dialer.tables import AttemptRow
from dialer.tables import TargetRow as StoredTarget
from dialer.windows import ALWAYS_OPEN
from dialer.worker import DialerWorker
from integrations.customer_file.own_records import OwnRecords
from integrations.database import Database
from interactions.records import InteractionRecords
from ivr.speech import PromptVoice
from tamas.asterisk.ami import AmiClient, Message
from tamas.asterisk.config import CAMPAIGN_AGENTS
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk

# Calls are placed now, whatever the hour: the windows themselves are tested without Asterisk.
CATALOGUE = {name: replace(kind, window=ALWAYS_OPEN) for name, kind in kinds.load().items()}


async def tamas_json(database: Database, *command: str) -> Any:
    """What a `tamas` command prints as JSON, run as an operator would, on `database`."""
    env = {**os.environ, "TAMAS_DATABASE_URL": database.url}
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("tamas")),
        *command,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return json.loads(out)


def number(behaviour: str, n: int = 0) -> str:
    """A simulated customer's E.164 number: `behaviour` is its last two digits."""
    return f"+98912{n:05d}{behaviour}"


@dataclass
class Dialer:
    worker: DialerWorker
    database: Database
    campaigns: Campaigns
    attempts: Attempts

    async def campaign(self, name: str, kind: str, phones: list[str], **fields: str) -> Campaign:
        campaign = await self.campaigns.create(name, CATALOGUE[kind], datetime.now(UTC))
        rows = [
            TargetRow(line=i + 2, phone=p, name=None, language="en", fields=dict(fields))
            for i, p in enumerate(phones)
        ]
        await self.campaigns.add_targets(campaign.id, rows)
        return await control.start(self.database, name, datetime.now(UTC))

    async def run_until_done(self, campaign: Campaign, timeout_s: float = 90) -> None:
        """Rounds of the worker until every target of the campaign is settled."""
        stop = asyncio.Event()
        loop = asyncio.create_task(self.worker.run_forever(stop))
        try:
            async with asyncio.timeout(timeout_s):
                # Polled: the calls settle in the worker's tasks, which signal nothing.
                while await self.due_or_calling(campaign):  # noqa: ASYNC110
                    await asyncio.sleep(0.5)
        finally:
            stop.set()
            await loop
            await self.worker.drain()

    async def due_or_calling(self, campaign: Campaign) -> int:
        """Targets due now or being called (those due again later, after a retry wait, not)."""
        now = datetime.now(UTC)
        async with self.database.session() as session:
            due = await session.scalar(
                select(func.count())
                .select_from(StoredTarget)
                .where(
                    StoredTarget.campaign_id == campaign.id,
                    or_(
                        StoredTarget.state == "dialing",
                        (StoredTarget.state == "pending")
                        & or_(StoredTarget.next_try_at.is_(None), StoredTarget.next_try_at <= now),
                    ),
                )
            )
        return (due or 0) + len(await self.attempts.in_flight(campaign.id))

    async def outcomes(self, campaign: Campaign) -> dict[str, list[str | None]]:
        """Each target's attempts' outcomes, in order."""
        async with self.database.session() as session:
            rows = await session.execute(
                select(AttemptRow.phone, AttemptRow.outcome)
                .where(AttemptRow.campaign_id == campaign.id)
                .order_by(AttemptRow.id)
            )
            found: dict[str, list[str | None]] = {}
            for phone, outcome in rows:
                found.setdefault(phone, []).append(outcome)
            return found

    async def target(self, campaign: Campaign, phone: str) -> StoredTarget:
        async with self.database.session() as session:
            row = await session.scalar(
                select(StoredTarget).where(
                    StoredTarget.campaign_id == campaign.id, StoredTarget.phone == phone
                )
            )
            assert row is not None
            return row

    async def interaction(self, phone: str) -> dict[str, Any]:
        async with self.database.session() as session:
            channel_id = await session.scalar(
                select(AttemptRow.channel_id).where(AttemptRow.phone == phone)
            )
        assert channel_id is not None
        record = await InteractionRecords(self.database).load(channel_id)
        assert record is not None
        return record.as_record()


@asynccontextmanager
async def dialer(settings: Settings, database: Database) -> AsyncIterator[Dialer]:
    """A worker dialing through the sandbox, its calls' route served by our own FastAGI
    server on a free port (each Originate points the dialplan at it)."""
    settings = replace(settings, dialer_ring_timeout_s=8, dialer_poll_s=0.3)
    route = CampaignCallRoute(settings, database, voice=PromptVoice(), catalogue=CATALOGUE)
    server = build_server(settings, route.routes(), host="127.0.0.1", port=0)
    await server.start()
    ami = AmiClient.from_settings(settings, name="test-dialer")
    await ami.connect()
    worker = DialerWorker(
        settings,
        database,
        ami,
        name="test-worker",
        agi_url=f"agi://127.0.0.1:{server.port}",
        catalogue=CATALOGUE,
    )
    try:
        yield Dialer(
            worker, database, Campaigns(database), Attempts(database, worker.attempts.records)
        )
    finally:
        await worker.close()
        await ami.close()
        await server.close()


async def test_a_broadcast_campaign_reaches_each_kind_of_customer(
    asterisk_sandbox: Settings, database: Database, tmp_path: Path
) -> None:
    # This insurer's claims team calls customers back (its own case types file).
    case_types = tmp_path / "types.yaml"
    case_types.write_text(
        types.DEFAULT_PATH.read_text(encoding="utf-8").replace(
            "    sla: callback\n    team: customer_care", "    sla: callback\n    team: claims"
        ),
        encoding="utf-8",
    )
    settings = replace(asterisk_sandbox, cases_types_path=str(case_types))
    phones = {
        "listens": number("01"),
        "busy": number("02"),
        "no_answer": number("03"),
        "machine": number("04"),
        "agent": number("11"),
        "callback": number("12"),
        "again": number("13"),
        "stop": number("19"),
    }
    async with dialer(settings, database) as d:
        campaign = await d.campaign(
            "debts", "debt_reminder", list(phones.values()), amount_rials="1250000"
        )
        await d.run_until_done(campaign)
        outcomes = await d.outcomes(campaign)

        assert outcomes == {
            phones["listens"]: ["message_played"],
            phones["busy"]: ["busy"],
            phones["no_answer"]: ["no_answer"],
            phones["machine"]: ["answering_machine"],
            phones["agent"]: ["to_agent"],
            phones["callback"]: ["callback_requested"],
            phones["again"]: ["message_played"],
            phones["stop"]: ["opted_out"],
        }
        # On the target: busy, unanswered and machines are tried again; the rest are done.
        busy = await d.target(campaign, phones["busy"])
        assert (busy.state, busy.attempts, busy.last_outcome) == ("pending", 1, "busy")
        assert busy.next_try_at is not None
        done = await d.target(campaign, phones["listens"])
        assert (done.state, done.last_outcome) == ("done", "message_played")
        # As outbound interactions naming the campaign, with what the person keyed.
        record = await d.interaction(phones["stop"])
        assert (record["direction"], record["outcome"], record["outcome_detail"]) == (
            "outbound",
            "opted_out",
            "debts",
        )
        assert [item["value"] for item in record["inputs"]] == ["9"]
        assert (await d.interaction(phones["busy"]))["outcome"] == "busy"
        assert await DoNotCallList(database).holds(phones["stop"])
        # The callback request waits for any agent, as the IVR's do.
        tasks = await OwnRecords(database).callback_tasks_for_agent("101")
        assert [(t.phone, t.kind, t.status) for t in tasks] == [
            (phones["callback"], "callback", "open")
        ]
        # Its case came by the dialer, of the types file the settings name.
        async with database.session() as session:
            case = await session.scalar(select(CaseRow).where(CaseRow.phone == phones["callback"]))
        assert case is not None
        assert (case.channel, case.team) == ("dialer", "claims")

        status = await campaign_status(d.campaigns, d.attempts, "debts", datetime.now(UTC))
        assert (status["attempts"], status["in_flight"], status["answered"]) == (8, 0, 5)
        assert (status["to_agent"], status["opted_out"], status["abandoned"]) == (1, 1, 0)
        assert status["pending"] == 3  # busy, no answer and the machine, due again later
        # `tamas campaign status --json` tells the same.
        shown = await tamas_json(database, "campaign", "status", "debts", "--json")
        assert {key: shown[key] for key in ("attempts", "answered", "to_agent", "opted_out")} == {
            "attempts": 8,
            "answered": 5,
            "to_agent": 1,
            "opted_out": 1,
        }
        assert shown["outcomes"] == status["outcomes"]
        assert shown["state"] == "running"


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_progressive_campaign_calls_one_person_per_free_agent(
    asterisk_sandbox: Settings, database: Database
) -> None:
    phones = [number("01", n) for n in range(3)] + [number("04", 9)]
    async with dialer(asterisk_sandbox, database) as d:
        campaign = await d.campaign("renewals", "renewal_due", phones)
        seen_at_once: list[int] = []
        # Whom each agent's phone shows: the person called, for the popup to find.
        shown: list[str] = []

        def connected(event: Message) -> None:
            # This campaign's calls only: the sandbox's other users share the queue.
            if d.worker.watcher.watching(str(event.get("Uniqueid"))):
                shown.append(str(event.get("CallerIDNum")))

        d.worker.ami.on_event("AgentConnect", connected)

        async def watch() -> None:
            while True:
                seen_at_once.append(len(await d.attempts.in_flight(campaign.id)))
                await asyncio.sleep(0.2)

        watcher = asyncio.create_task(watch())
        try:
            await d.run_until_done(campaign)
        finally:
            watcher.cancel()
        outcomes = await d.outcomes(campaign)

    assert {phone: outcomes[phone] for phone in phones[:3]} == {
        phone: ["to_agent"] for phone in phones[:3]
    }
    assert outcomes[phones[3]] == ["answering_machine"]
    assert sorted(shown) == sorted(phones[:3])
    # Two agents: never more than two people called at once.
    assert max(seen_at_once) <= 2
    assert (await Campaigns(database).named("renewals")).state == "running"


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_predictive_campaign_dials_only_while_agents_are_logged_in(
    asterisk_sandbox: Settings, database: Database
) -> None:
    phones = [number("01", 300 + n) for n in range(4)]
    async with dialer(asterisk_sandbox, database) as d:
        campaign = await d.campaign("overdue", "overdue_installment", phones)
        assert campaign.mode == "predictive"
        # A queue nobody is logged in to: no call at all, however many targets wait.
        staffed = d.worker.settings
        d.worker.settings = replace(staffed, dialer_queue="nobody-logged-in")
        assert await d.worker.round() == 0
        assert await d.attempts.in_flight(campaign.id) == []
        # The agents log in: the campaign runs, every person answered reaches one of them
        # (too few calls yet to predict from: one call per free agent).
        d.worker.settings = staffed
        await d.run_until_done(campaign)
        outcomes = await d.outcomes(campaign)
        status = await campaign_status(d.campaigns, d.attempts, "overdue", datetime.now(UTC))

    assert outcomes == {phone: ["to_agent"] for phone in phones}
    assert (status["answered"], status["abandoned"], status["abandon_rate"]) == (4, 0, 0.0)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_two_workers_on_one_campaign_call_each_person_once(
    asterisk_sandbox: Settings, database: Database
) -> None:
    phones = [number("01", 400 + n) for n in range(8)]
    async with dialer(asterisk_sandbox, database) as one, dialer(asterisk_sandbox, database) as two:
        two.worker.name = "test-worker-2"
        campaign = await one.campaign("welcomes", "welcome", phones)
        stop = asyncio.Event()
        second = asyncio.create_task(two.worker.run_forever(stop))
        try:
            await one.run_until_done(campaign)
        finally:
            stop.set()
            await second
            await two.worker.drain()
        outcomes = await one.outcomes(campaign)

    # Whichever worker placed each call (they race for the targets), each person was called
    # once and heard the message.
    assert outcomes == {phone: ["message_played"] for phone in phones}


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_kind_that_leaves_its_message_on_a_machine_waits_for_the_beep(
    asterisk_sandbox: Settings, database: Database
) -> None:
    machine = number("04", 500)
    async with dialer(asterisk_sandbox, database) as d:
        d.worker.settings = replace(d.worker.settings, dialer_machine_message_kinds=("welcome",))
        campaign = await d.campaign("welcomes", "welcome", [machine])
        await d.run_until_done(campaign)
        outcomes = await d.outcomes(campaign)
        record = await d.interaction(machine)

    assert outcomes == {machine: ["answering_machine"]}
    said = " ".join(item["text"] for item in record["transcript"])
    assert PromptVoice().phrase("campaign_welcome", "en").text in said


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_person_no_agent_reaches_in_2_s_hears_the_insurer_named_and_is_abandoned(
    asterisk_sandbox: Settings, database: Database
) -> None:
    person = number("01", 600)
    async with dialer(asterisk_sandbox, database) as d:
        # The campaign agents' phones ring and nobody picks up.
        async def agents_answer(mode: str) -> None:
            for agent in CAMPAIGN_AGENTS:
                setvar = {"Action": "Setvar", "Variable": f"AGENT_{agent}_MODE", "Value": mode}
                await d.worker.ami.send_action(setvar)

        await agents_answer("noanswer")
        try:
            campaign = await d.campaign("renewals", "renewal_due", [person])
            await d.run_until_done(campaign)
        finally:
            await agents_answer("")
        outcomes = await d.outcomes(campaign)
        record = await d.interaction(person)
        status = await campaign_status(d.campaigns, d.attempts, "renewals", datetime.now(UTC))

    assert outcomes == {person: ["abandoned"]}
    said = " ".join(item["text"] for item in record["transcript"])
    assert asterisk_sandbox.insurer_name_en in said
    assert (status["abandoned"], status["abandon_rate"]) == (1, 1.0)
