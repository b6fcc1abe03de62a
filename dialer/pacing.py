"""How many calls a campaign places now: broadcast fills its channels, progressive dials one
call per free agent, predictive dials ahead of the agents from the answer rate, ring and handle
times (an Erlang-A model of the agents, `dialer/erlang_a.py`) and steers by the abandon rate it
measures. Pure: computed from the floor and the settled calls, so several workers, or a worker
restarted, pace alike. docs/pacing.md explains the model and the figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer.abandons import AbandonCount, abandon_count, within
from dialer.erlang_a import sustainable_rate

# An answered person with no agent within this many seconds is abandoned (FTC/Ofcom: 2 s).
ABANDON_AFTER_S = 2.0
# Predictive starts from this many settled calls (of which answered and handled by agents):
# fewer say too little about the rates, so the campaign dials progressively until then.
MIN_SETTLED_CALLS = 30
MIN_ANSWERED_CALLS = 10
MIN_HANDLED_CALLS = 5
# ...and the campaign's settled calls span this many handle times.
SETTLED_SPAN_HANDLES = 2.0
# (at most half an hour: a worker may read only the latest hour of calls)
SETTLED_SPAN_MAX_S = 1800.0
# The rates are estimated from the latest settled calls (the answer rate drifts with the hour).
ESTIMATE_CALLS = 200
ANSWER_SHARE_LATEST_CALLS = 50
# The feedback loop reads the abandon rate over the latest answered calls (a short sample to
# steer by) and over the campaign's window (the rule to keep).
FEEDBACK_ANSWERED_CALLS = 300
FEEDBACK_GAIN = 6.0
FEEDBACK_RANGE = (0.25, 8.0)


@dataclass(frozen=True)
class SettledCall:
    """One ended attempt: `ring_s` from the Originate to an answer or to giving up,
    `handle_s` an agent's talk and wrap-up (None when no agent took it)."""

    ended_at: datetime
    answered: bool
    abandoned: bool
    ring_s: float
    handle_s: float | None


@dataclass(frozen=True)
class FloorState:
    """The campaign's floor now. `in_flight` counts its calls placed and not with an agent
    (ringing, or answered and waiting, or hearing the abandon message) — every live call of
    a broadcast; `max_channels` is the campaign's own cap."""

    mode: str
    agents_logged_in: int
    agents_free: int
    in_flight: int
    max_channels: int


@dataclass(frozen=True)
class Rates:
    """What the latest settled calls say: the share answered by a person, the mean ring of a
    placed call (answered or not), the mean handle of a call an agent took."""

    answer_share: float
    ring_s: float
    handle_s: float


def calls_to_place(
    floor: FloorState,
    history: Sequence[SettledCall],
    abandon_target: float,
    now: datetime,
    window: timedelta = timedelta(days=30),
    in_window: AbandonCount | None = None,
) -> int:
    """How many calls to place now. `history`: the campaign's settled calls, oldest first:
    the latest hour is enough to estimate the rates. The abandon rate the campaign is held to
    is over `window` (its `abandon_window_s`): `in_window` gives its counts when `history`
    does not reach that far back (30 days of calls are counted by the database, not read)."""
    room = max(0, floor.max_channels - floor.in_flight)
    if floor.mode == "broadcast":
        return room
    if floor.agents_logged_in <= 0:
        return 0
    progressive = max(0, floor.agents_free - floor.in_flight)
    if floor.mode != "predictive" or abandon_target <= 0:
        return min(room, progressive)
    recent = within(history, now, window)
    busy = floor.agents_logged_in - floor.agents_free
    rates = estimate_rates(recent[-ESTIMATE_CALLS:], busy, now, _span_s(recent, now))
    if rates is None:
        return min(room, progressive)
    allowed = allowed_abandon_share(in_window or abandon_count(recent), recent, abandon_target)
    answered_per_s = sustainable_rate(
        floor.agents_logged_in,
        # Rounded so that the model's cache answers a loop that asks every second.
        float(round(rates.handle_s)),
        ABANDON_AFTER_S,
        round(allowed, 4),
    )
    # Little's law at the model's operating point: calls ringing = dial rate × ring time,
    # agents busy = answered rate (less those abandoned) × handle time.
    ringing = answered_per_s * rates.ring_s / rates.answer_share
    expected_busy = answered_per_s * (1 - allowed) * rates.handle_s
    # Then each agent free beyond what the model expects gets 1 / answer share more calls (one
    # answer, on average), each agent busy beyond it as many fewer: the dialer follows its
    # floor call by call. (Counting lines instead, as the peer does, moves one call per agent
    # and leaves agents idle longer: docs/pacing.md has the simulated figures.)
    ringing += (expected_busy - busy) / rates.answer_share
    ahead = math.floor(ringing + 0.5) - floor.in_flight
    # Never fewer than progressive would place: a free agent always gets a call on its way.
    return min(room, max(ahead, progressive))


def estimate_rates(
    latest: Sequence[SettledCall], busy_agents: int, now: datetime, history_s: float
) -> Rates | None:
    """The rates from the latest settled calls (oldest first); None while too few to estimate
    them, or while the campaign's settled calls span (`history_s`) under two handle times.
    The handle time is the larger of the handled calls' mean and busy agents over the rate
    calls leave agents (Little's law): early in a campaign only the short calls have ended,
    and their mean alone would have the dialer expect agents back far too soon."""
    answered = [call for call in latest if call.answered]
    handled = [call.handle_s for call in latest if call.handle_s is not None]
    if (
        len(latest) < MIN_SETTLED_CALLS
        or len(answered) < MIN_ANSWERED_CALLS
        or len(handled) < MIN_HANDLED_CALLS
    ):
        return None
    handle_s = sum(handled) / len(handled)
    span_s = _span_s(latest, now)
    if span_s > 0:
        handle_s = max(handle_s, busy_agents * span_s / len(handled))
    if history_s < min(SETTLED_SPAN_HANDLES * handle_s, SETTLED_SPAN_MAX_S):
        # An answered call settles a handle time after an unanswered one placed with it: a
        # sample younger than that holds too few of them, and the answer share read from it
        # would have the dialer place too many calls.
        return None
    # The higher of the share over the sample and over its latest calls: when people start
    # answering more (after lunch), the latest show it first, and the dialer that kept the
    # older, lower share would over-dial; a falling share is followed more slowly (idle
    # agents for a while, not abandoned people).
    newest = latest[-ANSWER_SHARE_LATEST_CALLS:]
    answer_share = max(
        len(answered) / len(latest), sum(call.answered for call in newest) / len(newest)
    )
    return Rates(
        answer_share=answer_share,
        ring_s=max(1.0, sum(call.ring_s for call in latest) / len(latest)),
        handle_s=max(1.0, handle_s),
    )


def _span_s(calls: Sequence[SettledCall], now: datetime) -> float:
    """Seconds from the first of `calls` (oldest first) to settle until now."""
    return (now - calls[0].ended_at).total_seconds() if calls else 0.0


def allowed_abandon_share(
    in_window: AbandonCount, recent: Sequence[SettledCall], abandon_target: float
) -> float:
    """The abandon share the model is asked to keep: the target, raised while the latest
    answered calls abandon less than it (the model is cautious: it assumes people answer at
    random, while the dialer sees its agents) and lowered while they abandon more. Once the
    window's rate is over the target, far under it until the window recovers."""
    if in_window.rate is not None and in_window.rate > abandon_target:
        return abandon_target * FEEDBACK_RANGE[0]
    latest = abandon_count(recent, last_answered=FEEDBACK_ANSWERED_CALLS)
    measured = latest.rate or 0.0
    gain = 1 + FEEDBACK_GAIN * (abandon_target - measured) / abandon_target
    low, high = FEEDBACK_RANGE
    # A few answered calls with no abandon yet prove little: the model is trusted alone at
    # first, and the loop may raise the share only as far as its sample supports.
    trust = min(1.0, latest.answered / FEEDBACK_ANSWERED_CALLS)
    return abandon_target * min(1 + (high - 1) * trust, max(low, gain))
