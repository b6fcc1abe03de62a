"""Every figure of the metric dictionary (docs/metrics.md), computed from stored queue events.

Pure functions, no I/O: the wallboard's figures for today and the reports' figures for any
interval are both this code over the same events, so for one interval they are equal exactly.
The path is always events -> calls (`queue_calls`) -> additive totals (`QueueTotals`) ->
figures; the reports' SQL sums the same per-call rows into the same totals.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only the type: the store (events.py) builds its per-call rows with this module.
    from supervisors.events import QueueEvent
    from tamas.settings import Settings


class CallEnd(StrEnum):
    """How one caller's stay in one queue ended."""

    WAITING = "waiting"  # still in the queue (no end event yet)
    ANSWERED = "answered"  # CONNECT: an agent took it
    ABANDONED = "abandoned"  # ABANDON: the caller hung up while waiting
    TIMEOUT = "timeout"  # EXITWITHTIMEOUT: the queue's (or the dialplan's) time ran out
    KEY = "key"  # EXITWITHKEY: the caller pressed a key to leave
    EMPTY = "empty"  # EXITEMPTY: no agent could take calls (leavewhenempty)
    LOST = "lost"  # Asterisk restarted (QUEUESTART) before any end was written


# Events that end the waiting part of a queue call, and the end they mean.
_ENDS = {
    "ABANDON": CallEnd.ABANDONED,
    "EXITWITHTIMEOUT": CallEnd.TIMEOUT,
    "EXITWITHKEY": CallEnd.KEY,
    "EXITEMPTY": CallEnd.EMPTY,
}
# The position of the wait in each end event's data (queue_log's own field order).
_WAIT_FIELD = {"ABANDON": 2, "EXITWITHTIMEOUT": 2, "EXITWITHKEY": 3, "EXITEMPTY": 2}
_COMPLETE = frozenset({"COMPLETECALLER", "COMPLETEAGENT"})
_QUEUE_TRANSFERS = {"BLINDTRANSFER": "blind", "ATTENDEDTRANSFER": "attended"}
# Written by the ingester (not Asterisk's queue_log) when CEL shows the agent's side of a Local
# channel transferring the call on: agent = who transferred, data = (kind, agent it went to).
# queue_log never sees these (the caller stays bridged to the Local channel), so without them
# the first agent would be credited the whole call.
LOCAL_TRANSFER = "LOCALTRANSFER"


@dataclass(frozen=True)
class Thresholds:
    """The per-queue settings the figures depend on (docs/metrics.md)."""

    # Answered within this many seconds counts toward the service level.
    service_level_s: int = 20
    per_queue_service_level_s: Mapping[str, int] = field(default_factory=dict)
    # Abandons after a wait under this are short abandons, counted apart.
    short_abandon_s: int = 5
    # Wrap-up after each answered call (the queue's wrapuptime), part of the handle time.
    wrap_up_s: int = 0
    per_queue_wrap_up_s: Mapping[str, int] = field(default_factory=dict)

    def key(self) -> str:
        """What the counts that depend on thresholds were counted with (wrap-up is applied
        when figures are made, so it is not part of it)."""
        per_queue = ",".join(f"{q}={s}" for q, s in sorted(self.per_queue_service_level_s.items()))
        return f"sl={self.service_level_s};{per_queue};short={self.short_abandon_s}"

    def service_level_for(self, queue: str) -> int:
        return self.per_queue_service_level_s.get(queue, self.service_level_s)

    def wrap_up_for(self, queue: str) -> int:
        return self.per_queue_wrap_up_s.get(queue, self.wrap_up_s)


@dataclass
class AgentLeg:
    """One agent's talk on one queue call: from CONNECT (or the transfer that gave it to
    them) to the end of the call or the transfer that took it on."""

    agent: str
    started_at: datetime
    ended_at: datetime | None = None
    talk_s: float = 0.0
    # How the agent let go of the call: blind/attended transfer, or None (the call ended).
    transferred: str | None = None


@dataclass
class QueueCall:
    """One caller's stay in one queue (ENTERQUEUE to its end), and who talked to them."""

    callid: str
    queue: str
    entered_at: datetime
    caller_number: str = ""
    end: CallEnd = CallEnd.WAITING
    ended_at: datetime | None = None  # when the waiting ended (connect, abandon, exit)
    completed_at: datetime | None = None  # when the conversation ended (answered calls)
    wait_s: float = 0.0
    talk_s: float = 0.0
    agent: str = ""  # who answered
    transfer: str | None = None  # blind or attended, when the answering agent transferred
    legs: list[AgentLeg] = field(default_factory=list)


def _number(data: tuple[str, ...], index: int) -> float | None:
    try:
        return float(data[index])
    except (IndexError, ValueError):
        return None


def queue_calls(events: Iterable[QueueEvent]) -> list[QueueCall]:
    """The queue calls the events describe, in the order they entered. Events may come in
    any order and twice: they are sorted and each idempotent key is used once."""
    seen: set[str] = set()
    ordered = []
    for event in events:
        if event.key not in seen:
            seen.add(event.key)
            ordered.append(event)
    ordered.sort(key=lambda event: (event.at, event.sequence))
    calls: list[QueueCall] = []
    # callid -> the call in progress for it (a caller may enter several queues in turn).
    open_calls: dict[str, QueueCall] = {}
    for event in ordered:
        if event.event == "QUEUESTART":
            for call in open_calls.values():
                _lose(call, event.at)
            open_calls.clear()
            continue
        if event.event == "ENTERQUEUE":
            call = QueueCall(
                callid=event.callid,
                queue=event.queue,
                entered_at=event.at,
                caller_number=event.data[1] if len(event.data) > 1 else "",
            )
            calls.append(call)
            open_calls[event.callid] = call
            continue
        found = open_calls.get(event.callid)
        if found is None:
            continue  # an end whose ENTERQUEUE is before the events given
        _apply(found, event)
        if found.end is not CallEnd.WAITING and found.end is not CallEnd.ANSWERED:
            del open_calls[event.callid]
        elif found.completed_at is not None:
            del open_calls[event.callid]
    return calls


def _lose(call: QueueCall, at: datetime) -> None:
    if call.end is CallEnd.WAITING:
        call.end = CallEnd.LOST
        call.ended_at = at
        call.wait_s = (at - call.entered_at).total_seconds()
    elif call.completed_at is None:
        _complete(call, at, None)


def _apply(call: QueueCall, event: QueueEvent) -> None:
    name = event.event
    if call.end is CallEnd.WAITING:
        if name == "CONNECT":
            call.end = CallEnd.ANSWERED
            call.ended_at = event.at
            hold = _number(event.data, 0)
            call.wait_s = hold if hold is not None else (event.at - call.entered_at).total_seconds()
            call.agent = event.agent
            call.legs.append(AgentLeg(agent=event.agent, started_at=event.at))
        elif name in _ENDS:
            call.end = _ENDS[name]
            call.ended_at = event.at
            wait = _number(event.data, _WAIT_FIELD[name])
            call.wait_s = wait if wait is not None else (event.at - call.entered_at).total_seconds()
        return
    if call.end is not CallEnd.ANSWERED or call.completed_at is not None:
        return
    if name in _COMPLETE:
        _complete(call, event.at, _number(event.data, 1))
    elif name in _QUEUE_TRANSFERS:
        call.transfer = _QUEUE_TRANSFERS[name]
        call.legs[-1].transferred = call.transfer
        _complete(call, event.at, _number(event.data, 3))
    elif name == LOCAL_TRANSFER and len(event.data) >= 2:
        leg = call.legs[-1]
        leg.ended_at = event.at
        leg.talk_s = (event.at - leg.started_at).total_seconds()
        leg.transferred = event.data[0]
        if call.transfer is None:
            call.transfer = event.data[0]
        call.legs.append(AgentLeg(agent=event.data[1], started_at=event.at))


def _complete(call: QueueCall, at: datetime, talk_s: float | None) -> None:
    call.completed_at = at
    total = talk_s if talk_s is not None else (at - (call.ended_at or at)).total_seconds()
    call.talk_s = total
    leg = call.legs[-1]
    leg.ended_at = at
    if len(call.legs) == 1:
        leg.talk_s = total
    else:
        # After a transfer through a Local channel queue_log's calltime covers every leg: the
        # last agent gets what the earlier legs did not.
        leg.talk_s = max(0.0, total - sum(earlier.talk_s for earlier in call.legs[:-1]))


@dataclass
class QueueTotals:
    """Additive sums over calls: totals of two intervals add up to the totals of both, so
    hours roll up into days and months, and SQL can produce them."""

    offered: int = 0
    answered: int = 0
    answered_within_sl: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    exit_timeout: int = 0
    exit_key: int = 0
    exit_empty: int = 0
    lost: int = 0
    waiting: int = 0
    transfers_blind: int = 0
    transfers_attended: int = 0
    wait_answered_s: float = 0.0
    wait_abandoned_s: float = 0.0
    talk_s: float = 0.0
    wrap_up_s: float = 0.0
    longest_wait_s: float = 0.0

    def add(self, other: QueueTotals) -> QueueTotals:
        values = {
            item.name: getattr(self, item.name) + getattr(other, item.name)
            for item in fields(self)
            if item.name != "longest_wait_s"
        }
        return QueueTotals(**values, longest_wait_s=max(self.longest_wait_s, other.longest_wait_s))


def call_totals(call: QueueCall, thresholds: Thresholds) -> QueueTotals:
    """One call's contribution to its queue's totals (docs/metrics.md says why each)."""
    totals = QueueTotals(offered=1, longest_wait_s=call.wait_s)
    if call.end is CallEnd.ANSWERED:
        totals.answered = 1
        totals.answered_within_sl = int(call.wait_s <= thresholds.service_level_for(call.queue))
        totals.wait_answered_s = call.wait_s
        totals.talk_s = call.talk_s
        totals.wrap_up_s = float(thresholds.wrap_up_for(call.queue))
        totals.transfers_blind = int(call.transfer == "blind")
        totals.transfers_attended = int(call.transfer == "attended")
    elif call.end is CallEnd.ABANDONED:
        if call.wait_s < thresholds.short_abandon_s:
            totals.short_abandoned = 1
        else:
            totals.abandoned = 1
            totals.wait_abandoned_s = call.wait_s
    elif call.end is CallEnd.TIMEOUT:
        totals.exit_timeout = 1
    elif call.end is CallEnd.KEY:
        totals.exit_key = 1
    elif call.end is CallEnd.EMPTY:
        totals.exit_empty = 1
    elif call.end is CallEnd.LOST:
        totals.lost = 1
    else:
        totals.waiting = 1
        totals.longest_wait_s = 0.0  # the live wait of a waiting call is the wallboard's
    return totals


@dataclass(frozen=True)
class QueueFigures:
    """The dictionary's queue figures for one queue (or all) over one interval."""

    queue: str
    offered: int
    answered: int
    answered_within_sl: int
    abandoned: int
    short_abandoned: int
    exit_timeout: int
    exit_key: int
    exit_empty: int
    lost: int
    waiting: int
    transfers_blind: int
    transfers_attended: int
    # None when there is nothing to divide by (no call in the interval).
    service_level: float | None
    service_level_without_short: float | None
    abandon_rate: float | None
    asa_s: float | None
    aht_s: float | None
    average_abandon_wait_s: float | None
    longest_wait_s: float
    talk_s: float
    service_level_s: int

    def as_dict(self) -> dict[str, object]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def figures(queue: str, totals: QueueTotals, service_level_s: int) -> QueueFigures:
    """The derived figures of one queue's totals: the same function for SQL sums and for
    sums over events."""
    # Calls still waiting have no verdict yet: they are offered, but neither met nor missed
    # the service level, so they stay out of its denominator until they end.
    decided = totals.offered - totals.waiting
    return QueueFigures(
        queue=queue,
        offered=totals.offered,
        answered=totals.answered,
        answered_within_sl=totals.answered_within_sl,
        abandoned=totals.abandoned,
        short_abandoned=totals.short_abandoned,
        exit_timeout=totals.exit_timeout,
        exit_key=totals.exit_key,
        exit_empty=totals.exit_empty,
        lost=totals.lost,
        waiting=totals.waiting,
        transfers_blind=totals.transfers_blind,
        transfers_attended=totals.transfers_attended,
        service_level=_ratio(totals.answered_within_sl, decided),
        service_level_without_short=_ratio(
            totals.answered_within_sl, decided - totals.short_abandoned
        ),
        abandon_rate=_ratio(totals.abandoned, decided - totals.short_abandoned),
        asa_s=_ratio(totals.wait_answered_s, totals.answered),
        aht_s=_ratio(totals.talk_s + totals.wrap_up_s, totals.answered),
        average_abandon_wait_s=_ratio(totals.wait_abandoned_s, totals.abandoned),
        longest_wait_s=totals.longest_wait_s,
        talk_s=totals.talk_s,
        service_level_s=service_level_s,
    )


ALL_QUEUES = "*"


def in_interval(call: QueueCall, start: datetime, end: datetime) -> bool:
    """A call belongs to the interval in which it entered the queue (offered then)."""
    return start <= call.entered_at < end


def queue_totals(
    calls: Iterable[QueueCall], start: datetime, end: datetime, thresholds: Thresholds
) -> dict[str, QueueTotals]:
    totals: dict[str, QueueTotals] = defaultdict(QueueTotals)
    for call in calls:
        if in_interval(call, start, end):
            totals[call.queue] = totals[call.queue].add(call_totals(call, thresholds))
    return dict(totals)


def figures_of_totals(
    totals: Mapping[str, QueueTotals], thresholds: Thresholds
) -> dict[str, QueueFigures]:
    """Figures per queue, plus `ALL_QUEUES` ("*") for every queue together."""
    result = {
        queue: figures(queue, queue_sums, thresholds.service_level_for(queue))
        for queue, queue_sums in sorted(totals.items())
    }
    overall = QueueTotals()
    for queue_sums in totals.values():
        overall = overall.add(queue_sums)
    result[ALL_QUEUES] = figures(ALL_QUEUES, overall, thresholds.service_level_s)
    return result


def queue_figures(
    events: Iterable[QueueEvent], start: datetime, end: datetime, thresholds: Thresholds
) -> dict[str, QueueFigures]:
    """Every queue figure of the dictionary per queue (and "*" for all) for calls that entered
    a queue in [start, end). Give it the interval's events (`events.load_interval`)."""
    return figures_of_totals(queue_totals(queue_calls(events), start, end, thresholds), thresholds)


# ---------------------------------------------------------------- agents


@dataclass
class AgentFigures:
    """One agent's figures over one interval."""

    agent: str
    calls_taken: int = 0  # legs begun by answering a queue call
    calls_received_by_transfer: int = 0
    talk_s: float = 0.0
    wrap_up_s: float = 0.0
    transfers_blind: int = 0
    transfers_attended: int = 0
    logged_in_s: float = 0.0
    paused_s: float = 0.0
    ring_no_answer: int = 0
    # (talk + wrap-up) / (logged in - paused); None when never available.
    occupancy: float | None = None
    aht_s: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


def agent_figures(
    events: Iterable[QueueEvent], start: datetime, end: datetime, thresholds: Thresholds
) -> dict[str, AgentFigures]:
    """Per agent (member name), for queue calls that entered in [start, end): calls taken,
    talk (split at transfers, so each agent is credited the talk they did), transfers,
    time logged in and paused within the interval, occupancy."""
    events = list(events)
    result: dict[str, AgentFigures] = {}

    def agent(name: str) -> AgentFigures:
        return result.setdefault(name, AgentFigures(agent=name))

    for call in queue_calls(events):
        if not in_interval(call, start, end) or call.end is not CallEnd.ANSWERED:
            continue
        for index, leg in enumerate(call.legs):
            figures_of = agent(leg.agent)
            if index == 0:
                figures_of.calls_taken += 1
            else:
                figures_of.calls_received_by_transfer += 1
            figures_of.talk_s += leg.talk_s
            if leg.transferred == "blind":
                figures_of.transfers_blind += 1
            elif leg.transferred == "attended":
                figures_of.transfers_attended += 1
            if index == len(call.legs) - 1:
                figures_of.wrap_up_s += thresholds.wrap_up_for(call.queue)
    for name, (logged_in_s, paused_s) in _presence(events, start, end).items():
        agent(name).logged_in_s = logged_in_s
        agent(name).paused_s = paused_s
    for event in events:
        if event.event == "RINGNOANSWER" and start <= event.at < end and event.agent:
            agent(event.agent).ring_no_answer += 1
    for figures_of in result.values():
        handled = figures_of.calls_taken + figures_of.calls_received_by_transfer
        busy = figures_of.talk_s + figures_of.wrap_up_s
        figures_of.aht_s = _ratio(busy, handled)
        available = figures_of.logged_in_s - figures_of.paused_s
        figures_of.occupancy = min(1.0, busy / available) if available > 0 else None
    return dict(sorted(result.items()))


def _presence(
    events: Iterable[QueueEvent], start: datetime, end: datetime
) -> dict[str, tuple[float, float]]:
    """Seconds each agent was logged in and paused within [start, end). A member logged in
    before the interval (a static member, or an ADDMEMBER earlier) whose first event in it is
    a REMOVEMEMBER or who talks in it counts from `start`; ADDMEMBER/REMOVEMEMBER of any
    queue log them in and out, PAUSE/UNPAUSE (and PAUSEALL/UNPAUSEALL) pause them."""
    logged_in: dict[str, datetime | None] = {}
    paused: dict[str, datetime | None] = {}
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

    def clip(moment: datetime) -> datetime:
        return min(max(moment, start), end)

    for event in sorted(events, key=lambda event: (event.at, event.sequence)):
        name = event.agent
        if not name or name == "NONE" or event.at >= end:
            continue
        if event.event == "ADDMEMBER":
            logged_in.setdefault(name, clip(event.at))
            if logged_in[name] is None:
                logged_in[name] = clip(event.at)
        elif event.event == "REMOVEMEMBER":
            since = logged_in.get(name, start)
            if since is not None:
                totals[name][0] += (clip(event.at) - since).total_seconds()
            logged_in[name] = None
            _unpause(name, event.at, paused, totals, clip)
        elif event.event in {"PAUSE", "PAUSEALL"}:
            logged_in.setdefault(name, start)
            if paused.get(name) is None:
                paused[name] = clip(event.at)
        elif event.event in {"UNPAUSE", "UNPAUSEALL"}:
            logged_in.setdefault(name, start)
            if name not in paused:
                paused[name] = start  # paused since before the interval
            _unpause(name, event.at, paused, totals, clip)
        elif event.event in {"CONNECT", "RINGNOANSWER", LOCAL_TRANSFER}:
            logged_in.setdefault(name, start)
    for name, since in logged_in.items():
        if since is not None:
            totals[name][0] += (end - since).total_seconds()
    for name, since in paused.items():
        if since is not None:
            totals[name][1] += (end - since).total_seconds()
    return {name: (value[0], value[1]) for name, value in totals.items()}


def _unpause(
    name: str,
    at: datetime,
    paused: dict[str, datetime | None],
    totals: Mapping[str, list[float]],
    clip: Callable[[datetime], datetime],
) -> None:
    since = paused.get(name)
    if since is not None:
        totals[name][1] += (clip(at) - since).total_seconds()
    paused[name] = None


# ---------------------------------------------------------------- abandoned callers


@dataclass(frozen=True)
class AbandonedCaller:
    """A caller who hung up while waiting (short abandons flagged), for the call-back list."""

    callid: str
    queue: str
    caller_number: str
    entered_at: datetime
    abandoned_at: datetime
    wait_s: float
    short: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "callid": self.callid,
            "queue": self.queue,
            "caller_number": self.caller_number,
            "entered_at": self.entered_at.isoformat(),
            "abandoned_at": self.abandoned_at.isoformat(),
            "wait_s": self.wait_s,
            "short": self.short,
        }


def abandoned_callers(
    events: Iterable[QueueEvent],
    start: datetime,
    end: datetime,
    thresholds: Thresholds,
    include_short: bool = False,
) -> list[AbandonedCaller]:
    """Callers who abandoned a queue they entered in [start, end), newest first; short
    abandons (under `thresholds.short_abandon_s`) only when asked."""
    found = []
    for call in queue_calls(events):
        if call.end is not CallEnd.ABANDONED or not in_interval(call, start, end):
            continue
        short = call.wait_s < thresholds.short_abandon_s
        if short and not include_short:
            continue
        found.append(
            AbandonedCaller(
                callid=call.callid,
                queue=call.queue,
                caller_number=call.caller_number,
                entered_at=call.entered_at,
                abandoned_at=call.ended_at or call.entered_at,
                wait_s=call.wait_s,
                short=short,
            )
        )
    found.sort(key=lambda caller: caller.abandoned_at, reverse=True)
    return found


# ---------------------------------------------------------------- transfers through Local channels

_EXTENSION = re.compile(r"(\d+)")


def agent_for_extension(extension: str, known_agents: Iterable[str]) -> str:
    """The member name an extension dialled by a transfer belongs to ("102" -> "Agent 102"),
    or the extension itself when no known agent has that number."""
    for name in known_agents:
        digits = _EXTENSION.findall(name)
        if digits and digits[-1] == extension:
            return name
    return extension


def thresholds_from(settings: Settings) -> Thresholds:
    """The thresholds the settings give (report_service_levels as "queue=seconds")."""
    per_queue: dict[str, int] = {}
    for item in settings.report_service_levels:
        queue, _, seconds = item.partition("=")
        if not queue.strip() or not seconds.strip().isdigit():
            raise ValueError(
                f"setting 'report_service_levels': {item!r} is not queue=seconds (e.g. priority=10)"
            )
        per_queue[queue.strip()] = int(seconds)
    return Thresholds(
        service_level_s=settings.report_service_level_s,
        per_queue_service_level_s=per_queue,
        short_abandon_s=settings.report_short_abandon_s,
        wrap_up_s=settings.report_wrap_up_s,
    )
