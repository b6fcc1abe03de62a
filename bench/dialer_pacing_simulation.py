"""Predictive pacing against the widely used adaptive dial level, replayed on the same traces.

A small discrete-event simulator (its own event heap: ciw models open networks whose arrivals
are fixed up front, while here the pacing decides every second when calls arrive) plays each
trace of agents logged in, answer share, ring and handle times, once with our
`dialer.pacing.calls_to_place` and once with the peer's adaptive dial level (as the shared
notes describe it: a level adjusted every 15 s from ready agents minus waiting calls, halved
on heavy drops, cut when the day's drop rate passes the limit). Both see the same 2 s rule: an
answered person with no agent within 2 s is abandoned. Printed per trace: abandon rate
against the target and agents' idle share; the peer is also run with lower maximum levels (its
knob for fewer drops), and its idle share read at our abandon rate, so that the two are
compared at the same abandon rate.

    python -m bench dialer_pacing_simulation [--hours 8] [--target 0.03] [--seed 7] [--seeds 3]
"""

from __future__ import annotations

import argparse
import functools
import heapq
import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dialer.pacing import ABANDON_AFTER_S, FloorState, SettledCall, calls_to_place

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Moment:
    """What the floor is like at one moment of a trace."""

    agents: int
    answer_share: float
    handle_s: float
    ring_answered_s: float = 12.0
    ring_unanswered_s: float = 25.0


@dataclass(frozen=True)
class Trace:
    name: str
    # Seconds into the run -> the floor then.
    at: Callable[[float], Moment]


def _steady(_t: float) -> Moment:
    return Moment(agents=20, answer_share=0.30, handle_s=120.0)


def _shift_change(t: float, length_s: float) -> Moment:
    # The morning shift leaves at 40%, the next logs in one by one over 15 minutes.
    change = 0.4 * length_s
    if t < change:
        agents = 20
    else:
        agents = min(24, 8 + int((t - change) / 60))
    return Moment(agents=agents, answer_share=0.30, handle_s=120.0)


def _answer_drop(t: float, length_s: float) -> Moment:
    # People stop picking up at lunch: 35% -> 12% for the middle third.
    share = 0.12 if length_s / 3 <= t < 2 * length_s / 3 else 0.35
    return Moment(agents=15, answer_share=share, handle_s=150.0)


def _small_team(_t: float) -> Moment:
    return Moment(agents=5, answer_share=0.25, handle_s=90.0)


def _long_calls(_t: float) -> Moment:
    return Moment(agents=30, answer_share=0.40, handle_s=300.0, ring_answered_s=8.0)


def traces(length_s: float) -> list[Trace]:
    return [
        Trace("steady 20 agents", _steady),
        Trace("shift change 20->8->24", lambda t: _shift_change(t, length_s)),
        Trace("answer share 35%->12%", lambda t: _answer_drop(t, length_s)),
        Trace("small team of 5", _small_team),
        Trace("30 agents, long calls", _long_calls),
    ]


@dataclass
class Agent:
    busy_until: float | None = None
    leaving: bool = False


@dataclass
class Floor:
    """The simulated floor: agents, calls ringing, people waiting for an agent."""

    agents: list[Agent] = field(default_factory=list)
    ringing: int = 0
    waiting: deque[tuple[float, float]] = field(default_factory=deque)  # (deadline, ring_s)
    answered: int = 0
    abandoned: int = 0
    placed: int = 0
    idle_agent_s: float = 0.0
    logged_agent_s: float = 0.0
    history: list[SettledCall] = field(default_factory=list)

    def logged_in(self) -> list[Agent]:
        return [agent for agent in self.agents if not agent.leaving]

    def free(self) -> list[Agent]:
        return [agent for agent in self.agents if not agent.leaving and agent.busy_until is None]


class Policy:
    name = ""

    def place(self, floor: Floor, now_s: float, target: float) -> int:
        raise NotImplementedError


class OurPacing(Policy):
    name = "ours"

    def place(self, floor: Floor, now_s: float, target: float) -> int:
        logged = floor.logged_in()
        state = FloorState(
            mode="predictive",
            agents_logged_in=len(logged),
            agents_free=len(floor.free()),
            in_flight=floor.ringing + len(floor.waiting),
            max_channels=400,
        )
        return calls_to_place(state, floor.history, target, START + timedelta(seconds=now_s))


class AdaptiveDialLevel(Policy):
    """The peer's adaptive algorithm, as documented: every 15 s, level ×= 1 + (average ready
    agents − average waiting calls) / average agents × intensity, within [1, 3]; halved when
    over 20 calls in the last minute dropped over half; once over 50 calls today, a drop rate
    over the limit halves the level ("average" method)."""

    def __init__(self, max_level: float = 3.0, intensity: int = 0) -> None:
        self.max_level = max_level
        self.intensity = intensity
        self.level = 1.0
        self.samples: deque[tuple[float, int, int, int]] = deque()  # t, ready, waiting, agents
        self.minute: deque[tuple[float, bool]] = deque()  # t, dropped (per answered call)
        self.next_adjust_s = 15.0
        self.name = f"peer (max level {max_level:g})"

    def place(self, floor: Floor, now_s: float, target: float) -> int:
        logged = len(floor.logged_in())
        self.samples.append((now_s, len(floor.free()), len(floor.waiting), logged))
        while self.samples and self.samples[0][0] < now_s - 60:
            self.samples.popleft()
        if now_s >= self.next_adjust_s:
            self.next_adjust_s += 15.0
            self._adjust(floor, now_s, target)
        if logged == 0:
            return 0
        live = (
            floor.ringing + len(floor.waiting) + sum(a.busy_until is not None for a in floor.agents)
        )
        return max(0, math.ceil(self.level * logged) - live)

    def record(self, now_s: float, dropped: bool) -> None:
        self.minute.append((now_s, dropped))

    def _adjust(self, floor: Floor, now_s: float, limit: float) -> None:
        count = len(self.samples)
        ready = sum(s[1] for s in self.samples) / count
        waiting = sum(s[2] for s in self.samples) / count
        agents = sum(s[3] for s in self.samples) / count
        if agents > 0:
            differential = ready - waiting
            if differential >= 0:
                factor = 1 + self.intensity / 100
            else:
                factor = abs(self.intensity / 100 - 1)
            self.level *= 1 + differential / agents * factor
        self.level = min(self.max_level, max(1.0, self.level))
        while self.minute and self.minute[0][0] < now_s - 60:
            self.minute.popleft()
        drops = sum(dropped for _, dropped in self.minute)
        if len(self.minute) > 20 and drops > 0.5 * len(self.minute):
            self.level = max(1.0, self.level / 2)
        if floor.placed > 50 and floor.answered and floor.abandoned / floor.answered > limit:
            self.level = max(1.0, self.level / 2)


@dataclass(frozen=True)
class Result:
    policy: str
    answered: int
    abandoned: int
    placed: int
    idle_agent_s: float
    logged_agent_s: float

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0

    @property
    def idle_share(self) -> float:
        return self.idle_agent_s / self.logged_agent_s if self.logged_agent_s else 0.0


def pooled(results: list[Result]) -> Result:
    """One policy's runs on several seeds as one: rates over the summed calls and time."""
    return Result(
        policy=results[0].policy,
        answered=sum(r.answered for r in results),
        abandoned=sum(r.abandoned for r in results),
        placed=sum(r.placed for r in results),
        idle_agent_s=sum(r.idle_agent_s for r in results),
        logged_agent_s=sum(r.logged_agent_s for r in results),
    )


def simulate(trace: Trace, policy: Policy, length_s: float, target: float, seed: int) -> Result:
    rng = random.Random(seed)
    floor = Floor()
    events: list[tuple[float, int, str, Any]] = []
    sequence = 0

    def schedule(at: float, kind: str, payload: Any) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(events, (at, sequence, kind, payload))

    def settle(at: float, answered: bool, abandoned: bool, ring_s: float, handle_s: float | None):
        floor.history.append(
            SettledCall(START + timedelta(seconds=at), answered, abandoned, ring_s, handle_s)
        )
        if answered:
            floor.answered += 1
            floor.abandoned += abandoned
            if isinstance(policy, AdaptiveDialLevel):
                policy.record(at, abandoned)

    def connect(agent: Agent, at: float, ring_s: float) -> None:
        handle_s = rng.gammavariate(2.0, trace.at(at).handle_s / 2)
        agent.busy_until = at + handle_s
        schedule(agent.busy_until, "done", (agent, ring_s, handle_s))

    tick_s = 1.0
    now_s = 0.0
    while now_s < length_s:
        while events and events[0][0] <= now_s:
            at, _, kind, payload = heapq.heappop(events)
            if kind == "resolve":
                answered, ring_s = payload
                floor.ringing -= 1
                if not answered:
                    settle(at, False, False, ring_s, None)
                    continue
                free = floor.free()
                if free:
                    connect(free[0], at, ring_s)
                else:
                    floor.waiting.append((at + ABANDON_AFTER_S, ring_s))
            elif kind == "done":
                agent, ring_s, handle_s = payload
                settle(at, True, False, ring_s, handle_s)
                agent.busy_until = None
                if agent.leaving:
                    floor.agents.remove(agent)
                elif floor.waiting:
                    _, waiting_ring_s = floor.waiting.popleft()
                    connect(agent, at, waiting_ring_s)
        while floor.waiting and floor.waiting[0][0] <= now_s:
            deadline, ring_s = floor.waiting.popleft()
            settle(deadline, True, True, ring_s, None)
        moment = trace.at(now_s)
        _staff(floor, moment.agents)
        logged = floor.logged_in()
        floor.logged_agent_s += len(logged) * tick_s
        floor.idle_agent_s += len(floor.free()) * tick_s
        for _ in range(policy.place(floor, now_s, target)):
            floor.placed += 1
            floor.ringing += 1
            answered = rng.random() < moment.answer_share
            mean_s = moment.ring_answered_s if answered else moment.ring_unanswered_s
            ring_s = rng.uniform(0.5 * mean_s, 1.5 * mean_s)
            schedule(now_s + ring_s, "resolve", (answered, ring_s))
        now_s += tick_s
    return Result(
        policy=policy.name,
        answered=floor.answered,
        abandoned=floor.abandoned,
        placed=floor.placed,
        idle_agent_s=floor.idle_agent_s,
        logged_agent_s=floor.logged_agent_s,
    )


def _staff(floor: Floor, wanted: int) -> None:
    logged = floor.logged_in()
    for _ in range(wanted - len(logged)):
        floor.agents.append(Agent())
    # Agents going off shift leave when free, or after the call they are on.
    for agent in sorted(logged, key=lambda a: a.busy_until is not None)[: len(logged) - wanted]:
        if agent.busy_until is None:
            floor.agents.remove(agent)
        else:
            agent.leaving = True


def peer_idle_at(rate: float, peers: list[Result]) -> float | None:
    """The peer's least idle share among its runs (several maximum levels) that abandoned no
    more than `rate`: its best at our abandon rate; None when none did."""
    idle = [r.idle_share for r in peers if r.abandon_rate <= rate]
    return min(idle) if idle else None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench dialer_pacing_simulation")
    parser.add_argument("--hours", type=float, default=1.0, help="simulated hours per trace")
    parser.add_argument("--target", type=float, default=0.03, help="abandon-rate target")
    parser.add_argument("--seed", type=int, default=7, help="the first seed")
    parser.add_argument("--seeds", type=int, default=3, help="runs per trace, pooled")
    args = parser.parse_args(argv)
    length_s = args.hours * 3600
    seeds = range(args.seed, args.seed + args.seeds)
    started = time.perf_counter()

    def run(trace: Trace, make: Callable[[], Policy]) -> Result:
        return pooled([simulate(trace, make(), length_s, args.target, seed) for seed in seeds])

    print(
        f"{args.hours:g} h per trace, {args.seeds} seeds pooled, abandon target "
        f"{args.target:.1%}; idle = agents' idle share of logged-in time"
    )
    print(
        f"{'trace':26} {'ours abandon':>12} {'ours idle':>9} {'peer abandon':>12} "
        f"{'peer idle':>9} {'peer idle@ours':>14} {'idle ratio':>10}"
    )
    status = 0
    for trace in traces(length_s):
        ours = run(trace, OurPacing)
        peer = run(trace, AdaptiveDialLevel)
        # The peer's one knob for fewer drops is a lower maximum level (1.0: progressive).
        sweep = [peer] + [
            run(trace, functools.partial(AdaptiveDialLevel, max_level=level))
            for level in (1.0, 1.1, 1.25, 1.5)
        ]
        at_ours = peer_idle_at(ours.abandon_rate, sweep)
        ratio = f"{ours.idle_share / at_ours:.2f}x" if at_ours else "n/a"
        print(
            f"{trace.name:26} {ours.abandon_rate:12.2%} {ours.idle_share:9.1%} "
            f"{peer.abandon_rate:12.2%} {peer.idle_share:9.1%} "
            f"{'n/a' if at_ours is None else f'{at_ours:.1%}':>14} {ratio:>10}"
        )
        if ours.abandon_rate > args.target:
            status = 1
    print(f"({time.perf_counter() - started:.1f} s)")
    return status


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
