"""A claimed target is called now, later from a stated moment, or never: the calling window
and the bounds across campaigns decide together, on a clock the test sets."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialer import kinds
from dialer.eligibility import OUTSIDE_WINDOW, decide
from dialer.retries import CallingBounds, PersonHistory
from dialer.windows import CallingWindow

TEHRAN = ZoneInfo("Asia/Tehran")
KINDS = kinds.load()
WINDOW = CallingWindow(start=time(9), end=time(20), holidays_of=lambda country: frozenset())
RENEWAL = replace(KINDS["renewal_due"], window=WINDOW)  # progressive
OFFER = replace(KINDS["marketing_offer"], window=WINDOW)  # predictive
PHONE = "+989121234567"
SATURDAY_TEN = datetime(2026, 12, 5, 10, tzinfo=TEHRAN)


def test_a_free_person_inside_the_window_is_called_now() -> None:
    decision = decide(RENEWAL, PHONE, PersonHistory(), SATURDAY_TEN)
    assert decision.now(SATURDAY_TEN) and decision.reason is None


def test_outside_the_window_the_call_waits_for_its_opening() -> None:
    friday = datetime(2026, 12, 4, 10, tzinfo=TEHRAN)
    decision = decide(RENEWAL, PHONE, PersonHistory(), friday)
    assert decision.at == datetime(2026, 12, 5, 9, tzinfo=TEHRAN)
    assert decision.reason == OUTSIDE_WINDOW and not decision.now(friday)


def test_a_number_on_the_do_not_call_list_is_never_called() -> None:
    decision = decide(RENEWAL, PHONE, PersonHistory(do_not_call=True), SATURDAY_TEN)
    assert (decision.at, decision.reason) == (None, "do_not_call")


def test_a_wait_that_ends_after_the_window_closes_moves_to_the_next_opening() -> None:
    evening = datetime(2026, 12, 5, 19, tzinfo=TEHRAN)
    history = PersonHistory(last_call_ended_at=evening - timedelta(hours=1))
    decision = decide(RENEWAL, PHONE, history, evening, CallingBounds(min_gap=timedelta(hours=4)))
    assert decision.at == datetime.combine(date(2026, 12, 6), time(9), TEHRAN)
    assert decision.reason == "called_recently"


def test_only_a_predictive_campaign_waits_72_hours_after_an_abandoned_call() -> None:
    history = PersonHistory(
        last_call_ended_at=SATURDAY_TEN - timedelta(days=1),
        last_abandoned_at=SATURDAY_TEN - timedelta(days=1),
    )
    assert decide(RENEWAL, PHONE, history, SATURDAY_TEN).now(SATURDAY_TEN)
    predictive = decide(OFFER, PHONE, history, SATURDAY_TEN)
    assert predictive.reason == "abandoned_recently"
    assert predictive.at == SATURDAY_TEN + timedelta(days=2)


def test_the_targets_own_time_zone_decides_for_an_ambiguous_russian_mobile() -> None:
    kind = replace(RENEWAL, window=replace(WINDOW, weekdays=frozenset(range(7))))
    moscow_noon = datetime(2026, 12, 7, 12, tzinfo=ZoneInfo("Europe/Moscow"))
    mobile = "+79161234567"
    assert not decide(kind, mobile, PersonHistory(), moscow_noon).now(moscow_noon)
    known = decide(kind, mobile, PersonHistory(), moscow_noon, time_zone="Europe/Moscow")
    assert known.now(moscow_noon)
