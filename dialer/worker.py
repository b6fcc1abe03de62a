"""`tamas campaign worker`: the loop that places running campaigns' calls and settles them.

Each round, for each running campaign: how many calls to place (broadcast: up to the channel
cap; progressive: one per free agent of the campaign's queue, read over AMI QueueStatus;
predictive: `dialer.pacing.calls_to_place`), none at all while no agent is logged in for the
modes that need one; claim that many due targets (SKIP LOCKED, shared with other workers);
check each against its calling window and the bounds across campaigns; let the trunk gate
(`dialer.trunks`) admit them; write each attempt, then send its Originate.

Crash safety: an attempt is written before its Originate, so at start (and every
`RECONCILE_S`) attempts in flight are matched against the channels Asterisk has: a live one is
followed to its end (a restarted worker adopts its predecessor's calls), one gone for good is
settled from what its call wrote on it. A target is never dialled while its last attempt
might be live. A call Asterisk's stop or restart cut is our failure (`failed`, due again at once:
dialer/outages.py), and no target is claimed while Asterisk is out of reach.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError

from dialer import eligibility, fallback, kinds
from dialer.abandons import AbandonCount
from dialer.attempts import (
    ANSWERED,
    Attempts,
    InFlight,
    PersonInCall,
    Settled,
    UnknownAttempt,
    new_channel_id,
)
from dialer.campaigns import Campaign, Campaigns, ClaimedTarget
from dialer.kinds import CampaignKind, Mode
from dialer.originate import CallEnd, CallOptions, CallWatcher, dial_string, outcome_of, place
from dialer.outages import GRACE, OutageWatch
from dialer.pacing import FloorState, SettledCall, calls_to_place
from dialer.trunks import TrunkGate, TrunkLimits
from integrations import migrations
from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords
from tamas.asterisk.ami import AmiClient, AmiDisconnected, AmiError
from tamas.errors import CommandError
from tamas.settings import Settings

log = logging.getLogger(__name__)

RECONCILE_S = 15.0
# How AmiClient.originate words Asterisk's refusal of an Originate (nothing was dialled).
REFUSED = "Originate refused"
# How AmiClient words an action it never sent (no connection): nothing was dialled.
NOT_SENT = "not connected"
# Outcomes a person causes that an Asterisk stopping mid-call looks like: settled as Tamas's
# own failure when Asterisk was seen stopping around the call's end.
CUT_LOOKALIKES = frozenset(
    {Outcome.DIAL_FAILED, Outcome.NO_ANSWER, Outcome.HUNG_UP, Outcome.ABANDONED}
)
# A claimed target with no attempt this long after its claim was left by a dead worker.
STALE_CLAIM = timedelta(minutes=2)
# Pacing learns from the last hour of the campaign's calls.
HISTORY = timedelta(hours=1)
# A person who answered this recently may still be on the way to an agent (AMD, the queue).
ON_THE_WAY = timedelta(seconds=7)


@dataclass(frozen=True)
class QueueFloor:
    """Agents of a queue: logged in (members Asterisk can reach) and free (idle, not paused)."""

    logged_in: int
    free: int


async def queue_floor(ami: AmiClient, queue: str) -> QueueFloor:
    reply = await ami.send_action({"Action": "QueueStatus", "Queue": queue})
    logged_in = free = 0
    for event in reply.events:
        if str(event.get("Event", "")).lower() != "queuemember":
            continue
        status, paused = str(event.get("Status", "")), str(event.get("Paused", "0"))
        # 4 invalid, 5 unavailable: not logged in (a device that is gone, an agent logged off).
        if status in ("4", "5"):
            continue
        logged_in += 1
        if status == "1" and paused != "1":
            free += 1
    return QueueFloor(logged_in, free)


def settled_calls(rows: Sequence[Settled]) -> list[SettledCall]:
    """The campaign's settled attempts as pacing's `SettledCall`s, oldest first."""
    answered_outcomes = {outcome.value for outcome in ANSWERED}
    calls = []
    for row in rows:
        rang_until = row.answered_at or row.ended_at
        handle_s = None
        if row.outcome == Outcome.TO_AGENT.value and row.answered_at is not None:
            handle_s = (row.ended_at - row.answered_at).total_seconds()
        calls.append(
            SettledCall(
                ended_at=row.ended_at,
                answered=row.outcome in answered_outcomes,
                abandoned=row.outcome == Outcome.ABANDONED.value,
                ring_s=max(0.0, (rang_until - row.created_at).total_seconds()),
                handle_s=handle_s,
            )
        )
    return calls


def trunk_limits(settings: Settings) -> TrunkLimits:
    return TrunkLimits(settings.dialer_trunk_max_channels, settings.dialer_trunk_calls_per_second)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


class DialerWorker:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        ami: AmiClient,
        *,
        name: str | None = None,
        only: str | None = None,
        agi_url: str | None = None,
        catalogue: dict[str, CampaignKind] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.database = database
        self.ami = ami
        self.name = name or worker_name()
        self.only = only
        self.agi_url = agi_url
        self.kinds = catalogue if catalogue is not None else kinds.load()
        self.clock = clock
        self.campaigns = Campaigns(database)
        self.attempts = Attempts(database, InteractionRecords(database))
        self.watcher = CallWatcher(ami, on_answer=self._answered)
        self.outages = OutageWatch(ami)
        self.gate = TrunkGate(database, trunk_limits(settings))
        self._started = False
        self._calls: dict[str, asyncio.Task[None]] = {}
        self._known: dict[int, Campaign] = {}
        self._missing_once: set[str] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self.placed = 0

    async def start(self) -> None:
        """Set the trunk's limits from the settings (once per worker)."""
        if not self._started:
            await self.gate.configure(self.settings.dialer_trunk, trunk_limits(self.settings))
            self._started = True

    # ------------------------------------------------------------ the loop

    async def run_forever(self, stop: asyncio.Event) -> None:
        await self._start_when_possible(stop)
        last_reconcile = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            if loop.time() - last_reconcile >= RECONCILE_S:
                await self._guarded(self.reconcile())
                last_reconcile = loop.time()
            await self._guarded(self.round())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.dialer_poll_s)

    async def _start_when_possible(self, stop: asyncio.Event) -> None:
        while not stop.is_set() and not self._started:
            await self._guarded(self.start())
            if not self._started:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.dialer_poll_s)

    async def _guarded(self, work: Any) -> None:
        # A database or Asterisk hiccup skips a round; it must not end the worker.
        try:
            await work
        except (AmiError, OSError, DBAPIError) as error:
            log.warning("dialer worker %s: %s; trying again", self.name, error)

    async def once(self) -> int:
        """One round, then wait for the calls it placed to end: how many it placed."""
        await self.start()
        await self.reconcile()
        placed = await self.round()
        await self.drain()
        return placed

    async def drain(self) -> None:
        while self._calls:
            await asyncio.gather(*list(self._calls.values()), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._calls.values()):
            task.cancel()
        await asyncio.gather(*self._calls.values(), *self._background, return_exceptions=True)
        self.watcher.close()
        self.outages.close()

    async def round(self) -> int:
        """Place the calls each running campaign may place now; how many were placed."""
        placed = 0
        if not self.outages.up():
            # Asterisk stopping or out of reach: a claimed target would only fail.
            return 0
        for campaign in await self.campaigns.running():
            if self.only is not None and campaign.name != self.only:
                continue
            self._known[campaign.id] = campaign
            kind = self.kinds.get(campaign.kind)
            if kind is None:
                log.error(
                    "campaign %s: kind %r is not in the kinds file", campaign.name, campaign.kind
                )
                continue
            placed += await self._dial(campaign, kind)
        self.placed += placed
        return placed

    async def _dial(self, campaign: Campaign, kind: CampaignKind) -> int:
        now = self.clock()
        in_flight = await self.attempts.in_flight(campaign.id)
        slots = await self._slots(campaign, in_flight, now)
        if slots <= 0:
            if not in_flight:
                await self._maybe_finish(campaign, kind)
            return 0
        targets = await self.campaigns.claim(campaign.id, self.name, now, limit=slots)
        if not targets and not in_flight:
            await self._maybe_finish(campaign, kind)
        callable_now = []
        for target in targets:
            history = await self.attempts.history_of(target.phone)
            decision = eligibility.decide(
                kind, target.phone, history, now, time_zone=target.time_zone
            )
            if decision.now(now):
                callable_now.append(target)
            else:
                await self.campaigns.release(target.id, decision.at)
        admitted = await self._admit(campaign, callable_now, now)
        placed = 0
        options = CallOptions.from_settings(self.settings, campaign.mode, self.agi_url)
        if campaign.kind in self.settings.dialer_machine_message_kinds:
            options = replace(options, on_machine="message")
        for channel_id, target in admitted:
            if await self._place(campaign, kind, target, channel_id, options, now):
                placed += 1
        return placed

    async def _slots(self, campaign: Campaign, in_flight: Sequence[InFlight], now: datetime) -> int:
        room = self.settings.dialer_max_channels - len(in_flight)
        if campaign.mode == Mode.BROADCAST.value:
            return room
        floor = await queue_floor(self.ami, self.settings.dialer_queue)
        if floor.logged_in == 0:
            # No agent to take an answered person: stop dialing at once.
            return 0
        # Calls still on the way to an agent: ringing, or answered moments ago.
        on_the_way = sum(
            1
            for call in in_flight
            if call.answered_at is None or call.answered_at > now - ON_THE_WAY
        )
        window = timedelta(seconds=campaign.abandon_window_s)
        history: list[SettledCall] = []
        in_window = None
        if campaign.mode == Mode.PREDICTIVE.value:
            history = settled_calls(await self.attempts.settled_since(campaign.id, now - HISTORY))
            # The abandon rate is held over the campaign's whole window (30 days by default):
            # counted by the database, not read call by call.
            counts = await self.attempts.outcome_counts(campaign.id, since=now - window)
            in_window = AbandonCount(
                answered=sum(counts.get(outcome.value, 0) for outcome in ANSWERED),
                abandoned=counts.get(Outcome.ABANDONED.value, 0),
            )
        wanted = calls_to_place(
            FloorState(
                mode=campaign.mode,
                agents_logged_in=floor.logged_in,
                agents_free=floor.free,
                in_flight=on_the_way,
                max_channels=self.settings.dialer_max_channels,
            ),
            history,
            campaign.abandon_target,
            now,
            window=window,
            in_window=in_window,
        )
        return min(int(wanted), room)

    async def _admit(
        self, campaign: Campaign, targets: list[ClaimedTarget], now: datetime
    ) -> list[tuple[str, ClaimedTarget]]:
        """Each target with its ChannelId, as far as the trunk's limits allow now; the others
        are put back, due at once."""
        chosen = [(new_channel_id(), target) for target in targets]
        if not chosen:
            return chosen
        allowed = set(
            await self.gate.admit(
                self.settings.dialer_trunk,
                campaign.id,
                [channel_id for channel_id, _ in chosen],
                self.settings.dialer_max_channels,
                now,
            )
        )
        for channel_id, target in chosen:
            if channel_id not in allowed:
                await self.campaigns.release(target.id, now)
        return [(channel_id, target) for channel_id, target in chosen if channel_id in allowed]

    async def _place(
        self,
        campaign: Campaign,
        kind: CampaignKind,
        target: ClaimedTarget,
        channel_id: str,
        options: CallOptions,
        now: datetime,
    ) -> bool:
        try:
            await self.attempts.begin(campaign, target, self.name, now, channel_id)
        except PersonInCall:
            await self.gate.release(channel_id)
            await self.campaigns.release(target.id, now + timedelta(minutes=5))
            return False
        try:
            await place(
                self.ami,
                self.watcher,
                dial_string(self.settings, target.phone),
                channel_id,
                options,
                target.language,
                target.phone,
            )
        except AmiError as error:
            log.warning("campaign %s: Originate %s: %s", campaign.name, channel_id, error)
            self.watcher.forget(channel_id)
            end = CallEnd(channel_id, ended_at=self.clock(), reason=0)
            if isinstance(error, AmiDisconnected) and NOT_SENT in str(error):
                # Never sent: our failure, not the person's.
                await self._settle(campaign, kind, end, ours=True)
            elif str(error).startswith(REFUSED):
                # Asterisk answered no: no call exists. A bad number or channel is
                # `dial_failed`; Asterisk stopping is ours (told apart in _settle, after a
                # moment: followed like a call so the round does not wait).
                self._follow(campaign, kind, channel_id, end)
            # Otherwise the connection dropped with the action unanswered: Asterisk may have
            # it, so the attempt stays in flight until its channel is known gone.
            return False
        self._follow(campaign, kind, channel_id)
        return True

    def _follow(
        self, campaign: Campaign, kind: CampaignKind, channel_id: str, end: CallEnd | None = None
    ) -> None:
        task = asyncio.create_task(self._settle_when_ended(campaign, kind, channel_id, end))
        self._calls[channel_id] = task
        task.add_done_callback(lambda _: self._calls.pop(channel_id, None))

    async def _settle_when_ended(
        self, campaign: Campaign, kind: CampaignKind, channel_id: str, end: CallEnd | None = None
    ) -> None:
        if end is None:
            end = await self.watcher.wait(channel_id)
        try:
            await self._settle(campaign, kind, end)
        except DBAPIError as error:
            # The attempt stays in flight; the next reconcile settles it from what it wrote.
            log.warning("campaign %s: cannot settle %s now: %s", campaign.name, channel_id, error)

    async def _settle(
        self, campaign: Campaign, kind: CampaignKind, end: CallEnd, ours: bool = False
    ) -> Outcome | None:
        noted = await self.attempts.noted(end.channel_id)
        if noted is None:
            return None  # settled already (by a reconcile, or another worker)
        end.answered_at = end.answered_at or noted.answered_at
        outcome = outcome_of(end, campaign.mode, noted.result, noted.amd_status)
        if not ours and outcome in CUT_LOOKALIKES and noted.result is None:
            # Asterisk stopping hangs its calls up before it says so: wait to know (the
            # channel is gone: its trunk slot is free meanwhile).
            if not self.outages.since(end.ended_at - GRACE):
                await self.gate.release(end.channel_id)
                await asyncio.sleep(GRACE.total_seconds())
            ours = self.outages.since(end.ended_at - GRACE)
        if ours:
            log.warning("campaign %s: call %s cut on our side", campaign.name, end.channel_id)
            outcome = Outcome.FAILED
        if not await self._write(campaign, kind, end, outcome, ours):
            return None
        log.info("campaign %s: call %s ended %s", campaign.name, end.channel_id, outcome)
        return outcome

    async def _write(
        self, campaign: Campaign, kind: CampaignKind, end: CallEnd, outcome: Outcome, ours: bool
    ) -> bool:
        """Settle the attempt and free its trunk slot; False if it was settled already."""
        try:
            await self.attempts.settle(
                campaign,
                end.channel_id,
                outcome,
                end.ended_at,
                kind.retries,
                end.answered_at,
                ours=ours,
            )
        except UnknownAttempt:
            return False
        await self.gate.release(end.channel_id)
        return True

    def _answered(self, channel_id: str, at: datetime) -> None:
        task = asyncio.ensure_future(self.attempts.note(channel_id, answered_at=at))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _maybe_finish(self, campaign: Campaign, kind: CampaignKind) -> None:
        counts = await self.campaigns.target_counts(campaign.id)
        if counts.get("pending", 0) + counts.get("dialing", 0) == 0:
            if await self.campaigns.finish(campaign.id):
                log.info("campaign %s: every target settled; finished", campaign.name)
                # Only the worker that finished it: the SMS to those never reached, once.
                sent = await fallback.when_finished(
                    self.database, self.settings, campaign, kind, self.clock()
                )
                if sent is not None:
                    log.info("campaign %s: fallback SMS %s", campaign.name, sent.as_dict())

    # ------------------------------------------------------------ crash safety

    async def live_channels(self) -> set[str]:
        reply = await self.ami.send_action({"Action": "CoreShowChannels"}, timeout_s=15.0)
        return {str(event.get("Uniqueid", "")) for event in reply.events}

    async def reconcile(self) -> int:
        """Match attempts in flight with Asterisk's channels: follow the live ones, settle
        those gone for good. How many were settled."""
        now = self.clock()
        await self.campaigns.release_stale_claims(now - STALE_CLAIM)
        await self.gate.release_stale(now)
        in_flight = await self.attempts.in_flight()
        if not in_flight:
            return 0
        live = await self.live_channels()
        stale_before = now - timedelta(seconds=self.settings.dialer_ring_timeout_s + 30)
        settled = 0
        for call in in_flight:
            campaign = await self._campaign(call.campaign_id)
            if campaign is None or (self.only is not None and campaign.name != self.only):
                continue
            kind = self.kinds.get(campaign.kind)
            if kind is None:
                continue
            if call.channel_id in live:
                self._missing_once.discard(call.channel_id)
                if call.channel_id not in self._calls:
                    # A call placed by a worker that died: follow it to its end.
                    self.watcher.watch(call.channel_id, call.answered_at)
                    self._follow(campaign, kind, call.channel_id)
                continue
            if call.created_at > stale_before:
                continue  # its Originate may still be on the way
            if call.channel_id in self._calls and call.channel_id not in self._missing_once:
                self._missing_once.add(call.channel_id)  # its end event may be in transit
                continue
            self._missing_once.discard(call.channel_id)
            task = self._calls.pop(call.channel_id, None)
            if task is not None:
                task.cancel()
            self.watcher.forget(call.channel_id)
            # Gone with no end seen: the worker (or Asterisk) died during the call.
            end = CallEnd(call.channel_id, ended_at=now, answered_at=call.answered_at)
            if call.answered_at is None:
                end.reason = 0
            if await self._settle_gone(campaign, kind, end, call.created_at):
                settled += 1
        return settled

    async def _settle_gone(
        self, campaign: Campaign, kind: CampaignKind, end: CallEnd, placed_at: datetime
    ) -> bool:
        noted = await self.attempts.noted(end.channel_id)
        if noted is None:
            return False
        # Asterisk restarted (or the connection to it was lost) during the call and the route
        # wrote nothing: the call was cut under the person, by us.
        ours = noted.result is None and self.outages.since(placed_at)
        if ours or (end.answered_at is None and noted.result is None):
            outcome = Outcome.FAILED  # never known to be answered: tried again later
        else:
            outcome = outcome_of(end, campaign.mode, noted.result, noted.amd_status)
        if not await self._write(campaign, kind, end, outcome, ours):
            return False
        log.warning(
            "campaign %s: call %s gone unseen; settled %s", campaign.name, end.channel_id, outcome
        )
        return True

    async def _campaign(self, campaign_id: int) -> Campaign | None:
        if campaign_id not in self._known:
            for campaign in await self.campaigns.all():
                self._known[campaign.id] = campaign
        return self._known.get(campaign_id)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    database = Database(settings.effective_database_url)
    ami = AmiClient.from_settings(settings, name="tamas-dialer")
    worker: DialerWorker | None = None
    try:
        await migrations.require_current(database)
        try:
            await ami.connect()
        except (OSError, AmiError, TimeoutError) as error:
            raise CommandError(
                f"cannot reach Asterisk's manager at {settings.ami_host}:{settings.ami_port}: "
                f"{error} (is it running? `tamas sandbox up` starts the sandbox)"
            ) from None
        if args.campaign:
            await Campaigns(database).named(args.campaign)  # a clear error for a wrong name
        try:
            catalogue = kinds.load(args.kinds)
        except kinds.KindError as error:
            raise CommandError(str(error)) from None
        worker = DialerWorker(
            settings, database, ami, only=args.campaign, agi_url=args.agi, catalogue=catalogue
        )
        if args.once:
            placed = await worker.once()
            print(f"tamas campaign worker: placed {placed} calls, all settled")
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        print(f"tamas campaign worker {worker.name}: dialing (Ctrl-C stops)", flush=True)
        await worker.run_forever(stop)
        print(f"tamas campaign worker: stopped after placing {worker.placed} calls")
    finally:
        if worker is not None:
            await worker.close()
        await ami.close()
        await database.dispose()
    return 0
