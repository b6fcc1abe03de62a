"""Erlang-A, the queue with abandonment (M/M/c+M; Palm 1943, Garnett, Mandelbaum & Reiman 2002):
what share of answered people abandon when agents serve them at a given arrival rate. The
predictive pacing asks it how many answered calls per second its agents can take at a target.

Computed from the birth-death chain's stationary distribution, in log space so that a hundred
agents do not overflow a float. docs/pacing.md says why this is not a library's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

# States past the agents are summed until their weight is this far (in log) below the largest.
_NEGLIGIBLE_LOG = -40.0
_MAX_QUEUE = 10_000


@dataclass(frozen=True)
class ErlangA:
    """The queue's steady state: `abandon_probability` is the share of arrivals that leave
    before an agent takes them, `wait_probability` the share that find every agent busy."""

    abandon_probability: float
    wait_probability: float
    # Busy agents over agents: the agents' occupancy.
    occupancy: float


def erlang_a(arrival_rate: float, handle_s: float, agents: int, patience_s: float) -> ErlangA:
    """The M/M/c+M queue with arrivals at `arrival_rate` per second, exponential handle times
    of mean `handle_s`, `agents` servers and exponential patience of mean `patience_s`."""
    if agents <= 0:
        return ErlangA(abandon_probability=1.0, wait_probability=1.0, occupancy=0.0)
    if arrival_rate <= 0:
        return ErlangA(abandon_probability=0.0, wait_probability=0.0, occupancy=0.0)
    service_rate, patience_rate = 1.0 / handle_s, 1.0 / patience_s
    # log p_n - log p_0: arrivals at arrival_rate, departures min(n, c)·μ + max(0, n − c)·θ.
    logs = [0.0]
    log_arrival = math.log(arrival_rate)
    for n in range(1, agents + 1):
        logs.append(logs[-1] + log_arrival - math.log(n * service_rate))
    peak = max(logs)
    for waiting in range(1, _MAX_QUEUE):
        logs.append(
            logs[-1] + log_arrival - math.log(agents * service_rate + waiting * patience_rate)
        )
        peak = max(peak, logs[-1])
        if logs[-1] - peak < _NEGLIGIBLE_LOG:
            break
    weights = [math.exp(value - peak) for value in logs]
    total = sum(weights)
    waiting_mean = sum(k * weight for k, weight in enumerate(weights[agents + 1 :], 1)) / total
    busy_mean = sum(min(n, agents) * weight for n, weight in enumerate(weights)) / total
    return ErlangA(
        # Little's law on the waiting line: abandons per second are θ × E[people waiting].
        abandon_probability=min(1.0, patience_rate * waiting_mean / arrival_rate),
        wait_probability=sum(weights[agents:]) / total,
        occupancy=busy_mean / agents,
    )


@lru_cache(maxsize=4096)
def sustainable_rate(
    agents: int, handle_s: float, patience_s: float, abandon_share: float
) -> float:
    """The largest arrival rate (per second) at which `agents` keep the abandon probability at
    or under `abandon_share`: 0 with no agents or a share of 0. Callers round their inputs
    so that the cache answers a pacing loop that asks every second."""
    if agents <= 0 or abandon_share <= 0:
        return 0.0
    low, high = 0.0, 4.0 * agents / handle_s
    for _ in range(40):
        middle = (low + high) / 2
        if erlang_a(middle, handle_s, agents, patience_s).abandon_probability <= abandon_share:
            low = middle
        else:
            high = middle
    return low
