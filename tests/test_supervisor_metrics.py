"""The metric dictionary (docs/metrics.md) on hand-written queue_log lines: no Asterisk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from supervisor_scenario import queue_log_events as lines

from supervisors.events import QueueEvent, parse_queue_log_line
from supervisors.metrics import (
    ALL_QUEUES,
    LOCAL_TRANSFER,
    CallEnd,
    Thresholds,
    abandoned_callers,
    agent_figures,
    queue_calls,
    queue_figures,
)

T0 = 1_796_090_000
START = datetime.fromtimestamp(T0 - 100, UTC)
END = START + timedelta(hours=2)
THRESHOLDS = Thresholds(service_level_s=20, short_abandon_s=5, wrap_up_s=10)


def at(offset_s: int) -> int:
    return T0 + offset_s


# A morning in the support queue: answered fast, answered late, abandoned, short abandon,
# a timeout, an exit by key, an empty exit.
MORNING = lines(
    f"{at(0)}|c1|support|NONE|ENTERQUEUE||09121111111|1",
    f"{at(5)}|c1|support|Agent 101|CONNECT|5|c1-agent|2",
    f"{at(65)}|c1|support|Agent 101|COMPLETECALLER|5|60|1",
    f"{at(10)}|c2|support|NONE|ENTERQUEUE||09122222222|1",
    f"{at(40)}|c2|support|Agent 102|CONNECT|30|c2-agent|3",
    f"{at(100)}|c2|support|Agent 102|COMPLETEAGENT|30|60|1",
    f"{at(20)}|c3|support|NONE|ENTERQUEUE||09123333333|2",
    f"{at(45)}|c3|support|NONE|ABANDON|2|2|25",
    f"{at(30)}|c4|support|NONE|ENTERQUEUE||09124444444|3",
    f"{at(32)}|c4|support|NONE|ABANDON|3|3|2",
    f"{at(50)}|c5|support|NONE|ENTERQUEUE||09125555555|1",
    f"{at(110)}|c5|support|NONE|EXITWITHTIMEOUT|1|1|60",
    f"{at(60)}|c6|support|NONE|ENTERQUEUE||09126666666|1",
    f"{at(70)}|c6|support|NONE|EXITWITHKEY|5|1|1|10",
    f"{at(80)}|c7|priority|NONE|ENTERQUEUE||09127777777|1",
    f"{at(81)}|c7|priority|NONE|EXITEMPTY|1|1|1",
)


def test_every_offered_call_is_counted_once_in_exactly_one_end() -> None:
    support = queue_figures(MORNING, START, END, THRESHOLDS)["support"]
    assert support.offered == 6
    assert (support.answered, support.abandoned, support.short_abandoned) == (2, 1, 1)
    assert (support.exit_timeout, support.exit_key, support.exit_empty) == (1, 1, 0)
    assert support.waiting == 0
    overall = queue_figures(MORNING, START, END, THRESHOLDS)[ALL_QUEUES]
    assert overall.offered == 7 and overall.exit_empty == 1


def test_service_level_counts_answers_within_the_queue_threshold_over_offered() -> None:
    support = queue_figures(MORNING, START, END, THRESHOLDS)["support"]
    # c1 answered after 5 s (within 20), c2 after 30 s (not): 1 of 6 offered.
    assert support.answered_within_sl == 1
    assert support.service_level == pytest.approx(1 / 6)
    # Without the short abandon in the denominator: 1 of 5.
    assert support.service_level_without_short == pytest.approx(1 / 5)
    per_queue = Thresholds(service_level_s=20, per_queue_service_level_s={"support": 30})
    assert queue_figures(MORNING, START, END, per_queue)["support"].answered_within_sl == 2


def test_asa_aht_longest_wait_and_abandon_rate() -> None:
    support = queue_figures(MORNING, START, END, THRESHOLDS)["support"]
    assert support.asa_s == pytest.approx((5 + 30) / 2)
    # talk 60 + 60, plus 10 s of wrap-up after each answered call
    assert support.aht_s == pytest.approx((60 + 60 + 20) / 2)
    assert support.longest_wait_s == 60  # the caller who timed out
    # One (long) abandon over the 5 calls that were not short abandons.
    assert support.abandon_rate == pytest.approx(1 / 5)


def test_short_abandon_is_counted_apart_and_listed_only_when_asked() -> None:
    listed = abandoned_callers(MORNING, START, END, THRESHOLDS)
    assert [(c.caller_number, c.wait_s) for c in listed] == [("09123333333", 25)]
    both = abandoned_callers(MORNING, START, END, THRESHOLDS, include_short=True)
    assert [c.short for c in both] == [False, True]


def test_a_call_still_waiting_is_offered_but_has_no_verdict_yet() -> None:
    waiting = [
        *MORNING,
        *lines(f"{at(200)}|c8|support|NONE|ENTERQUEUE||09128888888|1"),
    ]
    support = queue_figures(waiting, START, END, THRESHOLDS)["support"]
    assert (support.offered, support.waiting) == (7, 1)
    assert support.service_level == pytest.approx(1 / 6)


def test_a_call_belongs_to_the_interval_it_entered_even_when_answered_after() -> None:
    boundary = datetime.fromtimestamp(at(20), UTC)
    before = queue_figures(MORNING, START, boundary, THRESHOLDS)["support"]
    after = queue_figures(MORNING, boundary, END, THRESHOLDS)["support"]
    assert (before.offered, after.offered) == (2, 4)
    assert before.answered == 2


def test_asterisk_restart_ends_a_waiting_call_as_lost_and_a_talk_at_the_restart() -> None:
    events = lines(
        f"{at(0)}|c1|support|NONE|ENTERQUEUE||0912|1",
        f"{at(0)}|c2|support|NONE|ENTERQUEUE||0913|2",
        f"{at(4)}|c2|support|Agent 101|CONNECT|4|x|1",
        f"{at(30)}|NONE|NONE|NONE|QUEUESTART|",
    )
    calls = {call.callid: call for call in queue_calls(events)}
    assert calls["c1"].end is CallEnd.LOST and calls["c1"].wait_s == 30
    assert calls["c2"].end is CallEnd.ANSWERED and calls["c2"].talk_s == 26
    assert queue_figures(events, START, END, THRESHOLDS)["support"].lost == 1


def test_the_same_events_given_twice_count_once() -> None:
    twice = queue_figures([*MORNING, *MORNING], START, END, THRESHOLDS)
    assert twice == queue_figures(MORNING, START, END, THRESHOLDS)


def test_identical_lines_one_after_another_are_distinct_events() -> None:
    ring = f"{at(3)}|c1|support|Agent 102|RINGNOANSWER|1000"
    events = lines(ring, ring)
    assert events[0].key != events[1].key
    assert agent_figures(events, START, END, THRESHOLDS)["Agent 102"].ring_no_answer == 2


def test_transfer_through_a_local_channel_credits_each_agent_with_their_own_talk() -> None:
    # Agent 101 talks 2 minutes, then transfers (seen in CEL: the caller stays bridged to the
    # Local channel, so queue_log later credits 101 with the whole hour).
    connect = datetime.fromtimestamp(at(10), UTC)
    events = [
        *lines(
            f"{at(0)}|c1|support|NONE|ENTERQUEUE||0912|1",
            f"{at(10)}|c1|support|Agent 101|CONNECT|10|x|1",
            f"{at(3610)}|c1|support|Agent 101|COMPLETEAGENT|10|3600|1",
        ),
        QueueEvent(
            at=connect + timedelta(seconds=120),
            callid="c1",
            queue="support",
            agent="Agent 101",
            event=LOCAL_TRANSFER,
            data=("blind", "Agent 102"),
            source="cel",
        ),
    ]
    agents = agent_figures(events, START, END, THRESHOLDS)
    assert agents["Agent 101"].talk_s == 120
    assert agents["Agent 101"].transfers_blind == 1
    assert agents["Agent 102"].talk_s == 3480
    assert (agents["Agent 101"].calls_taken, agents["Agent 102"].calls_received_by_transfer) == (
        1,
        1,
    )
    support = queue_figures(events, START, END, THRESHOLDS)["support"]
    assert (support.answered, support.transfers_blind, support.talk_s) == (1, 1, 3600)


def test_queue_log_transfer_ends_the_agents_talk() -> None:
    events = lines(
        f"{at(0)}|c1|support|NONE|ENTERQUEUE||0912|1",
        f"{at(8)}|c1|support|Agent 101|CONNECT|8|x|1",
        f"{at(98)}|c1|support|Agent 101|ATTENDEDTRANSFER|BRIDGE|b1|8|90|1",
    )
    agents = agent_figures(events, START, END, THRESHOLDS)
    assert agents["Agent 101"].transfers_attended == 1 and agents["Agent 101"].talk_s == 90
    assert queue_figures(events, START, END, THRESHOLDS)["support"].transfers_attended == 1


def test_occupancy_is_handle_time_over_time_logged_in_and_not_paused() -> None:
    events = lines(
        f"{at(0)}|NONE|support|Agent 101|ADDMEMBER|",
        f"{at(100)}|c1|support|NONE|ENTERQUEUE||0912|1",
        f"{at(100)}|c1|support|Agent 101|CONNECT|0|x|1",
        f"{at(400)}|c1|support|Agent 101|COMPLETECALLER|0|300|1",
        f"{at(1000)}|NONE|support|Agent 101|PAUSE|lunch",
        f"{at(1600)}|NONE|support|Agent 101|UNPAUSE|",
        f"{at(2000)}|NONE|support|Agent 101|REMOVEMEMBER|",
    )
    agent = agent_figures(events, START, END, THRESHOLDS)["Agent 101"]
    assert (agent.logged_in_s, agent.paused_s) == (2000, 600)
    assert agent.occupancy == pytest.approx((300 + 10) / 1400)


def test_a_bad_line_is_refused_with_what_is_wrong() -> None:
    from supervisors.events import BadLine

    with pytest.raises(BadLine, match="fields"):
        parse_queue_log_line("1796090000|c1|support")
    with pytest.raises(BadLine, match="bad time"):
        parse_queue_log_line("soon|c1|support|NONE|ENTERQUEUE")
