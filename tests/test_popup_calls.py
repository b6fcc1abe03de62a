"""The call tracker, fed AMI events as Asterisk 22 sends them (no Asterisk needed)."""

from __future__ import annotations

from typing import Any

import pytest

from popup_server.calls import CallTracker, LegState, agent_lookup, device_of

LINKEDID = "1700000000.11"
CALLER = "Local/s@tamas-caller-0000000a;1"
AGENT_101 = "Local/101@tamas-agents-0000000c;1"
AGENT_102 = "Local/102@tamas-agents-0000000e;1"


def tracker() -> CallTracker:
    return CallTracker(
        agent_lookup(
            {
                "Local/101@tamas-agents": "101",
                "Local/102@tamas-agents/n": "102",
                "PJSIP/103": "103",
            }
        )
    )


def event(name: str, **fields: Any) -> dict[str, Any]:
    base = {
        "Event": name,
        "Channel": CALLER,
        "Uniqueid": LINKEDID,
        "Linkedid": LINKEDID,
        "CallerIDNum": "09121234567",
        "CallerIDName": "علی رضایی",
    }
    base.update(fields)
    return base


def agent_called(dest: str, member: str) -> dict[str, Any]:
    return event("AgentCalled", DestChannel=dest, Interface=member, Queue="support")


def states(changes: list[Any]) -> list[tuple[str, str]]:
    return [(change.agent, change.leg.state.value) for change in changes]


def test_device_names_are_read_from_channels_and_member_interfaces() -> None:
    assert device_of("Local/101@tamas-agents-0000000c;1") == "local/101@tamas-agents"
    assert device_of("Local/101@tamas-agents/n") == "local/101@tamas-agents"
    assert device_of("PJSIP/103-0000001f") == "pjsip/103"
    assert device_of("PJSIP/103") == "pjsip/103"


def test_queue_call_rings_every_member_then_one_answers() -> None:
    calls = tracker()
    ringing = calls.feed(agent_called(AGENT_101, "Local/101@tamas-agents/n"), at=1.0)
    ringing += calls.feed(agent_called(AGENT_102, "Local/102@tamas-agents/n"), at=1.0)
    assert states(ringing) == [("101", "ringing"), ("102", "ringing")]
    assert all(change.first for change in ringing)
    call = ringing[0].call
    assert (call.caller_number, call.caller_name, call.queue) == (
        "09121234567",
        "علی رضایی",
        "support",
    )

    answered = calls.feed(
        event("AgentConnect", DestChannel=AGENT_102, Interface="Local/102@tamas-agents/n"), 2.0
    )
    cancelled = calls.feed(event("DialEnd", DestChannel=AGENT_101, DialStatus="CANCEL"), 2.0)
    assert states(answered) == [("102", "answered")]
    assert not answered[0].first
    assert states(cancelled) == [("101", "missed")]
    assert calls.live_calls_for("102")[0][1].state is LegState.ANSWERED
    assert calls.live_calls_for("101") == []

    ended = calls.feed(event("Hangup"), 9.0)
    assert states(ended) == [("102", "ended")]
    assert calls.calls == {}


def test_dial_begin_after_agent_called_is_not_a_second_ring() -> None:
    calls = tracker()
    assert len(calls.feed(agent_called(AGENT_101, "Local/101@tamas-agents/n"), 1.0)) == 1
    assert calls.feed(event("DialBegin", DestChannel=AGENT_101), 1.0) == []


def test_direct_call_to_a_phone_rings_and_is_answered_by_bridge_enter() -> None:
    calls = tracker()
    phone = "PJSIP/103-00000011"
    assert states(calls.feed(event("DialBegin", DestChannel=phone), 1.0)) == [("103", "ringing")]
    assert states(calls.feed(event("BridgeEnter", Channel=phone, Uniqueid="x.2"), 2.0)) == [
        ("103", "answered")
    ]


def test_caller_hanging_up_while_ringing_leaves_a_missed_call() -> None:
    calls = tracker()
    calls.feed(agent_called(AGENT_101, "Local/101@tamas-agents/n"), 1.0)
    assert states(calls.feed(event("QueueCallerAbandon"), 3.0)) == []
    assert states(calls.feed(event("Hangup"), 3.0)) == [("101", "missed")]


def test_ring_no_answer_stops_only_that_agent() -> None:
    calls = tracker()
    calls.feed(agent_called(AGENT_101, "Local/101@tamas-agents/n"), 1.0)
    calls.feed(agent_called(AGENT_102, "Local/102@tamas-agents/n"), 1.0)
    changes = calls.feed(
        event("AgentRingNoAnswer", DestChannel=AGENT_101, Interface="Local/101@tamas-agents/n"),
        16.0,
    )
    assert states(changes) == [("101", "missed")]
    assert calls.live_calls_for("102")


def test_transfer_ends_first_agent_as_transferred_and_tells_the_next_who_it_came_from() -> None:
    calls = tracker()
    calls.feed(agent_called(AGENT_101, "Local/101@tamas-agents/n"), 1.0)
    calls.feed(event("AgentConnect", DestChannel=AGENT_101), 2.0)
    calls.note_transfer(LINKEDID, "101")
    left = calls.feed(event("Hangup", Channel=AGENT_101, Uniqueid="1700000000.13"), 5.0)
    assert states(left) == [("101", "transferred")]
    offered = calls.feed(event("DialBegin", DestChannel=AGENT_102), 5.1)
    assert states(offered) == [("102", "ringing")]
    assert offered[0].call.transferred_from == "101"


def test_a_transfer_from_the_phone_itself_is_recognised() -> None:
    calls = tracker()
    calls.feed(agent_called(AGENT_101, "Local/101@tamas-agents/n"), 1.0)
    calls.feed(event("AgentConnect", DestChannel=AGENT_101), 2.0)
    calls.feed(event("BlindTransfer", TransfererChannel=AGENT_101, TransfererLinkedid=LINKEDID), 3)
    assert states(calls.feed(event("Hangup", Channel=AGENT_101, Uniqueid="y"), 3.5)) == [
        ("101", "transferred")
    ]


def test_every_change_has_a_larger_sequence_number_than_the_last() -> None:
    calls = tracker()
    first = calls.feed(agent_called(AGENT_101, "Local/101@tamas-agents/n"), 1.0)
    second = calls.feed(event("AgentConnect", DestChannel=AGENT_101), 2.0)
    third = calls.feed(event("Hangup"), 3.0)
    assert first[0].leg.seq < second[0].leg.seq < third[0].leg.seq
    # The change carries a snapshot: later events do not rewrite what was reported.
    assert first[0].call.legs["101"].state is LegState.RINGING


def test_channels_of_people_who_are_not_agents_are_ignored() -> None:
    calls = tracker()
    assert calls.feed(event("DialBegin", DestChannel="PJSIP/999-00000001"), 1.0) == []
    assert calls.calls == {}


@pytest.mark.parametrize(
    "junk",
    [
        {},
        {"Event": "AgentCalled"},
        {"Event": "AgentCalled", "Linkedid": LINKEDID},
        {"Event": "AgentCalled", "DestChannel": AGENT_101},
        {"Event": "AgentCalled", "DestChannel": ["not", "text"], "Linkedid": LINKEDID},
        {"Event": None},
        {"event": "Hangup", "Linkedid": 42},
        {"Event": "AgentConnect", "Linkedid": "unknown.1", "DestChannel": AGENT_101},
        {"Event": "DialEnd", "DialStatus": "ANSWER"},
        {1: 2, "Event": "BridgeEnter"},
    ],
)
def test_malformed_events_change_nothing(junk: dict[Any, Any]) -> None:
    calls = tracker()
    assert calls.feed(junk, 1.0) == []
    assert calls.calls == {}


def test_a_hangup_without_uniqueid_or_channel_ends_nothing() -> None:
    calls = tracker()
    calls.feed(agent_called(AGENT_101, "Local/101@tamas-agents/n"), 1.0)
    assert calls.feed({"Event": "Hangup", "Linkedid": LINKEDID}, 2.0) == []
    assert calls.live_calls_for("101")


def test_non_mapping_event_is_ignored() -> None:
    assert tracker().feed("Event: Hangup", 1.0) == []  # type: ignore[arg-type]


def test_field_names_are_read_case_insensitively() -> None:
    calls = tracker()
    changes = calls.feed(
        {"event": "agentcalled", "LINKEDID": LINKEDID, "destchannel": AGENT_101}, 1.0
    )
    assert states(changes) == [("101", "ringing")]


def test_resync_after_reconnect_ends_vanished_calls_and_finds_new_ones() -> None:
    calls = tracker()
    calls.feed(agent_called(AGENT_101, "Local/101@tamas-agents/n"), 1.0)  # will vanish
    other = "1700000000.50"
    snapshot = [
        {"Channel": CALLER, "Linkedid": other, "ChannelStateDesc": "Up"},
        {
            "Channel": AGENT_102,
            "Linkedid": other,
            "ChannelState": "6",
            "ChannelStateDesc": "Up",
            "ConnectedLineNum": "+79161234567",
            "ConnectedLineName": "Иван Петров",
        },
        {"Channel": "Local/103@x-00000001;1", "Linkedid": ""},  # junk rows are skipped
        "not a row",
    ]
    changes = calls.resync(snapshot, 30.0)  # type: ignore[arg-type]
    assert sorted(states(changes)) == [("101", "missed"), ("102", "answered")]
    assert [c.first for c in changes if c.agent == "102"] == [True]  # 102 gets a whole card
    call = calls.calls[other]
    assert (call.caller_number, call.caller_name) == ("+79161234567", "Иван Петров")
    # A second resync with the same picture changes nothing.
    assert calls.resync(snapshot, 31.0) == []  # type: ignore[arg-type]


def test_resync_turns_a_ringing_call_into_answered() -> None:
    calls = tracker()
    calls.feed(agent_called(AGENT_101, "Local/101@tamas-agents/n"), 1.0)
    rows = [{"Channel": AGENT_101, "Linkedid": LINKEDID, "ChannelStateDesc": "Up"}]
    assert states(calls.resync(rows, 5.0)) == [("101", "answered")]


def test_sweep_ends_calls_whose_hang_up_was_never_heard() -> None:
    calls = tracker()
    calls.feed(agent_called(AGENT_101, "Local/101@tamas-agents/n"), 1.0)
    assert calls.sweep(now=100.0, max_age_s=3600) == []
    assert states(calls.sweep(now=4000.0, max_age_s=3600)) == [("101", "missed")]
