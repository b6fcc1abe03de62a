"""The live tracker behind the wallboard, fed AMI events shaped as Asterisk 22 sends them:
callers waiting, agents by state with the time in it, pause reasons, wrap-up, the IVR's menus
and AGI errors, the resync after a reconnect; malformed events change nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from supervisors.live import AgentState, LiveState

T0 = 1_790_000_000.0


def member(event: str, agent: str, queue: str = "support", **fields: str) -> dict[str, str]:
    return {
        "Event": event,
        "Queue": queue,
        "MemberName": f"Agent {agent}",
        "Interface": f"Local/{agent}@tamas-agents/n",
        "StateInterface": f"Local/{agent}@tamas-agents",
        "Status": "1",
        "Paused": "0",
        "InCall": "0",
        **fields,
    }


def caller(event: str, uniqueid: str, queue: str = "support", **fields: str) -> dict[str, str]:
    return {
        "Event": event,
        "Queue": queue,
        "Uniqueid": uniqueid,
        "Linkedid": uniqueid,
        "Channel": f"Local/s@tamas-caller-{uniqueid[-4:]};1",
        "CallerIDNum": "09121234567",
        "CallerIDName": "Rezaei",
        **fields,
    }


def agent_event(event: str, agent: str, uniqueid: str, **fields: str) -> dict[str, str]:
    return {
        **caller(event, uniqueid),
        "Interface": f"Local/{agent}@tamas-agents/n",
        "MemberName": f"Agent {agent}",
        "DestChannel": f"Local/{agent}@tamas-agents-0000000a;1",
        **fields,
    }


def staffed() -> LiveState:
    live = LiveState()
    for agent in ("101", "102"):
        live.feed(member("QueueMemberAdded", agent), T0)
    return live


def test_a_caller_waiting_shows_in_the_queue_with_the_longest_wait() -> None:
    live = staffed()
    live.feed(caller("QueueCallerJoin", "1790000000.1", Position="1", Count="1"), T0)
    live.feed(caller("QueueCallerJoin", "1790000000.2", Position="2", Count="2"), T0 + 10)
    queue = live.queue_json("support", T0 + 25)
    assert queue["calls_waiting"] == 2
    assert queue["longest_wait_s"] == 25
    assert [w["wait_s"] for w in queue["waiting"]] == [25, 15]
    live.feed(caller("QueueCallerAbandon", "1790000000.1", HoldTime="30"), T0 + 30)
    live.feed(caller("QueueCallerLeave", "1790000000.1"), T0 + 30)
    assert live.queue_json("support", T0 + 31)["longest_wait_s"] == 21


def test_agents_move_through_ringing_on_call_wrap_up_and_available() -> None:
    live = staffed()
    live.feed(member("QueueMemberStatus", "101", Wrapuptime="15"), T0)
    uid = "1790000000.5"
    live.feed(caller("QueueCallerJoin", uid), T0)
    live.feed(agent_event("AgentCalled", "101", uid), T0 + 1)
    live.feed(agent_event("AgentCalled", "102", uid), T0 + 1)
    assert live.queue_json("support", T0 + 1)["agents_ringing"] == 2
    live.feed(agent_event("AgentConnect", "101", uid, HoldTime="3", RingTime="2"), T0 + 3)
    live.feed(caller("QueueCallerLeave", uid), T0 + 3)  # ringall: 102 stops ringing
    queue = live.queue_json("support", T0 + 4)
    assert (queue["agents_on_call"], queue["agents_ringing"], queue["agents_available"]) == (
        1,
        0,
        1,
    )
    live.feed(agent_event("AgentComplete", "101", uid, TalkTime="42", HoldTime="3"), T0 + 45)
    agent = live.agents["local/101@tamas-agents"]
    assert agent.state is AgentState.WRAP_UP
    assert (agent.calls_taken, agent.talk_s) == (1, 42)
    assert live.tick(T0 + 61)
    assert agent.state is AgentState.AVAILABLE
    assert agent.since == T0 + 60  # the moment wrap-up ended, not when we looked


def test_a_paused_agent_shows_their_reason_and_time_paused() -> None:
    live = staffed()
    live.feed(member("QueueMemberPause", "102", Paused="1", PausedReason="lunch"), T0 + 5)
    queue = live.queue_json("support", T0 + 65)
    assert queue["agents_paused"] == 1
    assert queue["pause_reasons"] == {"lunch": 1}
    agent = live.agents["local/102@tamas-agents"].as_json(T0 + 65)
    assert (agent["state"], agent["pause_reason"], agent["state_s"]) == ("paused", "lunch", 60)
    live.feed(member("QueueMemberPause", "102", Paused="0"), T0 + 70)
    assert live.queue_json("support", T0 + 70)["pause_reasons"] == {}


def test_an_agent_logged_out_leaves_the_queue() -> None:
    live = staffed()
    live.feed(member("QueueMemberRemoved", "102"), T0)
    assert live.queue_json("support", T0)["agents_logged_in"] == 1
    assert "local/102@tamas-agents" not in live.agents


def test_an_agent_whose_phone_is_in_use_outside_the_queue_is_on_a_call() -> None:
    live = staffed()
    live.feed(member("QueueMemberStatus", "101", Status="2"), T0)  # a direct call
    assert live.queue_json("support", T0)["agents_on_call"] == 1
    live.feed(member("QueueMemberStatus", "101", Status="1"), T0 + 30)
    agent = live.agents["local/101@tamas-agents"]
    assert (agent.state, agent.since) == (AgentState.AVAILABLE, T0 + 30)


def test_an_unreachable_member_is_not_counted_as_logged_in() -> None:
    live = staffed()
    live.feed(member("QueueMemberStatus", "102", Status="5"), T0)
    queue = live.queue_json("support", T0)
    assert (queue["agents_logged_in"], queue["agents_available"]) == (1, 1)


def test_the_ivr_counts_calls_in_each_menu_and_agi_failures() -> None:
    live = LiveState()
    new_exten = {"Event": "Newexten", "Context": "tamas-ivr", "Exten": "200"}
    live.feed({**new_exten, "Uniqueid": "a", "Channel": "Local/s@x-1;1"}, T0)
    live.feed({**new_exten, "Uniqueid": "b", "Channel": "Local/s@x-2;1"}, T0)
    live.feed({"Event": "VarSet", "Variable": "TAMAS_MENU", "Value": "claims", "Uniqueid": "b"}, T0)
    live.feed(
        {"Event": "UserEvent", "UserEvent": "TamasMenu", "Menu": "debts", "Uniqueid": "c"}, T0
    )
    assert live.ivr_json(T0)["menus"] == {"claims": 1, "debts": 1, "main": 1}
    live.feed({"Event": "Newexten", "Context": "tamas-ivr-queue", "Uniqueid": "a"}, T0)
    live.feed({"Event": "Hangup", "Uniqueid": "c"}, T0)
    live.feed({"Event": "VarSet", "Variable": "AGISTATUS", "Value": "FAILURE", "Uniqueid": "d"}, T0)
    assert live.ivr_json(T0) == {
        "calls_in_ivr": 1,
        "menus": {"claims": 1},
        "agi_errors_today": 1,
    }


def test_counters_of_today_restart_at_midnight() -> None:
    days = {T0: date(2026, 12, 1), T0 + 100: date(2026, 12, 2)}
    live = LiveState(day_of=lambda at: days[at])
    live.feed(member("QueueMemberAdded", "101"), T0)
    live.feed(agent_event("AgentConnect", "101", "u1"), T0)
    live.feed(agent_event("AgentComplete", "101", "u1", TalkTime="30"), T0)
    live.feed({"Event": "VarSet", "Variable": "AGISTATUS", "Value": "FAILURE"}, T0)
    assert live.tick(T0 + 100)
    assert live.agents["local/101@tamas-agents"].calls_taken == 0
    assert live.agi_errors_today == 0


def test_resync_replaces_queues_members_and_waiting_callers_from_queue_status() -> None:
    live = staffed()
    live.feed(caller("QueueCallerJoin", "gone"), T0)  # its leave was lost in the reconnect
    live.feed(agent_event("AgentCalled", "101", "gone"), T0)
    status: list[dict[str, Any]] = [
        {"Event": "QueueParams", "Queue": "support", "Calls": "1"},
        {"Event": "QueueParams", "Queue": "priority", "Calls": "0"},
        {
            **member("QueueMember", "101"),
            "Name": "Agent 101",
            "Location": "Local/101@tamas-agents/n",
            "Paused": "1",
            "PausedReason": "training",
            "CallsTaken": "4",
        },
        member("QueueMember", "103", queue="priority", InCall="1", Status="2"),
        {
            "Event": "QueueEntry",
            "Queue": "support",
            "Position": "1",
            "Uniqueid": "new",
            "Channel": "Local/s@tamas-caller-0001;1",
            "CallerIDNum": "09351112222",
            "Wait": "40",
        },
        {"Event": "QueueSummary", "Queue": "support", "LoggedIn": "1"},
    ]
    live.resync(status, T0 + 100)
    assert live.queue_names() == ["priority", "support"]
    support = live.queue_json("support", T0 + 100)
    assert [w["uniqueid"] for w in support["waiting"]] == ["new"]
    assert support["longest_wait_s"] == 40
    assert support["agents"] == ["local/101@tamas-agents"]  # 102 is no longer a member
    assert support["pause_reasons"] == {"training": 1}
    assert live.agents["local/101@tamas-agents"].calls_taken == 4
    assert live.agents["local/103@tamas-agents"].state is AgentState.ON_CALL


def test_malformed_events_change_nothing_and_never_raise() -> None:
    live = staffed()
    before = live.queue_json("support", T0)
    for event in (
        None,
        "Event: QueueCallerJoin",
        {},
        {"Event": "QueueCallerJoin"},
        {"Event": "AgentComplete", "Interface": "Local/999@x/n"},
        {"Event": "QueueMemberStatus", "Queue": "support"},
        {"Event": "AgentComplete", "Interface": "Local/101@tamas-agents/n", "TalkTime": "abc"},
        {"Event": "QueueCallerJoin", "Queue": ["support"], "Uniqueid": 5},
        {"Event": 42},
    ):
        live.feed(event, T0)  # type: ignore[arg-type]
    after = live.queue_json("support", T0)
    assert after["calls_waiting"] == before["calls_waiting"] == 0
    assert live.agents["local/101@tamas-agents"].talk_s == 0
