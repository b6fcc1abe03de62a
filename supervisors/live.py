"""The live state of queues, agents and the IVR: Asterisk's AMI events in, what the wallboard
shows right now out.

Pure logic, no I/O, shaped like `popup_server.calls.CallTracker`: `LiveState.feed(event, at)`
takes one AMI event (field names read case-insensitively) and returns whether anything shown
changed; the keys of what changed wait in `dirty` until the publisher takes them. After an AMI
reconnect, `resync(events, at)` makes the state agree with Asterisk's `QueueStatus` (and
`QueueSummary`) lists. A malformed event changes nothing and never raises.

Today's counters kept here (calls taken, talk time, AGI errors) are only for what the event
store cannot say yet; the wallboard's offered/answered/abandoned/SL/ASA/AHT come from
`supervisors.metrics`, so the wallboard and the reports agree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from ivr.hours import TEHRAN
from popup_server.calls import device_of
from tamas.asterisk import variables

log = logging.getLogger(__name__)

# Device states in QueueMemberStatus/QueueMember `Status`.
_RINGING_STATUSES = {"6", "7"}
_IN_USE_STATUSES = {"2", "3", "7", "8"}
_LOGGED_OFF_STATUSES = {"4", "5"}
# The IVR's dialplan contexts (dialplans/ivr.conf): a call in one of these is in the menus,
# and these are where it leaves them.
_IVR_CONTEXTS = {"tamas-ivr": "main", "tamas-ivr-line": "direct_line"}
_IVR_EXITS = {"tamas-ivr-next", "tamas-ivr-queue", "tamas-ivr-unreachable"}
# The variable the IVR sets (or the UserEvent it sends) when the caller enters a menu.
MENU_VARIABLE = variables.MENU
MENU_USER_EVENT = "tamasmenu"


class AgentState(StrEnum):
    """What an agent is doing, as a supervisor reads it (one state at a time, the first that
    holds in this order)."""

    ON_CALL = "on_call"
    RINGING = "ringing"
    PAUSED = "paused"
    WRAP_UP = "wrap_up"
    UNAVAILABLE = "unavailable"  # a member whose phone is unreachable: not logged in
    AVAILABLE = "available"


def tehran_day(at: float) -> date:
    """The contact centre's day (Tehran's clock) of a moment: today's counters restart at
    Tehran's midnight."""
    return datetime.fromtimestamp(at, TEHRAN).date()


class _Fields:
    """An AMI event read case-insensitively; missing or non-text values read as ''."""

    __slots__ = ("_values",)

    def __init__(self, event: Mapping[str, Any]) -> None:
        self._values = {str(k).lower(): v for k, v in event.items()}

    def __getitem__(self, key: str) -> str:
        value = self._values.get(key, "")
        return value.strip() if isinstance(value, str) else ""

    def number(self, key: str) -> float:
        try:
            value = float(self[key] or 0)
        except ValueError:
            return 0.0
        return value if value >= 0 else 0.0


@dataclass
class Waiter:
    """A caller waiting in a queue."""

    uniqueid: str
    channel: str
    number: str
    name: str
    joined_at: float
    linkedid: str = ""

    def as_json(self, now: float) -> dict[str, Any]:
        return {
            "uniqueid": self.uniqueid,
            "channel": self.channel,
            "number": self.number,
            "name": self.name,
            "joined_at": self.joined_at,
            "wait_s": round(max(0.0, now - self.joined_at), 1),
        }


@dataclass
class AgentLive:
    """One agent (a queue member's interface), across every queue they are a member of."""

    key: str  # device_of(interface)
    interface: str
    name: str
    queues: set[str] = field(default_factory=set)
    paused: bool = False
    pause_reason: str = ""
    device_status: str = "1"
    in_call: bool = False
    call_channel: str = ""
    call_started_at: float | None = None
    ringing_for: str = ""  # the caller's uniqueid
    wrapup_until: float | None = None
    wrapup_s: float = 0.0
    state: AgentState = AgentState.AVAILABLE
    since: float = 0.0
    calls_taken: int = 0
    talk_s: float = 0.0

    def current_state(self, now: float) -> AgentState:
        # In use with no queue call: a direct or outgoing call keeps them as busy.
        if self.in_call or self.device_status in _IN_USE_STATUSES:
            return AgentState.ON_CALL
        if self.ringing_for or self.device_status in _RINGING_STATUSES:
            return AgentState.RINGING
        if self.paused:
            return AgentState.PAUSED
        if self.wrapup_until is not None and now < self.wrapup_until:
            return AgentState.WRAP_UP
        if self.device_status in _LOGGED_OFF_STATUSES:
            return AgentState.UNAVAILABLE
        return AgentState.AVAILABLE

    def as_json(self, now: float) -> dict[str, Any]:
        return {
            "interface": self.interface,
            "name": self.name,
            "queues": sorted(self.queues),
            "state": self.state.value,
            "since": self.since,
            "state_s": round(max(0.0, now - self.since), 1),
            "paused": self.paused,
            "pause_reason": self.pause_reason,
            "calls_taken": self.calls_taken,
            "talk_s": round(self.talk_s, 1),
            "call_channel": self.call_channel if self.in_call else "",
        }


@dataclass
class IvrCall:
    menu: str
    since: float
    channel: str


@dataclass
class Dirty:
    """Keys changed since the publisher last looked."""

    queues: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    ivr: bool = False

    def __bool__(self) -> bool:
        return bool(self.queues or self.agents or self.ivr)


Handler = Callable[["LiveState", _Fields, float], bool]


class LiveState:
    """Queues (waiting callers, members), agents and calls in the IVR, right now."""

    def __init__(self, day_of: Callable[[float], date] = tehran_day) -> None:
        self.day_of = day_of
        self.queues: dict[str, dict[str, Waiter]] = {}  # queue -> uniqueid -> waiter
        self.members: dict[str, set[str]] = {}  # queue -> agent keys
        self.agents: dict[str, AgentLive] = {}
        self.ivr_calls: dict[str, IvrCall] = {}  # uniqueid -> call
        self.agi_errors_today = 0
        self.day: date | None = None
        self.dirty = Dirty()

    # -- reading ---------------------------------------------------------------------------

    def take_dirty(self) -> Dirty:
        dirty, self.dirty = self.dirty, Dirty()
        return dirty

    def queue_json(self, queue: str, now: float) -> dict[str, Any]:
        waiting = sorted(self.queues.get(queue, {}).values(), key=lambda w: w.joined_at)
        members = [self.agents[key] for key in self.members.get(queue, ()) if key in self.agents]
        counts = {state.value: 0 for state in AgentState}
        reasons: dict[str, int] = {}
        for agent in members:
            counts[agent.state.value] += 1
            if agent.paused:
                reasons[agent.pause_reason or ""] = reasons.get(agent.pause_reason or "", 0) + 1
        logged_in = sum(1 for a in members if a.state is not AgentState.UNAVAILABLE)
        return {
            "name": queue,
            "calls_waiting": len(waiting),
            "longest_wait_s": round(max(0.0, now - waiting[0].joined_at), 1) if waiting else 0,
            "waiting": [w.as_json(now) for w in waiting],
            "agents_logged_in": logged_in,
            "agents_available": counts[AgentState.AVAILABLE.value],
            "agents_ringing": counts[AgentState.RINGING.value],
            "agents_on_call": counts[AgentState.ON_CALL.value],
            "agents_paused": counts[AgentState.PAUSED.value],
            "agents_wrap_up": counts[AgentState.WRAP_UP.value],
            "pause_reasons": reasons,
            "agents": sorted(self.members.get(queue, ())),
        }

    def ivr_json(self, now: float) -> dict[str, Any]:
        menus: dict[str, int] = {}
        for call in self.ivr_calls.values():
            menus[call.menu] = menus.get(call.menu, 0) + 1
        return {
            "calls_in_ivr": len(self.ivr_calls),
            "menus": dict(sorted(menus.items())),
            "agi_errors_today": self.agi_errors_today,
        }

    def queue_names(self) -> list[str]:
        return sorted(set(self.queues) | set(self.members))

    def agent_by_name(self, name: str) -> AgentLive | None:
        """An agent by member name ("Agent 101"), number ("101") or interface."""
        wanted = name.strip().lower()
        for agent in self.agents.values():
            if wanted in (agent.name.lower(), agent.key, agent.interface.lower()):
                return agent
            number = agent.key.split("/", 1)[-1].split("@", 1)[0]
            if wanted == number:
                return agent
        return None

    def waiter(self, uniqueid: str) -> tuple[str, Waiter] | None:
        for queue, waiting in self.queues.items():
            if uniqueid in waiting:
                return queue, waiting[uniqueid]
        return None

    # -- feeding ---------------------------------------------------------------------------

    def feed(self, event: Mapping[str, Any], at: float) -> bool:
        """Apply one AMI event; True if what the wallboard shows changed."""
        if not isinstance(event, Mapping):
            return False
        fields = _Fields(event)
        handler = self._HANDLERS.get(fields["event"].lower())
        if handler is None:
            return False
        self._roll_day(at)
        try:
            return handler(self, fields, at)
        except Exception:  # one odd event must not stop the wallboard
            log.exception("wallboard: could not apply %s", fields["event"])
            return False

    def tick(self, now: float) -> bool:
        """States that change with time alone (wrap-up ending; a new day)."""
        changed = self._roll_day(now)
        for agent in self.agents.values():
            if agent.state is AgentState.WRAP_UP and agent.wrapup_until is not None:
                if now >= agent.wrapup_until:
                    self._restate(agent, agent.wrapup_until)
                    changed = True
        return changed

    def resync(self, events: Iterable[Mapping[str, Any]], at: float) -> None:
        """Agree with Asterisk's `QueueStatus` (QueueParams, QueueMember, QueueEntry) and
        `QueueSummary` lists, after an AMI (re)connect: queues, members and waiting callers
        are replaced; today's counters are kept."""
        self._roll_day(at)
        rows = [_Fields(row) for row in events if isinstance(row, Mapping)]
        queues: dict[str, dict[str, Waiter]] = {}
        members: dict[str, set[str]] = {}
        seen_agents: set[str] = set()
        for row in rows:
            kind, queue = row["event"].lower(), row["queue"]
            if not queue:
                continue
            if kind in ("queueparams", "queuesummary"):
                queues.setdefault(queue, {})
                members.setdefault(queue, set())
            elif kind == "queueentry":
                uniqueid = row["uniqueid"] or row["channel"]
                old = self.queues.get(queue, {}).get(uniqueid)
                queues.setdefault(queue, {})[uniqueid] = Waiter(
                    uniqueid=uniqueid,
                    channel=row["channel"],
                    number=row["calleridnum"],
                    name=row["calleridname"],
                    joined_at=old.joined_at if old else at - row.number("wait"),
                    linkedid=row["linkedid"],
                )
            elif kind == "queuemember":
                agent = self._member(row, queue, at)
                if agent is None:
                    continue
                members.setdefault(queue, set()).add(agent.key)
                seen_agents.add(agent.key)
                self._apply_member_fields(agent, row, at, resync=True)
        for key, agent in list(self.agents.items()):
            if key not in seen_agents:
                del self.agents[key]
            else:
                agent.queues = {q for q, keys in members.items() if key in keys}
                self._restate(agent, at)
        self.queues, self.members = queues, members
        waiting_now = {w.uniqueid for q in queues.values() for w in q.values()}
        for agent in self.agents.values():
            if agent.ringing_for and agent.ringing_for not in waiting_now:
                agent.ringing_for = ""
                self._restate(agent, at)
        self.dirty.queues |= set(queues)
        self.dirty.agents |= set(self.agents)
        self.dirty.ivr = True

    # -- handlers --------------------------------------------------------------------------

    def _roll_day(self, at: float) -> bool:
        day = self.day_of(at)
        if day == self.day:
            return False
        if self.day is not None:
            self.agi_errors_today = 0
            for agent in self.agents.values():
                agent.calls_taken, agent.talk_s = 0, 0.0
            self.dirty.agents |= set(self.agents)
            self.dirty.ivr = True
        self.day = day
        return True

    def _restate(self, agent: AgentLive, at: float) -> None:
        state = agent.current_state(at)
        if state is not agent.state:
            agent.state, agent.since = state, at
        self.dirty.agents.add(agent.key)
        self.dirty.queues |= agent.queues

    def _member(self, fields: _Fields, queue: str, at: float) -> AgentLive | None:
        interface = fields["interface"] or fields["location"] or fields["stateinterface"]
        if not interface:
            return None
        key = device_of(interface)
        agent = self.agents.get(key)
        if agent is None:
            name = fields["membername"] or fields["name"] or interface
            agent = AgentLive(key=key, interface=interface, name=name, since=at)
            self.agents[key] = agent
        agent.queues.add(queue)
        self.members.setdefault(queue, set()).add(key)
        return agent

    def _apply_member_fields(
        self, agent: AgentLive, fields: _Fields, at: float, resync: bool = False
    ) -> None:
        if fields["paused"]:
            agent.paused = fields["paused"] in ("1", "true", "yes")
            agent.pause_reason = fields["pausedreason"] if agent.paused else ""
        if fields["status"]:
            agent.device_status = fields["status"]
        if fields["incall"]:
            in_call = fields["incall"] == "1"
            if in_call and not agent.in_call:
                agent.call_started_at = at
            agent.in_call = in_call
            if not in_call:
                agent.call_channel = ""
        if fields["wrapuptime"]:
            agent.wrapup_s = fields.number("wrapuptime")
        if resync and fields["callstaken"]:
            # Asterisk's count is since the member was added; ours since midnight: keep the
            # larger, so a reconnect never lowers what the board showed.
            agent.calls_taken = max(agent.calls_taken, int(fields.number("callstaken")))
        self._restate(agent, at)

    def _on_member(self, fields: _Fields, at: float) -> bool:
        queue = fields["queue"]
        if not queue:
            return False
        agent = self._member(fields, queue, at)
        if agent is None:
            return False
        self._apply_member_fields(agent, fields, at)
        self.dirty.queues.add(queue)
        return True

    def _on_member_removed(self, fields: _Fields, at: float) -> bool:
        queue = fields["queue"]
        interface = fields["interface"] or fields["location"]
        if not queue or not interface:
            return False
        key = device_of(interface)
        self.members.get(queue, set()).discard(key)
        self.dirty.queues.add(queue)
        agent = self.agents.get(key)
        if agent is not None:
            agent.queues.discard(queue)
            self.dirty.agents.add(key)
            if not agent.queues:
                del self.agents[key]
        return True

    def _agent_of(self, fields: _Fields) -> AgentLive | None:
        interface = fields["interface"] or fields["destchannel"]
        return self.agents.get(device_of(interface)) if interface else None

    def _on_caller_join(self, fields: _Fields, at: float) -> bool:
        queue, uniqueid = fields["queue"], fields["uniqueid"]
        if not queue or not uniqueid:
            return False
        self.queues.setdefault(queue, {})[uniqueid] = Waiter(
            uniqueid=uniqueid,
            channel=fields["channel"],
            number=fields["calleridnum"],
            name=fields["calleridname"],
            joined_at=at,
            linkedid=fields["linkedid"],
        )
        self.members.setdefault(queue, set())
        self.dirty.queues.add(queue)
        if self.ivr_calls.pop(uniqueid, None) is not None:
            self.dirty.ivr = True
        return True

    def _on_caller_leave(self, fields: _Fields, at: float) -> bool:
        queue, uniqueid = fields["queue"], fields["uniqueid"]
        if self.queues.get(queue, {}).pop(uniqueid, None) is None:
            return False
        self.dirty.queues.add(queue)
        for agent in self.agents.values():
            if agent.ringing_for == uniqueid:
                agent.ringing_for = ""
                self._restate(agent, at)
        return True

    def _on_agent_called(self, fields: _Fields, at: float) -> bool:
        agent = self._agent_of(fields)
        if agent is None:
            return False
        agent.ringing_for = fields["uniqueid"] or "?"
        self._restate(agent, at)
        return True

    def _on_ring_no_answer(self, fields: _Fields, at: float) -> bool:
        agent = self._agent_of(fields)
        if agent is None or not agent.ringing_for:
            return False
        agent.ringing_for = ""
        self._restate(agent, at)
        return True

    def _on_agent_connect(self, fields: _Fields, at: float) -> bool:
        agent = self._agent_of(fields)
        if agent is None:
            return False
        agent.ringing_for = ""
        agent.in_call, agent.call_started_at = True, at
        agent.call_channel = fields["destchannel"]
        agent.wrapup_until = None
        self._restate(agent, at)
        return True

    def _on_agent_complete(self, fields: _Fields, at: float) -> bool:
        agent = self._agent_of(fields)
        if agent is None:
            return False
        agent.in_call, agent.call_channel = False, ""
        agent.calls_taken += 1
        agent.talk_s += fields.number("talktime")
        agent.wrapup_until = at + agent.wrapup_s if agent.wrapup_s else None
        self._restate(agent, at)
        return True

    def _on_agent_dump(self, fields: _Fields, at: float) -> bool:
        agent = self._agent_of(fields)
        if agent is None:
            return False
        agent.in_call, agent.call_channel, agent.ringing_for = False, "", ""
        self._restate(agent, at)
        return True

    def _enter_menu(self, uniqueid: str, menu: str, channel: str, at: float) -> bool:
        if not uniqueid or not menu:
            return False
        current = self.ivr_calls.get(uniqueid)
        if current is not None and current.menu == menu:
            return False
        self.ivr_calls[uniqueid] = IvrCall(menu=menu[:64], since=at, channel=channel)
        self.dirty.ivr = True
        return True

    def _on_var_set(self, fields: _Fields, at: float) -> bool:
        variable = fields["variable"].upper()
        if variable == MENU_VARIABLE:
            return self._enter_menu(fields["uniqueid"], fields["value"], fields["channel"], at)
        if variable == "AGISTATUS" and fields["value"].upper() == "FAILURE":
            # The FastAGI server could not be reached or broke off: the IVR failed a caller.
            self.agi_errors_today += 1
            self.dirty.ivr = True
            return True
        return False

    def _on_user_event(self, fields: _Fields, at: float) -> bool:
        if fields["userevent"].lower() != MENU_USER_EVENT:
            return False
        return self._enter_menu(fields["uniqueid"], fields["menu"], fields["channel"], at)

    def _on_new_exten(self, fields: _Fields, at: float) -> bool:
        context, uniqueid = fields["context"], fields["uniqueid"]
        if context in _IVR_CONTEXTS and uniqueid not in self.ivr_calls:
            return self._enter_menu(uniqueid, _IVR_CONTEXTS[context], fields["channel"], at)
        if context in _IVR_EXITS and self.ivr_calls.pop(uniqueid, None) is not None:
            self.dirty.ivr = True
            return True
        return False

    def _on_hangup(self, fields: _Fields, at: float) -> bool:
        uniqueid = fields["uniqueid"]
        changed = False
        if self.ivr_calls.pop(uniqueid, None) is not None:
            self.dirty.ivr = True
            changed = True
        # A caller whose hang-up reached us without its QueueCallerLeave (lost in a reconnect).
        found = self.waiter(uniqueid) if uniqueid else None
        if found is not None:
            queue, _ = found
            del self.queues[queue][uniqueid]
            self.dirty.queues.add(queue)
            changed = True
        return changed

    _HANDLERS: ClassVar[dict[str, Handler]] = {
        "queuememberadded": _on_member,
        "queuememberstatus": _on_member,
        "queuememberpause": _on_member,
        "queuememberpaused": _on_member,  # before Asterisk 13
        "queuememberremoved": _on_member_removed,
        "queuecallerjoin": _on_caller_join,
        "queuecallerleave": _on_caller_leave,
        "queuecallerabandon": _on_caller_leave,
        "agentcalled": _on_agent_called,
        "agentringnoanswer": _on_ring_no_answer,
        "agentconnect": _on_agent_connect,
        "agentcomplete": _on_agent_complete,
        "agentdump": _on_agent_dump,
        "varset": _on_var_set,
        "userevent": _on_user_event,
        "newexten": _on_new_exten,
        "hangup": _on_hangup,
    }
