"""How many calls a campaign places: broadcast, progressive and predictive pacing, the
Erlang-A model under it, and the abandon rate it is held to. Pure: no Asterisk."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bench.dialer_pacing_simulation import OurPacing, simulate, traces
from dialer.abandons import AbandonCount, abandon_count, within
from dialer.erlang_a import erlang_a, sustainable_rate
from dialer.pacing import (
    MIN_SETTLED_CALLS,
    FloorState,
    SettledCall,
    allowed_abandon_share,
    calls_to_place,
)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def floor(mode: str = "predictive", logged: int = 10, free: int = 2, in_flight: int = 0):
    return FloorState(
        mode=mode,
        agents_logged_in=logged,
        agents_free=free,
        in_flight=in_flight,
        max_channels=100,
    )


def history(
    calls: int = 300, answer_share: float = 0.3, abandon_share: float = 0.0, seed: int = 1
) -> list[SettledCall]:
    """Settled calls one every 6 s up to NOW: 12 s rings, 120 s handled calls."""
    rng = random.Random(seed)
    settled = []
    for index in range(calls):
        answered = rng.random() < answer_share
        abandoned = answered and rng.random() < abandon_share
        settled.append(
            SettledCall(
                ended_at=NOW - timedelta(seconds=6 * (calls - index)),
                answered=answered,
                abandoned=abandoned,
                ring_s=12.0 if answered else 25.0,
                handle_s=120.0 if answered and not abandoned else None,
            )
        )
    return settled


def test_erlang_a_meets_erlang_b_when_people_hang_up_at_once() -> None:
    # Impatience far faster than service: nobody waits, a loss system. Erlang B(10, 5) = 0.01838.
    queue = erlang_a(arrival_rate=5 / 100, handle_s=100, agents=10, patience_s=1e-4)
    assert queue.abandon_probability == pytest.approx(0.01838, abs=2e-4)


def test_erlang_a_meets_erlang_c_when_people_wait_forever() -> None:
    # Erlang C(10 agents, 8 erlangs) = 0.4092: the chance to wait.
    queue = erlang_a(arrival_rate=8 / 100, handle_s=100, agents=10, patience_s=1e7)
    assert queue.wait_probability == pytest.approx(0.4092, abs=5e-4)
    assert queue.abandon_probability < 1e-4


def test_erlang_a_keeps_a_hundred_agents_in_range() -> None:
    queue = erlang_a(arrival_rate=95 / 180, handle_s=180, agents=100, patience_s=2)
    assert 0 < queue.abandon_probability < 0.1
    assert 0.8 < queue.occupancy < 1


def test_more_agents_take_more_calls_at_the_same_abandon_share() -> None:
    rates = [sustainable_rate(agents, 120.0, 2.0, 0.03) for agents in (1, 5, 20, 50)]
    assert rates == sorted(rates) and rates[0] > 0
    # and a bigger team is busier at the same share (economies of scale).
    assert rates[3] / 50 > rates[1] / 5
    assert sustainable_rate(20, 120.0, 2.0, 0.0) == 0.0


def test_broadcast_fills_the_campaigns_channels() -> None:
    assert calls_to_place(floor("broadcast", logged=0, free=0, in_flight=30), [], 0.03, NOW) == 70


def test_progressive_places_one_call_per_free_agent_less_calls_in_flight() -> None:
    assert calls_to_place(floor("progressive", free=4, in_flight=1), history(), 0.03, NOW) == 3
    assert calls_to_place(floor("progressive", free=1, in_flight=3), history(), 0.03, NOW) == 0


def test_no_agent_logged_in_stops_dialing_at_once() -> None:
    for mode in ("progressive", "predictive"):
        assert calls_to_place(floor(mode, logged=0, free=0), history(), 0.03, NOW) == 0


def test_predictive_dials_progressively_until_the_rates_can_be_estimated() -> None:
    few = history(calls=MIN_SETTLED_CALLS - 1)
    assert calls_to_place(floor(free=3), few, 0.03, NOW) == 3


def test_predictive_dials_ahead_of_the_free_agents() -> None:
    placed = calls_to_place(floor(logged=30, free=3), history(calls=2000), 0.03, NOW)
    assert placed > 3


def test_a_busy_campaign_dials_ahead_though_its_latest_calls_span_a_minute() -> None:
    # 200 agents place calls by the dozen a second: the latest 200 calls span under a minute,
    # while the campaign's calls span far more than two handle times.
    dense = [
        SettledCall(NOW - timedelta(seconds=(3000 - n) * 0.3), n % 3 == 0, False, 12.0, None)
        for n in range(3000)
    ]
    dense = [replace(call, handle_s=120.0) if call.answered else call for call in dense]
    placed = calls_to_place(floor(logged=200, free=20), dense, 0.03, NOW)
    assert placed > 20


def test_a_zero_target_never_dials_ahead() -> None:
    assert calls_to_place(floor(logged=10, free=2), history(), 0.0, NOW) == 2


def test_the_campaigns_channel_cap_holds_in_every_mode() -> None:
    capped = FloorState("predictive", 200, 200, in_flight=8, max_channels=10)
    assert calls_to_place(capped, history(), 0.03, NOW) == 2


def test_abandons_over_the_target_slow_the_dialer_down() -> None:
    calm = calls_to_place(floor(logged=30, free=3), history(calls=2000), 0.03, NOW)
    dropping = calls_to_place(
        floor(logged=30, free=3), history(calls=2000, abandon_share=0.06), 0.03, NOW
    )
    assert dropping < calm


def test_the_loop_asks_less_of_the_model_once_the_window_is_over_target() -> None:
    over = history(abandon_share=0.1)
    assert allowed_abandon_share(abandon_count(over), over, 0.03) == pytest.approx(0.0075)
    under = history(calls=2000, abandon_share=0.0)
    assert allowed_abandon_share(abandon_count(under), under, 0.03) > 0.03


def test_a_window_over_target_counted_by_the_database_slows_the_dialer_too() -> None:
    latest_hour = history(calls=2000)
    calm = calls_to_place(floor(logged=30, free=3), latest_hour, 0.03, NOW)
    month = AbandonCount(answered=10_000, abandoned=320)
    held = calls_to_place(floor(logged=30, free=3), latest_hour, 0.03, NOW, in_window=month)
    assert held < calm


def test_the_abandon_rate_counts_answered_calls_within_the_rolling_window() -> None:
    old = SettledCall(NOW - timedelta(hours=30), True, True, 10.0, None)
    recent = [
        SettledCall(NOW - timedelta(hours=1), True, True, 10.0, None),
        SettledCall(NOW - timedelta(minutes=30), True, False, 10.0, 60.0),
        SettledCall(NOW - timedelta(minutes=20), False, False, 25.0, None),
    ]
    ofcom = abandon_count(within([old, *recent], NOW, timedelta(hours=24)))
    assert (ofcom.answered, ofcom.abandoned, ofcom.rate) == (2, 1, 0.5)
    us = abandon_count(within([old, *recent], NOW, timedelta(days=30)))
    assert (us.answered, us.abandoned) == (3, 2)
    assert abandon_count([]).rate is None


def test_simulated_predictive_campaigns_stay_under_the_target() -> None:
    for trace in traces(3600)[:3]:
        result = simulate(trace, OurPacing(), 3600, 0.03, seed=3)
        assert result.abandon_rate <= 0.03, trace.name
        assert result.answered > 100
