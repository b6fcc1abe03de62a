"""Placing a campaign's calls through Asterisk and learning how each ended.

`CallPlacer.place` sends the AMI Originate of an attempt already written (its ChannelId is the
attempt's, so every event of the call names it) and returns at once; `CallWatcher` follows
the calls by that id through the events every AMI connection receives, so a worker restarted
after a crash can follow the calls its predecessor placed:

- `OriginateResponse` with a reason other than 4 (answered) ends an unanswered call: 0 failed,
  1 hung up while ringing, 3 no answer, 5 busy, 8 congestion;
- the `TamasCampaignEnd` UserEvent, sent by the call's hang-up handler (dialplans/
  outbound.conf), ends an answered one with what AMD heard and whether an agent was bridged;
  what the call's route reached (pressed 9, asked a callback...) is on the attempt already.

`outcome_of` turns those into the attempt's Outcome (pure).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dialer.kinds import Mode
from interactions.outcomes import Outcome
from tamas.asterisk import variables
from tamas.asterisk.ami import AmiClient
from tamas.settings import Settings

log = logging.getLogger(__name__)

CAMPAIGN_CONTEXT = "tamas-campaign"
END_EVENT = "TamasCampaignEnd"
ANSWERED = 4
UNANSWERED: dict[int, Outcome] = {
    0: Outcome.DIAL_FAILED,
    1: Outcome.NO_ANSWER,
    3: Outcome.NO_ANSWER,
    5: Outcome.BUSY,
    8: Outcome.CONGESTION,
}


@dataclass
class CallEnd:
    """How a call ended, as its events told it."""

    channel_id: str
    ended_at: datetime
    answered_at: datetime | None = None
    reason: int | None = None
    amd_status: str | None = None
    member: str | None = None


def outcome_of(end: CallEnd, mode: str, result: str | None, amd_noted: str | None) -> Outcome:
    """The attempt's outcome from its call's end and what its route wrote (`result`)."""
    if end.answered_at is None and end.reason != ANSWERED:
        return UNANSWERED.get(end.reason if end.reason is not None else 0, Outcome.DIAL_FAILED)
    amd = (end.amd_status or amd_noted or "").upper()
    bridged = bool(end.member)
    if result == Outcome.TO_AGENT.value:
        # The person pressed 1: an agent came, or the queue gave up on them.
        return Outcome.TO_AGENT if bridged else Outcome.NO_AGENT
    if result:
        return Outcome(result)
    if amd == "MACHINE":
        return Outcome.ANSWERING_MACHINE
    if mode != Mode.BROADCAST.value and amd in ("HUMAN", "NOTSURE"):
        # Answered by a person and sent to the queue: an agent, or abandoned (no agent came in
        # time, and they hung up before the message naming the insurer was written as heard).
        return Outcome.TO_AGENT if bridged else Outcome.ABANDONED
    return Outcome.HUNG_UP


@dataclass
class _Watch:
    end: CallEnd
    done: asyncio.Future[CallEnd]
    answered_seen: bool = False


@dataclass
class CallWatcher:
    """Follows calls by ChannelId through AMI events; `wait(channel_id)` returns its end."""

    ami: AmiClient
    # Told when a call is answered (Originate reason 4), with the moment.
    on_answer: Callable[[str, datetime], None] | None = None
    _watches: dict[str, _Watch] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ami.on_event("OriginateResponse", self._on_originate_response)
        self.ami.on_event("UserEvent", self._on_user_event)
        self.ami.on_event("Hangup", self._on_hangup)

    def close(self) -> None:
        self.ami.remove_listener("OriginateResponse", self._on_originate_response)
        self.ami.remove_listener("UserEvent", self._on_user_event)
        self.ami.remove_listener("Hangup", self._on_hangup)

    def watch(self, channel_id: str, answered_at: datetime | None = None) -> None:
        """Start following a call (before its Originate goes out, so no event is missed)."""
        if channel_id not in self._watches:
            end = CallEnd(channel_id, ended_at=datetime.now(UTC), answered_at=answered_at)
            done = asyncio.get_running_loop().create_future()
            self._watches[channel_id] = _Watch(end, done, answered_at is not None)

    def watching(self, channel_id: str) -> bool:
        return channel_id in self._watches

    async def wait(self, channel_id: str) -> CallEnd:
        watch = self._watches[channel_id]
        try:
            return await watch.done
        finally:
            self._watches.pop(channel_id, None)

    def forget(self, channel_id: str) -> None:
        watch = self._watches.pop(channel_id, None)
        if watch is not None and not watch.done.done():
            watch.done.cancel()

    def _finish(self, watch: _Watch) -> None:
        if not watch.done.done():
            watch.end.ended_at = datetime.now(UTC)
            watch.done.set_result(watch.end)

    def _on_originate_response(self, event: Mapping[str, Any]) -> None:
        watch = self._watches.get(_text(event, "Uniqueid"))
        if watch is None:
            return
        reason_text = _text(event, "Reason")
        reason = int(reason_text) if reason_text.isdigit() else None
        watch.end.reason = reason
        if reason == ANSWERED:
            watch.answered_seen = True
            watch.end.answered_at = datetime.now(UTC)
            if self.on_answer is not None:
                self.on_answer(watch.end.channel_id, watch.end.answered_at)
        else:
            self._finish(watch)

    def _on_user_event(self, event: Mapping[str, Any]) -> None:
        if _text(event, "UserEvent") != END_EVENT:
            return
        watch = self._watches.get(_text(event, "ChannelId"))
        if watch is None:
            return
        watch.answered_seen = True
        watch.end.answered_at = watch.end.answered_at or datetime.now(UTC)
        watch.end.reason = ANSWERED
        watch.end.amd_status = _text(event, "AmdStatus") or None
        watch.end.member = _text(event, "Member") or None
        self._finish(watch)

    def _on_hangup(self, event: Mapping[str, Any]) -> None:
        # The end event comes first (hang-up handlers run before the channel goes); a Hangup
        # with no end event of an answered call means the handler could not run: settle with
        # what the attempt says. Unanswered calls end with their OriginateResponse instead.
        watch = self._watches.get(_text(event, "Uniqueid"))
        if watch is not None and watch.answered_seen:
            asyncio.get_running_loop().call_later(1.0, self._finish, watch)


def _text(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip()


def dial_string(settings: Settings, phone: str) -> str:
    """The Originate's Channel for an E.164 number, from the dialer_channel setting."""
    digits = phone.lstrip("+")
    national = "0" + phone[3:] if phone.startswith("+98") else "00" + digits
    return settings.dialer_channel.format(digits=digits, number=national)


@dataclass(frozen=True)
class CallOptions:
    """What every call of a campaign is placed with."""

    mode: str
    queue: str
    ring_timeout_s: int
    agent_wait_s: int
    queue_wait_s: int
    caller_id: str = ""
    on_machine: str = "hangup"
    agi_url: str | None = None  # None: the dialplan's global TAMAS_AGI

    @classmethod
    def from_settings(
        cls, settings: Settings, mode: str, agi_url: str | None = None
    ) -> CallOptions:
        return cls(
            mode=mode,
            queue=settings.dialer_queue,
            ring_timeout_s=settings.dialer_ring_timeout_s,
            agent_wait_s=settings.dialer_agent_wait_s,
            queue_wait_s=settings.dialer_queue_wait_s,
            caller_id=settings.dialer_caller_id,
            agi_url=agi_url,
        )

    def variables(self, language: str | None, phone: str = "") -> dict[str, str]:
        values = {
            variables.PERSON: phone,
            variables.MODE: self.mode,
            variables.CAMPAIGN_QUEUE: self.queue,
            variables.AGENT_WAIT_S: str(self.agent_wait_s),
            variables.QUEUE_WAIT_S: str(self.queue_wait_s),
            variables.ON_MACHINE: self.on_machine,
        }
        if language:
            values["CHANNEL(language)"] = language
        if self.agi_url:
            values["TAMAS_AGI"] = self.agi_url
        return values


async def place(
    ami: AmiClient,
    watcher: CallWatcher,
    channel: str,
    channel_id: str,
    options: CallOptions,
    language: str | None = None,
    phone: str = "",
) -> None:
    """Send the Originate of an attempt already written (returns once Asterisk queued it).
    The watch starts first: a fast busy can answer before this returns."""
    watcher.watch(channel_id)
    await ami.originate(
        channel,
        context=CAMPAIGN_CONTEXT,
        exten="s",
        caller_id=options.caller_id or None,
        variables=options.variables(language, phone),
        timeout_ms=options.ring_timeout_s * 1000,
        channel_id=channel_id,
        wait=False,
    )
