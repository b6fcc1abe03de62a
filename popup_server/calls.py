"""The call tracker: Asterisk's AMI events in, the state of each call per agent out.

Pure logic, no I/O: `CallTracker.feed(event)` takes one AMI event as a mapping (field names
read case-insensitively, as Asterisk is not consistent about them) and returns what changed
for which agent. Calls are keyed by `linkedid`, which every channel of a call shares.

An agent is found from a channel name through `device_of` and the agents' interfaces
(`Local/101@tamas-agents`, `PJSIP/101`): queue calls arrive as `AgentCalled`, direct calls as
`DialBegin`; answers as `AgentConnect`, `DialEnd` with `ANSWER`, or the agent's channel
entering a bridge. A malformed event (missing fields, wrong types) changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar

log = logging.getLogger(__name__)

# "Local/101@agents-0000001a;1" -> "Local/101@agents"; "PJSIP/101-0000000b" -> "PJSIP/101".
_CHANNEL_SUFFIX = re.compile(r"-[0-9a-fA-F]{8}(;[12])?$")


def device_of(name: str) -> str:
    """The device (interface) behind a channel or queue-member interface name."""
    name = _CHANNEL_SUFFIX.sub("", name.strip())
    if name.lower().startswith("local/"):
        # Queue members are written with Local options: "Local/101@agents/n".
        parts = name.split("/")
        name = "/".join(parts[:2])
    return name.lower()


class LegState(StrEnum):
    """Where a call stands for one agent."""

    RINGING = "ringing"
    ANSWERED = "answered"
    MISSED = "missed"  # rang, then stopped without this agent answering
    TRANSFERRED = "transferred"  # this agent passed the call on
    ENDED = "ended"

    @property
    def is_live(self) -> bool:
        return self in (LegState.RINGING, LegState.ANSWERED)


@dataclass(frozen=True)
class Leg:
    """One agent's part in a call."""

    agent: str
    channel: str
    state: LegState
    since: float
    seq: int  # grows with every change of the call, so a late message never wins


@dataclass
class Call:
    linkedid: str
    caller_number: str
    caller_name: str
    caller_channel: str
    caller_uniqueid: str
    queue: str | None
    started_at: float
    legs: dict[str, Leg] = field(default_factory=dict)
    answered_by: str | None = None
    transfer_pending_by: str | None = None
    # Agents who passed the call on, so the next agent's card says who it came from.
    transferred_from: str | None = None
    seq: int = 0


@dataclass(frozen=True)
class CallChange:
    """The state of `call` for `agent` became `leg.state`."""

    call: Call
    leg: Leg
    # The first change of this call for this agent: their desktop has no card for it yet
    # (usually a ring; after a resync it can be a call already answered).
    first: bool = False

    @property
    def agent(self) -> str:
        return self.leg.agent


AgentLookup = Callable[[str], str | None]
"""device name (lowercase, as from `device_of`) -> agent number, or None if not an agent."""


def agent_lookup(interfaces: Mapping[str, str]) -> AgentLookup:
    """An `AgentLookup` from {interface: agent number}."""
    by_device = {device_of(interface): agent for interface, agent in interfaces.items()}
    return by_device.get


class _Fields:
    """An AMI event read case-insensitively; missing or non-text values read as ''."""

    def __init__(self, event: Mapping[str, Any]) -> None:
        self._values = {str(k).lower(): v for k, v in event.items()}

    def __getitem__(self, key: str) -> str:
        value = self._values.get(key, "")
        return value.strip() if isinstance(value, str) else ""


class CallTracker:
    """Calls in progress and each agent's part in them."""

    def __init__(self, agent_for_device: AgentLookup) -> None:
        self._agent_for_device = agent_for_device
        self.calls: dict[str, Call] = {}

    # -- reading ---------------------------------------------------------------------------

    def live_calls_for(self, agent: str) -> list[tuple[Call, Leg]]:
        return [
            (call, call.legs[agent])
            for call in self.calls.values()
            if agent in call.legs and call.legs[agent].state.is_live
        ]

    def agent_channel(self, linkedid: str, agent: str) -> str | None:
        call = self.calls.get(linkedid)
        leg = call.legs.get(agent) if call else None
        return leg.channel if leg and leg.state.is_live else None

    # -- feeding ---------------------------------------------------------------------------

    def feed(self, event: Mapping[str, Any], at: float) -> list[CallChange]:
        """Apply one AMI event; return the changes it made (often none)."""
        if not isinstance(event, Mapping):
            log.warning("calls: ignored a non-mapping AMI event: %r", type(event).__name__)
            return []
        fields = _Fields(event)
        handler = self._HANDLERS.get(fields["event"].lower())
        if handler is None:
            return []
        try:
            return handler(self, fields, at)
        except Exception:  # a bug on one odd event must not stop the follower
            log.exception("calls: could not apply %s", fields["event"])
            return []

    def note_transfer(self, linkedid: str, agent: str) -> None:
        """The desktop asked Asterisk to transfer this agent's call: when the agent's channel
        leaves, their part ends as `transferred` rather than `ended`."""
        call = self.calls.get(linkedid)
        if call is not None:
            call.transfer_pending_by = agent

    def resync(self, channels: Iterable[Mapping[str, Any]], at: float) -> list[CallChange]:
        """Make the tracker agree with Asterisk's list of channels (`CoreShowChannel`
        events), after an AMI reconnect or an Asterisk restart: calls that disappeared end,
        agent channels we did not know about ring or are answered."""
        seen: set[tuple[str, str]] = set()
        changes: list[CallChange] = []
        rows = [_Fields(row) for row in channels if isinstance(row, Mapping)]
        present = {row["linkedid"] for row in rows if row["linkedid"]}
        # The channel that started the call (its Uniqueid is the Linkedid) is the caller.
        callers = {row["linkedid"]: row for row in rows if row["uniqueid"] == row["linkedid"]}
        for row in rows:
            agent = self._agent_of(row["channel"])
            linkedid = row["linkedid"]
            if agent is None or not linkedid:
                continue
            seen.add((linkedid, agent))
            state_desc = row["channelstatedesc"].lower()
            answered = state_desc == "up" or row["channelstate"] == "6"
            call = self.calls.get(linkedid)
            if call is None:
                caller = callers.get(linkedid)
                call = self._open(
                    linkedid,
                    number=caller["calleridnum"] if caller else row["connectedlinenum"],
                    name=caller["calleridname"] if caller else row["connectedlinename"],
                    channel=caller["channel"] if caller else "",
                    uniqueid=linkedid,
                    queue=None,
                    at=at,
                )
            leg = call.legs.get(agent)
            wanted = LegState.ANSWERED if answered else LegState.RINGING
            if leg is None or leg.state is not wanted:
                if wanted is LegState.ANSWERED:
                    call.answered_by = agent
                changes.append(self._set(call, agent, row["channel"], wanted, at))
        for linkedid, call in list(self.calls.items()):
            if linkedid not in present:
                changes += self._end(call, at)
                continue
            for agent, leg in list(call.legs.items()):
                if leg.state.is_live and (linkedid, agent) not in seen:
                    final = LegState.MISSED if leg.state is LegState.RINGING else LegState.ENDED
                    changes.append(self._set(call, agent, leg.channel, final, at))
        return changes

    def sweep(self, now: float, max_age_s: float = 6 * 3600) -> list[CallChange]:
        """End calls older than `max_age_s` whose hang-up we never heard (a lost event)."""
        changes: list[CallChange] = []
        for call in list(self.calls.values()):
            if now - call.started_at > max_age_s:
                changes += self._end(call, now)
        return changes

    # -- event handlers --------------------------------------------------------------------

    def _agent_of(self, channel: str) -> str | None:
        return self._agent_for_device(device_of(channel)) if channel else None

    def _open(
        self,
        linkedid: str,
        *,
        number: str,
        name: str,
        channel: str,
        uniqueid: str,
        queue: str | None,
        at: float,
    ) -> Call:
        call = self.calls.get(linkedid)
        if call is None:
            call = Call(
                linkedid=linkedid,
                caller_number=number,
                caller_name=name,
                caller_channel=channel,
                caller_uniqueid=uniqueid,
                queue=queue,
                started_at=at,
            )
            self.calls[linkedid] = call
        else:
            call.queue = call.queue or queue
            call.caller_number = call.caller_number or number
            call.caller_name = call.caller_name or name
            call.caller_channel = call.caller_channel or channel
        return call

    def _set(self, call: Call, agent: str, channel: str, state: LegState, at: float) -> CallChange:
        call.seq += 1
        previous = call.legs.get(agent)
        # A new card: the first news of this call for this agent, or a ring again after theirs
        # had stopped (the queue retries them, or the call comes back to them).
        first = previous is None or (state is LegState.RINGING and not previous.state.is_live)
        leg = Leg(agent=agent, channel=channel, state=state, since=at, seq=call.seq)
        call.legs[agent] = leg
        return CallChange(call=snapshot(call), leg=leg, first=first)

    def _offer(
        self, fields: _Fields, at: float, dest_channel: str, queue: str | None
    ) -> list[CallChange]:
        linkedid = fields["linkedid"]
        agent = self._agent_of(dest_channel) or self._agent_of(fields["interface"])
        if not linkedid or agent is None:
            return []
        call = self._open(
            linkedid,
            number=fields["calleridnum"],
            name=fields["calleridname"],
            channel=fields["channel"],
            uniqueid=fields["uniqueid"],
            queue=queue,
            at=at,
        )
        leg = call.legs.get(agent)
        if leg is not None and leg.state.is_live:
            return []  # AgentCalled and DialBegin both announce a queue call's ring
        for other, other_leg in call.legs.items():
            if other_leg.state is LegState.TRANSFERRED and other != agent:
                call.transferred_from = other
        if call.transfer_pending_by not in (None, agent):
            # The new ring can arrive before the transferring agent's channel hangs up.
            call.transferred_from = call.transfer_pending_by
        return [self._set(call, agent, dest_channel, LegState.RINGING, at)]

    def _on_agent_called(self, fields: _Fields, at: float) -> list[CallChange]:
        return self._offer(fields, at, fields["destchannel"], fields["queue"] or None)

    def _on_dial_begin(self, fields: _Fields, at: float) -> list[CallChange]:
        return self._offer(fields, at, fields["destchannel"], None)

    def _ringing(self, fields: _Fields, channel: str) -> tuple[Call, str, Leg] | None:
        """The call, agent and leg that an answer or a stop of ringing on `channel` is about."""
        call = self.calls.get(fields["linkedid"])
        agent = self._agent_of(channel) or self._agent_of(fields["interface"])
        if call is None or agent is None:
            return None
        leg = call.legs.get(agent)
        if leg is None or leg.state is not LegState.RINGING:
            return None
        return call, agent, leg

    def _answered(self, fields: _Fields, at: float, channel: str) -> list[CallChange]:
        ringing = self._ringing(fields, channel)
        if ringing is None:
            return []
        call, agent, leg = ringing
        call.answered_by = agent
        return [self._set(call, agent, leg.channel or channel, LegState.ANSWERED, at)]

    def _on_agent_connect(self, fields: _Fields, at: float) -> list[CallChange]:
        return self._answered(fields, at, fields["destchannel"])

    def _on_bridge_enter(self, fields: _Fields, at: float) -> list[CallChange]:
        return self._answered(fields, at, fields["channel"])

    def _stopped_ringing(self, fields: _Fields, at: float, channel: str) -> list[CallChange]:
        ringing = self._ringing(fields, channel)
        if ringing is None:
            return []
        call, agent, leg = ringing
        return [self._set(call, agent, leg.channel, LegState.MISSED, at)]

    def _on_agent_ring_no_answer(self, fields: _Fields, at: float) -> list[CallChange]:
        return self._stopped_ringing(fields, at, fields["destchannel"])

    def _on_dial_end(self, fields: _Fields, at: float) -> list[CallChange]:
        if fields["dialstatus"].upper() == "ANSWER":
            return self._answered(fields, at, fields["destchannel"])
        return self._stopped_ringing(fields, at, fields["destchannel"])

    def _on_transfer(self, fields: _Fields, at: float) -> list[CallChange]:
        # Blind and attended transfers made from the agent's own phone.
        linkedid = fields["transfererlinkedid"] or fields["linkedid"]
        agent = self._agent_of(fields["transfererchannel"])
        if linkedid and agent is not None:
            self.note_transfer(linkedid, agent)
        return []

    def _on_hangup(self, fields: _Fields, at: float) -> list[CallChange]:
        call = self.calls.get(fields["linkedid"])
        if call is None:
            return []
        channel = fields["channel"]
        uniqueid = fields["uniqueid"]
        if (uniqueid and uniqueid in (call.linkedid, call.caller_uniqueid)) or (
            channel and channel == call.caller_channel
        ):
            return self._end(call, at)
        for agent, leg in list(call.legs.items()):
            if leg.state.is_live and leg.channel and leg.channel == channel:
                if leg.state is LegState.RINGING:
                    return [self._set(call, agent, leg.channel, LegState.MISSED, at)]
                final = (
                    LegState.TRANSFERRED if call.transfer_pending_by == agent else LegState.ENDED
                )
                if final is LegState.TRANSFERRED:
                    call.transfer_pending_by = None
                    call.answered_by = None
                return [self._set(call, agent, leg.channel, final, at)]
        return []

    def _end(self, call: Call, at: float) -> list[CallChange]:
        changes = []
        for agent, leg in list(call.legs.items()):
            if leg.state.is_live:
                final = LegState.MISSED if leg.state is LegState.RINGING else LegState.ENDED
                changes.append(self._set(call, agent, leg.channel, final, at))
        self.calls.pop(call.linkedid, None)
        return changes

    _HANDLERS: ClassVar[dict[str, Callable[[CallTracker, _Fields, float], list[CallChange]]]] = {
        "agentcalled": _on_agent_called,
        "dialbegin": _on_dial_begin,
        "agentconnect": _on_agent_connect,
        "bridgeenter": _on_bridge_enter,
        "agentringnoanswer": _on_agent_ring_no_answer,
        "dialend": _on_dial_end,
        "blindtransfer": _on_transfer,
        "attendedtransfer": _on_transfer,
        "hangup": _on_hangup,
    }


def snapshot(call: Call) -> Call:
    """A copy safe to hand to another task while the tracker keeps changing the original."""
    return replace(call, legs=dict(call.legs))
