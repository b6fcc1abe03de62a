"""Retries by outcome with back-off and a maximum, and the bounds on calling one person that
hold across every campaign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.retries import CallingBounds, PersonHistory, Refusal, RetryPolicy
from interactions.outcomes import Outcome

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def test_a_busy_line_is_tried_again_sooner_than_an_unanswered_one() -> None:
    policy = RetryPolicy()
    busy = policy.next_try(Outcome.BUSY, 1, NOW)
    no_answer = policy.next_try(Outcome.NO_ANSWER, 1, NOW)
    assert busy is not None and no_answer is not None
    assert NOW < busy < no_answer


def test_each_retry_waits_longer_by_the_factor() -> None:
    policy = RetryPolicy(max_attempts=4, waits={Outcome.NO_ANSWER: timedelta(minutes=10)}, factor=3)
    assert policy.next_try(Outcome.NO_ANSWER, 1, NOW) == NOW + timedelta(minutes=10)
    assert policy.next_try(Outcome.NO_ANSWER, 2, NOW) == NOW + timedelta(minutes=30)
    assert policy.next_try(Outcome.NO_ANSWER, 3, NOW) == NOW + timedelta(minutes=90)


def test_no_retry_after_the_maximum_of_attempts() -> None:
    policy = RetryPolicy(max_attempts=2)
    assert policy.next_try(Outcome.BUSY, 1, NOW) is not None
    assert policy.next_try(Outcome.BUSY, 2, NOW) is None


@pytest.mark.parametrize(
    "outcome",
    [
        Outcome.MESSAGE_PLAYED,
        Outcome.TO_AGENT,
        Outcome.OPTED_OUT,
        Outcome.ABANDONED,
        Outcome.CALLBACK_REQUESTED,
        Outcome.HUNG_UP,
    ],
)
def test_a_person_who_answered_is_not_called_again_by_the_campaign(outcome: Outcome) -> None:
    assert RetryPolicy(max_attempts=10).next_try(outcome, 1, NOW) is None


def test_a_number_on_the_do_not_call_list_is_never_called() -> None:
    refusal = CallingBounds().refusal(PersonHistory(do_not_call=True), NOW, predictive=False)
    assert refusal == (Refusal.DO_NOT_CALL, None)


def test_a_person_in_a_call_of_another_campaign_is_not_called_at_once() -> None:
    refusal = CallingBounds().refusal(PersonHistory(in_flight=True), NOW, predictive=False)
    assert refusal is not None and refusal[0] is Refusal.IN_ANOTHER_CALL


def test_no_person_is_called_twice_within_the_minimum_gap() -> None:
    bounds = CallingBounds(min_gap=timedelta(hours=4))
    history = PersonHistory(last_call_ended_at=NOW - timedelta(hours=1))
    assert bounds.refusal(history, NOW, predictive=False) == (
        Refusal.CALLED_RECENTLY,
        NOW + timedelta(hours=3),
    )
    assert bounds.refusal(history, NOW + timedelta(hours=3), predictive=False) is None


def test_no_predictive_call_within_72_hours_of_an_abandoned_one() -> None:
    bounds = CallingBounds(min_gap=timedelta(hours=1))
    history = PersonHistory(
        last_call_ended_at=NOW - timedelta(hours=2), last_abandoned_at=NOW - timedelta(hours=2)
    )
    assert bounds.refusal(history, NOW, predictive=True) == (
        Refusal.ABANDONED_RECENTLY,
        NOW + timedelta(hours=70),
    )
    # A progressive call has an agent waiting: the 72 h rule is for predictive dialing.
    assert bounds.refusal(history, NOW, predictive=False) is None
