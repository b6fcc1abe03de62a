"""The call follower: AMI events in, popups and call states out on the bus.

It feeds every AMI event to the `CallTracker`, builds the popup card when a call starts
ringing an agent, and publishes each change. Changes of one call are published in order (a
call's `call.state` never overtakes its first `call.popup`), while different calls never wait
for each other. The whole customer file follows in a second `call.popup` when it is ready,
possibly after the call's later states; receivers merge it by linkedid. After every AMI
(re)connect it resynchronises from `CoreShowChannels`, so calls that began or ended while we
were disconnected are not lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Mapping
from typing import Any

from customer_file.port import CustomerFile
from integrations.database import Database
from popup_server.agents import AgentDirectory
from popup_server.audit import AuditLog
from popup_server.calls import CallChange, CallTracker, device_of
from popup_server.card import first_card, iso, whole_file
from popup_server.events import CallPopup, CallStateChanged
from tamas.asterisk.ami import AmiClient, AmiError
from tamas.bus import Bus, BusError

log = logging.getLogger(__name__)

AGENTS_REFRESH_S = 30.0
# Calls whose hang-up never reached us (an event lost in an AMI reconnect that the resync did
# not cover) are ended after CALL_MAX_AGE_S, checked every SWEEP_EVERY_S: the tracker does not
# grow for ever, and agents' desktops do not keep a ringing card for a call long gone.
SWEEP_EVERY_S = 300.0
CALL_MAX_AGE_S = 6 * 3600.0
# Whole customer files built at once (each is a dozen queries and ~10 ms of CPU).
FILE_FETCHES = 2


class CallFollower:
    def __init__(
        self,
        bus: Bus,
        customer_file: CustomerFile,
        database: Database,
        directory: AgentDirectory,
        region: str,
        *,
        sweep_every_s: float | None = None,
        call_max_age_s: float | None = None,
    ) -> None:
        self.bus = bus
        self.sweep_every_s = SWEEP_EVERY_S if sweep_every_s is None else sweep_every_s
        self.call_max_age_s = CALL_MAX_AGE_S if call_max_age_s is None else call_max_age_s
        self.customer_file = customer_file
        self.database = database
        self.directory = directory
        self.region = region
        self.audit = AuditLog(database)
        self._devices: dict[str, str] = {}
        self.tracker = CallTracker(self._devices.get)
        self._chains: dict[str, asyncio.Task[None]] = {}
        self._file_slots = asyncio.Semaphore(FILE_FETCHES)
        self._file_tasks: set[asyncio.Task[None]] = set()
        self._first_cards = 0  # first cards being built right now
        self._no_first_cards = asyncio.Event()
        self._no_first_cards.set()
        self._refresher: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.refresh_agents()
        self._refresher = asyncio.create_task(self._refresh_forever(), name="agents-refresh")
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="calls-sweep")

    async def close(self) -> None:
        for task in (self._refresher, self._sweeper):
            if task is not None:
                task.cancel()
        for task in [*self._chains.values(), *self._file_tasks]:
            task.cancel()

    async def refresh_agents(self) -> None:
        interfaces = await self.directory.interfaces()
        self._devices.clear()
        self._devices.update({device_of(i): number for i, number in interfaces.items()})

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(AGENTS_REFRESH_S)
            try:
                await self.refresh_agents()
            except Exception as error:  # a database hiccup must not stop call following
                log.warning("follower: could not refresh agents: %r", error)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_every_s)
            now = time.time()
            changes = self.tracker.sweep(now, self.call_max_age_s)
            if changes:
                log.warning("follower: ended %d agent legs of calls never hung up", len(changes))
            for change in changes:
                self._publish_in_order(change, now)

    # -- input -----------------------------------------------------------------------------

    def feed(self, event: Mapping[str, Any], observed_at: float | None = None) -> None:
        """One AMI event (`observed_at`: wall-clock time it arrived, for latency figures)."""
        observed_at = time.time() if observed_at is None else observed_at
        for change in self.tracker.feed(event, observed_at):
            self._publish_in_order(change, observed_at)

    def attach(self, ami: AmiClient) -> None:
        ami.on_event("*", lambda event: self.feed(event))
        ami.on_connect(self._resync_from)

    async def _resync_from(self, ami: AmiClient) -> None:
        try:
            reply = await ami.send_action({"Action": "CoreShowChannels"}, timeout_s=10.0)
            queues = await ami.send_action({"Action": "QueueStatus"}, timeout_s=10.0)
        except AmiError as error:
            log.warning("follower: resync failed (%s); the next reconnect retries", error)
            return
        waiting = sum(1 for e in queues.events if str(e.get("Event", "")) == "QueueEntry")
        now = time.time()
        changes = self.tracker.resync(reply.events, now)
        log.info(
            "follower: resynced with %d channels, %d callers waiting in queues, %d changes",
            len(reply.events),
            waiting,
            len(changes),
        )
        for change in changes:
            self._publish_in_order(change, now)

    def note_transfer(self, linkedid: str, agent: str) -> None:
        self.tracker.note_transfer(linkedid, agent)

    # -- output ----------------------------------------------------------------------------

    def _publish_in_order(self, change: CallChange, observed_at: float) -> None:
        linkedid = change.call.linkedid
        previous = self._chains.get(linkedid)
        task = asyncio.create_task(self._after(previous, self._publish(change, observed_at)))
        self._chains[linkedid] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._chains.get(linkedid) is done:
                del self._chains[linkedid]

        task.add_done_callback(forget)

    @staticmethod
    async def _after(previous: asyncio.Task[None] | None, step: Awaitable[None]) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        await step

    async def _publish(self, change: CallChange, observed_at: float) -> None:
        event: CallPopup | CallStateChanged
        if change.first:
            # Who is calling goes out at once; the whole file follows in a second popup.
            self._first_cards += 1
            self._no_first_cards.clear()
            try:
                popup = await first_card(change, self.customer_file, self.database, self.region)
                await self._send(CallPopup(popup, observed_at=observed_at))
            finally:
                self._first_cards -= 1
                if not self._first_cards:
                    self._no_first_cards.set()
            if popup["lookup"] == "loading":
                # Outside the call's chain: answering and hanging up need not wait for the
                # file, and at most FILE_FETCHES files are built at once, so a burst of calls
                # never delays the next caller's first card.
                task = asyncio.create_task(self._send_whole_file(popup, observed_at))
                self._file_tasks.add(task)
                task.add_done_callback(self._file_tasks.discard)
            return
        else:
            event = CallStateChanged(
                linkedid=change.call.linkedid,
                agent=change.agent,
                state=change.leg.state.value,
                state_seq=change.leg.seq,
                at=iso(change.leg.since),
                transferred_from=change.call.transferred_from,
                observed_at=observed_at,
            )
        await self._send(event)

    async def _send_whole_file(self, popup: dict[str, Any], observed_at: float) -> None:
        async with self._file_slots:
            # A file is a dozen queries and ~10 ms of CPU: it starts only while no caller is
            # waiting for a first card, so the files of a burst never delay the next ring.
            await self._no_first_cards.wait()
            if not await self._audit_read(popup):
                return
            complete = await whole_file(popup, self.customer_file)
        await self._send(CallPopup(complete, observed_at=observed_at))

    async def _audit_read(self, popup: dict[str, Any]) -> bool:
        """Every whole file shown is audited; one that cannot be is not shown (the first
        card, who is calling, still is)."""
        try:
            await self.audit.record(
                str(popup["agent"]),
                "file_read",
                reason="ringing_call",
                customer_id=popup["summary"]["id"],
                linkedid=popup["linkedid"],
            )
        except Exception as error:
            log.error("follower: file of %s not sent, audit failed: %r", popup["linkedid"], error)
            return False
        return True

    async def _send(self, event: CallPopup | CallStateChanged) -> None:
        try:
            await self.bus.publish(event)
        except BusError as error:
            log.error("follower: %s", error)
