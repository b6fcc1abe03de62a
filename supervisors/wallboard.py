"""The wallboard service: follows AMI beside the call follower, keeps the live state
(`supervisors.live`), adds today's figures from the event store (the reports' own code), and
publishes what changed to supervisors over the bus.

Changes are coalesced: at most one `wallboard.changed` every `flush_every_s` (250 ms), carrying
the queues and agents that changed since the last one, so a burst of AMI events costs one
frame and the board is never more than about a quarter of a second behind Asterisk. After
every AMI (re)connect the state is rebuilt from `QueueStatus` and `QueueSummary` and sent
whole (`full: true`), so a board never keeps what happened while we were disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from popup_server.roles import Role
from supervisors.live import LiveState
from tamas.asterisk.ami import AmiClient, AmiError
from tamas.bus import Audience, Bus, BusError, Event, Message

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 0.25
# Today's figures are read again this long after a call left a queue (time for the event
# store to take the queue_log lines), and at least every FIGURES_EVERY_S.
FIGURES_AFTER_S = 1.0
FIGURES_EVERY_S = 30.0
# AMI events after which today's figures may have changed.
_FIGURE_EVENTS = frozenset(
    {"queuecallerleave", "queuecallerabandon", "agentcomplete", "agentconnect", "agentdump"}
)
SCHEMA_VERSION = 1


@dataclass
class TodayFigures:
    """Today's figures from the event store: per queue (and "*"), per agent (member name),
    and the abandoned callers, newest first."""

    queues: dict[str, dict[str, Any]] = field(default_factory=dict)
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    abandoned: list[dict[str, Any]] = field(default_factory=list)
    ivr: dict[str, Any] = field(default_factory=dict)


TodaySource = Callable[[float], Awaitable[TodayFigures]]
"""now -> today's figures (see `supervisors.today`)."""


class WallboardChanged(Event):
    """What changed on the wallboard; `full` when it is the whole board (after a resync)."""

    name = "wallboard.changed"

    def __init__(self, state: dict[str, Any], observed_at: float | None = None) -> None:
        self.state = state
        self._observed_at = observed_at

    def payload(self) -> dict[str, Any]:
        return self.state

    def audience(self) -> Audience:
        return Audience.role(Role.SUPERVISOR.value)

    def observed_at(self) -> float | None:
        return self._observed_at


class Wallboard:
    """The live state of one process, fed by AMI, published to supervisors."""

    def __init__(
        self,
        bus: Bus,
        today: TodaySource | None = None,
        *,
        flush_every_s: float = FLUSH_EVERY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bus = bus
        self.today_source = today
        self.flush_every_s = flush_every_s
        self.clock = clock
        self.live = LiveState()
        self.today = TodayFigures()
        self.alerts: list[dict[str, Any]] = []
        # When the oldest change not yet published was observed (for the latency figure).
        self._oldest_unsent: float | None = None
        self._full_pending = False
        self._figures_fresh = False
        self._touched = False
        self._figures_due: float | None = None
        self._figures_read_at = 0.0
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._figures_task: asyncio.Task[None] | None = None
        self.resyncs = 0
        self.on_flush: list[Callable[[Wallboard], Awaitable[None]]] = []

    # -- input -----------------------------------------------------------------------------

    def feed(self, event: Mapping[str, Any], observed_at: float | None = None) -> None:
        observed_at = self.clock() if observed_at is None else observed_at
        if self.live.feed(event, observed_at):
            if self._oldest_unsent is None:
                self._oldest_unsent = observed_at
            self._wake.set()
        name = str(event.get("Event", "")).lower() if isinstance(event, Mapping) else ""
        if name in _FIGURE_EVENTS and self._figures_due is None:
            self._figures_due = observed_at + FIGURES_AFTER_S

    def attach(self, ami: AmiClient) -> None:
        ami.on_event("*", lambda event: self.feed(event))
        ami.on_connect(self.resync_from)

    async def resync_from(self, ami: AmiClient) -> None:
        try:
            status = await ami.send_action({"Action": "QueueStatus"}, timeout_s=10.0)
            summary = await ami.send_action({"Action": "QueueSummary"}, timeout_s=10.0)
        except AmiError as error:
            log.warning("wallboard: resync failed (%s); the next reconnect retries", error)
            return
        self.resync([*status.events, *summary.events])
        log.info("wallboard: resynced %d queues", len(self.live.queue_names()))

    def resync(self, events: list[Mapping[str, Any]]) -> None:
        """Rebuild from `QueueStatus`/`QueueSummary` lists; the next frame is the whole board."""
        now = self.clock()
        self.live.resync(events, now)
        self.resyncs += 1
        self._full_pending = True
        self._oldest_unsent = self._oldest_unsent or now
        self._figures_due = now
        self._wake.set()

    def touch(self) -> None:
        """Something outside the live state changed (the alerts): send a frame."""
        self._touched = True
        self._wake.set()

    # -- running ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name="wallboard")]

    async def close(self) -> None:
        if self._figures_task is not None:
            self._tasks.append(self._figures_task)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)
            self._wake.clear()
            try:
                await self.step()
            except Exception:  # the board must survive a database or bus hiccup
                log.exception("wallboard: update failed")
            # Coalesce: whatever arrives during this pause goes out in the next frame.
            await asyncio.sleep(self.flush_every_s)

    async def refresh(self) -> None:
        """Read today's figures now and send the frame (after a call back, and in tests)."""
        self._figures_due = None
        await self._read_figures(self.clock())
        await self.step()

    async def step(self) -> None:
        """One round: time-driven states, the alerts, then one frame. Today's figures are read
        beside it when due, never in its way: a slow database must not hold the live board."""
        now = self.clock()
        if self.live.tick(now) and self._oldest_unsent is None:
            self._oldest_unsent = now
        reading = self._figures_task is not None and not self._figures_task.done()
        if (
            self.today_source is not None
            and not reading
            and (
                (self._figures_due is not None and now >= self._figures_due)
                or now - self._figures_read_at >= FIGURES_EVERY_S
            )
        ):
            self._figures_due = None
            self._figures_read_at = now
            self._figures_task = asyncio.create_task(self._read_figures_then_wake(now))
        for hook in self.on_flush:
            try:
                await hook(self)
            except Exception:  # an alert that cannot be sent must not hold the board
                log.exception("wallboard: %r failed", hook)
        await self.flush()

    async def _read_figures_then_wake(self, now: float) -> None:
        try:
            await self._read_figures(now)
        except Exception:  # the live board goes on with the figures it had
            log.exception("wallboard: could not read today's figures")
        finally:
            self._wake.set()

    async def _read_figures(self, now: float) -> None:
        if self.today_source is None:
            return
        self._figures_read_at = now
        self.today = await self.today_source(now)
        self.live.dirty.queues |= set(self.today.queues) - {"*"}
        self.live.dirty.agents |= set(self.live.agents)
        self.live.dirty.ivr = True
        self._figures_fresh = True
        self._oldest_unsent = self._oldest_unsent or now

    async def flush(self) -> None:
        full = self._full_pending
        dirty = self.live.take_dirty()
        fresh, self._figures_fresh = self._figures_fresh, False
        touched, self._touched = self._touched, False
        if not dirty and not full and not fresh and not touched:
            return
        now = self.clock()
        if full:
            state = self.state(now)
        else:
            state = {
                "full": False,
                "as_of": now,
                "queues": {q: self.queue_json(q, now) for q in sorted(dirty.queues)},
                "agents": {a: self.agent_json(a, now) for a in sorted(dirty.agents)},
                "ivr": self.ivr_json(now) if dirty.ivr else None,
                "abandoned": self.today.abandoned if fresh else None,
                "alerts": self.alerts,
                "totals": self.today.queues.get("*") if fresh else None,
            }
        observed_at, self._oldest_unsent, self._full_pending = self._oldest_unsent, None, False
        try:
            await self.bus.publish(WallboardChanged(state, observed_at=observed_at))
        except BusError as error:
            log.error("wallboard: %s", error)

    # -- what the board shows --------------------------------------------------------------

    def queue_json(self, queue: str, now: float) -> dict[str, Any] | None:
        """A queue's live state and today's figures (None: the queue is gone)."""
        if queue not in self.live.queues and queue not in self.live.members:
            return None
        return {**self.live.queue_json(queue, now), "today": self.today.queues.get(queue)}

    def agent_json(self, key: str, now: float) -> dict[str, Any] | None:
        agent = self.live.agents.get(key)
        if agent is None:
            return None
        shown = agent.as_json(now)
        stored = self.today.agents.get(agent.name)
        if stored is not None:
            # The event store's count and talk time: the same as the agents' report.
            shown["calls_taken"] = stored.get("calls_taken", shown["calls_taken"])
            shown["talk_s"] = stored.get("talk_s", shown["talk_s"])
        return shown

    def ivr_json(self, now: float) -> dict[str, Any]:
        return {**self.live.ivr_json(now), **self.today.ivr}

    def queues_view(self, now: float) -> dict[str, Any]:
        """The queues and the IVR without the agents (what the alerts read each second)."""
        return {
            "queues": {q: self.queue_json(q, now) for q in self.live.queue_names()},
            "ivr": self.ivr_json(now),
        }

    def state(self, now: float | None = None) -> dict[str, Any]:
        """The whole board (`GET /api/wallboard`, and the frame after a resync)."""
        now = self.clock() if now is None else now
        return {
            "schema": SCHEMA_VERSION,
            "full": True,
            "as_of": now,
            "queues": {q: self.queue_json(q, now) for q in self.live.queue_names()},
            "agents": {a: self.agent_json(a, now) for a in sorted(self.live.agents)},
            "ivr": self.ivr_json(now),
            "abandoned": self.today.abandoned,
            "alerts": self.alerts,
            "totals": self.today.queues.get("*"),
        }


class WallboardMirror:
    """The board in a process that does not follow AMI: kept from the `wallboard.changed`
    messages the following process publishes, so `GET /api/wallboard` answers there too."""

    def __init__(self) -> None:
        self.board: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "full": True,
            "as_of": 0.0,
            "queues": {},
            "agents": {},
            "ivr": {"calls_in_ivr": 0, "menus": {}, "agi_errors_today": 0},
            "abandoned": [],
            "alerts": [],
            "totals": None,
        }

    async def receive(self, message: Message) -> None:
        if message.name != WallboardChanged.name:
            return
        change = dict(message.payload)
        if change.get("full"):
            self.board = {**change}
            return
        for part in ("queues", "agents"):
            merged = dict(self.board[part])
            for key, value in (change.get(part) or {}).items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            self.board[part] = merged
        for part in ("ivr", "abandoned", "totals"):
            if change.get(part) is not None:
                self.board[part] = change[part]
        self.board["alerts"] = change.get("alerts", self.board["alerts"])
        self.board["as_of"] = change.get("as_of", self.board["as_of"])

    def state(self) -> dict[str, Any]:
        return self.board
