"""The events the agent desktop receives. Each type declares, in one place, its name, its
payload and its audience: the websocket layer only asks `audience.admits(agent)`.

- `call.popup`: a call rings an agent; the caller's whole file (docs/popup.schema.json).
- `call.state`: that call's state for that agent changed (answered, missed, transferred...).
Both go to the one agent whose phone rings, and to nobody else.
- `agent.session_ended`: an agent logged out (one session) or was deactivated or given a new
  password (every session): each process closes that agent's websockets of those sessions.
  It is for the hubs, never sent on to a desktop.
"""

from __future__ import annotations

from typing import Any

from popup_server.calls import LegState
from tamas.bus import Audience, Event

LIVE_STATES = frozenset({LegState.RINGING.value, LegState.ANSWERED.value})


class CallPopup(Event):
    name = "call.popup"

    def __init__(self, popup: dict[str, Any], observed_at: float | None = None) -> None:
        self.popup = popup
        self._observed_at = observed_at

    def payload(self) -> dict[str, Any]:
        return self.popup

    def audience(self) -> Audience:
        return Audience.agent(self.popup["agent"])

    def observed_at(self) -> float | None:
        return self._observed_at


class CallStateChanged(Event):
    name = "call.state"

    def __init__(
        self,
        linkedid: str,
        agent: str,
        state: str,
        state_seq: int,
        at: str,
        transferred_from: str | None = None,
        observed_at: float | None = None,
    ) -> None:
        self.linkedid, self.agent, self.state = linkedid, agent, state
        self.state_seq, self.at, self.transferred_from = state_seq, at, transferred_from
        self._observed_at = observed_at

    def payload(self) -> dict[str, Any]:
        return {
            "linkedid": self.linkedid,
            "agent": self.agent,
            "state": self.state,
            "state_seq": self.state_seq,
            "at": self.at,
            "transferred_from": self.transferred_from,
        }

    def audience(self) -> Audience:
        return Audience.agent(self.agent)

    def observed_at(self) -> float | None:
        return self._observed_at


class SessionEnded(Event):
    name = "agent.session_ended"

    def __init__(self, agent: str, session: str | None, reason: str) -> None:
        # `session` is the session's key (agents.session_key), None for all of the agent's.
        self.agent, self.session, self.reason = agent, session, reason

    def payload(self) -> dict[str, Any]:
        return {"agent": self.agent, "session": self.session, "reason": self.reason}

    def audience(self) -> Audience:
        return Audience.agent(self.agent)
