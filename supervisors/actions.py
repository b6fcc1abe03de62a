"""What a supervisor may do to agents and calls: pause or unpause an agent with a reason, log
an agent out of their queues, listen to / whisper to / barge into an agent's call (ChanSpy
on the supervisor's own phone, dialplans/supervisors.conf), move a waiting caller to another
queue. Each is written to the audit log (who, when, what) before Asterisk is asked.

Targets are looked up in the live state (`supervisors.live`), never taken as raw channel
names from the browser: a supervisor can only act on agents and callers the board shows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from popup_server.agents import AgentIdentity
from popup_server.audit import AuditLog
from supervisors.live import AgentLive, LiveState
from tamas.asterisk import variables
from tamas.asterisk.ami import AmiClient, AmiError

log = logging.getLogger(__name__)

# dialplans/supervisors.conf
SPY_CONTEXT = "tamas-supervisors"
MOVE_CONTEXT = "tamas-supervisors-move"
SPY_VARIABLE = variables.SPY
MOVE_VARIABLE = variables.MOVE_QUEUE
MAX_REASON = 32


class SpyMode(StrEnum):
    """ChanSpy's three ways in (the extension of SPY_CONTEXT): hear only (q), speak to the
    agent alone (w), speak to both (B)."""

    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


class ActionRefused(Exception):
    """The action cannot be done; `status` is the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ActionDone:
    what: str
    detail: dict[str, Any]


def clean_reason(text: str) -> str:
    """A pause reason as Asterisk and the board will show it: printable, one line, short."""
    reason = "".join(ch for ch in text if ch.isprintable() and ch not in "\r\n|,;").strip()
    return reason[:MAX_REASON]


class SupervisorActions:
    def __init__(self, ami: AmiClient | None, live: LiveState, audit: AuditLog) -> None:
        self.ami = ami
        self.live = live
        self.audit = audit

    async def pause(self, by: AgentIdentity, agent: str, reason: str) -> ActionDone:
        member = self._agent(agent)
        reason = clean_reason(reason)
        await self._audit(by, "sv_pause", f"{member.name}:{reason}")
        await self._send(
            {
                "Action": "QueuePause",
                "Interface": member.interface,
                "Paused": "true",
                "Reason": reason,
            }
        )
        return ActionDone("pause", {"agent": member.key, "reason": reason})

    async def unpause(self, by: AgentIdentity, agent: str) -> ActionDone:
        member = self._agent(agent)
        await self._audit(by, "sv_unpause", member.name)
        await self._send({"Action": "QueuePause", "Interface": member.interface, "Paused": "false"})
        return ActionDone("unpause", {"agent": member.key})

    async def log_out(self, by: AgentIdentity, agent: str) -> ActionDone:
        """Remove the agent from each of their queues. Members written in queues.conf
        (static) cannot be removed: Asterisk refuses, and they are named so that the
        supervisor pauses them instead."""
        member = self._agent(agent)
        await self._audit(by, "sv_logout", member.name)
        removed, static = [], []
        for queue in sorted(member.queues):
            try:
                await self._send(
                    {"Action": "QueueRemove", "Queue": queue, "Interface": member.interface}
                )
            except ActionRefused as refused:
                if "not dynamic" not in str(refused).lower():
                    raise
                static.append(queue)
            else:
                removed.append(queue)
        if static and not removed:
            raise ActionRefused(
                409,
                f"{member.name} is a fixed member of {', '.join(static)} (queues.conf) and "
                "cannot be logged out: pause them instead",
            )
        return ActionDone("logout", {"agent": member.key, "queues": removed, "fixed": static})

    async def spy(self, by: AgentIdentity, agent: str, mode: str) -> ActionDone:
        try:
            spy_mode = SpyMode(mode)
        except ValueError:
            raise ActionRefused(400, f"mode must be one of {', '.join(SpyMode)}") from None
        member = self._agent(agent)
        if not member.in_call or not member.call_channel:
            raise ActionRefused(409, f"{member.name} is not on a call")
        if by.interface.lower().startswith(member.key):
            raise ActionRefused(400, "a supervisor cannot listen to their own call")
        await self._audit(by, f"sv_{spy_mode.value}", member.name)
        ami = self._ami()
        try:
            result = await ami.originate(
                by.interface,
                context=SPY_CONTEXT,
                exten=spy_mode.value,
                caller_id=f'"{spy_mode.value} {member.name}" <{by.number}>',
                variables={SPY_VARIABLE: member.call_channel},
                timeout_ms=30_000,
                wait=False,
            )
        except AmiError as error:
            log.warning("supervisors: %s originate failed: %s", spy_mode.value, error)
            raise ActionRefused(502, f"Asterisk did not ring your phone: {error}") from error
        return ActionDone(
            spy_mode.value,
            {"agent": member.key, "phone": by.interface, "channel_id": result.channel_id},
        )

    async def move(self, by: AgentIdentity, uniqueid: str, queue: str) -> ActionDone:
        found = self.live.waiter(uniqueid)
        if found is None:
            raise ActionRefused(404, "that caller is no longer waiting")
        current, waiter = found
        if queue not in self.live.queue_names():
            raise ActionRefused(404, f"no queue {queue!r}")
        if queue == current:
            raise ActionRefused(409, f"the caller is already in {queue}")
        await self._audit(by, "sv_move", f"{current}>{queue}", linkedid=waiter.linkedid)
        await self._send(
            {
                "Action": "Setvar",
                "Channel": waiter.channel,
                "Variable": MOVE_VARIABLE,
                "Value": queue,
            }
        )
        await self._send(
            {
                "Action": "Redirect",
                "Channel": waiter.channel,
                "Context": MOVE_CONTEXT,
                "Exten": "s",
                "Priority": "1",
            }
        )
        return ActionDone("move", {"uniqueid": uniqueid, "from": current, "to": queue})

    # -- helpers ---------------------------------------------------------------------------

    def _agent(self, name: str) -> AgentLive:
        member = self.live.agent_by_name(str(name or ""))
        if member is None:
            raise ActionRefused(404, f"no agent {name!r} on the board")
        return member

    def _ami(self) -> AmiClient:
        if self.ami is None:
            raise ActionRefused(503, "this server does not control calls (no AMI connection)")
        return self.ami

    async def _audit(
        self, by: AgentIdentity, action: str, target: str, linkedid: str | None = None
    ) -> None:
        self._ami()  # nothing is written for an action this process cannot do
        await self.audit.record(by.number, action, target=target, linkedid=linkedid)

    async def _send(self, action: dict[str, Any]) -> None:
        ami = self._ami()
        try:
            reply = await ami.send_action(action, timeout_s=5.0)
        except AmiError as error:
            log.warning("supervisors: %s failed: %s", action["Action"], error)
            raise ActionRefused(502, "Asterisk did not answer") from error
        if not reply.success:
            raise ActionRefused(409, f"Asterisk refused: {reply.message}")
