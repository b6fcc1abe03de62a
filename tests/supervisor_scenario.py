"""Queue scenarios for the supervisors' tests: queue_log lines turned into events, and (for
the wallboard's and the reports' tests alike) real calls into the sandbox's queues."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from panoramisk.message import Message

from supervisors.events import QueueEvent, parse_queue_log_line
from tamas.asterisk.ami import AmiClient
from tamas.asterisk.config import SCENARIO_AGENTS, SCENARIO_QUEUE
from tamas.settings import Settings


def queue_log_events(*text: str) -> list[QueueEvent]:
    """Events of queue_log lines, identical lines in a row numbered as the ingester does."""
    events = []
    previous, repeat = "", 0
    for line in text:
        repeat = repeat + 1 if line == previous else 0
        previous = line
        events.append(parse_queue_log_line(line, repeat))
    return events


# ---------------------------------------------------------------- the sandbox scenario

REPOSITORY = Path(__file__).resolve().parents[1]

# tamas/asterisk/config.py gives the sandbox a queue of its own for this scenario, with two
# Local-channel agents answering after 1 s and talking 5 s (dialplans/agents.conf).
QUEUE = SCENARIO_QUEUE
AGENT_SERVING, AGENT_PAUSED = (f"Agent {number}" for number in SCENARIO_AGENTS)
PAUSE_REASON = "training"
# What the scenario's service level is measured against (its waits are about 9 to 25 s).
SERVICE_LEVEL_S = 12


def interface(agent_number: str) -> str:
    return f"Local/{agent_number}@tamas-agents/n"


@dataclass(frozen=True)
class ScenarioCall:
    name: str
    callid: str
    number: str
    # metrics.CallEnd value the scenario means this call to end with.
    end: str
    short: bool = False


@dataclass
class Scenario:
    """What `run_scenario` did: its calls (callid = the queue_log callid), when it ran."""

    started_at: datetime
    ended_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    calls: list[ScenarioCall] = field(default_factory=list)
    transferred_callid: str = ""

    def count(self, end: str, short: bool = False) -> int:
        return sum(1 for call in self.calls if call.end == end and call.short == short)


def _callid() -> str:
    # Fixed width: Asterisk refuses a ChannelId that prefixes a live channel's id.
    return f"sv-{uuid.uuid4().hex[:20]}"


async def _pause(ami: AmiClient, agent_number: str, paused: bool, reason: str = "") -> None:
    action = {
        "Action": "QueuePause",
        "Queue": QUEUE,
        "Interface": interface(agent_number),
        "Paused": "true" if paused else "false",
    }
    if reason:
        action["Reason"] = reason
    reply = await ami.send_action(action)
    assert reply.success, reply.message


async def _agent_channel(ami: AmiClient, agent_number: str) -> str:
    """The queue's side of the agent's Local channel in a call (when AgentConnect was lost)."""
    reply = await ami.send_action({"Action": "CoreShowChannels"})
    for event in reply.events:
        channel = str(event.get("Channel", ""))
        if channel.startswith(f"Local/{agent_number}@tamas-agents-") and channel.endswith(";1"):
            return channel
    raise AssertionError(f"agent {agent_number} has no channel in a call")


async def run_scenario(
    settings: Settings,
    during: Callable[[str], Awaitable[None]] | None = None,
) -> Scenario:
    """Real calls into the sandbox's scenario queue, about 35 s: 8 offered; agent 192 paused
    (reason "training") throughout, 191 paused until the queue has 7 callers; 1 short abandon
    (about 2 s), 2 abandons (about 6 and 8 s), 1 exit by timeout (4 s), 3 answered after
    waits of about 10 to 25 s, the first blind-transferred by its agent, and 1 answered fast
    at the end. `during(step)` is awaited at each step ("start" before the first action,
    "queued", "unpaused", "transferred", "answered", "done" after the last line is written),
    e.g. to look at the wallboard or kill an ingester. Scenarios take turns on the sandbox: no
    other one runs between "start" and the end of "done"."""
    async with _one_scenario_at_a_time(settings):
        return await _run(settings, during)


@contextlib.asynccontextmanager
async def _one_scenario_at_a_time(settings: Settings) -> AsyncIterator[None]:
    """The sandbox is shared by every test process: two scenarios at once would put both
    into the one queue. A file lock makes them take turns (held until "done" is handled)."""
    path = settings.sandbox_dir.resolve() / "supervisor-scenario.lock"
    with path.open("a") as handle:
        await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


async def _run(settings: Settings, during: Callable[[str], Awaitable[None]] | None) -> Scenario:
    ami = AmiClient.from_settings(settings, name="supervisor-scenario")
    await ami.connect()
    connected: dict[str, str] = {}

    def on_connect(event: Message) -> None:
        if event.get("Queue") == QUEUE:
            connected[str(event.get("Uniqueid"))] = str(event.get("DestChannel"))

    # Ends are read from the queue_log itself: an AMI reconnect (another test reloading the
    # sandbox) can lose events, never the file's lines.
    queue_log = settings.sandbox_dir.resolve() / "root/var/log/asterisk/queue_log"
    start_offset = queue_log.stat().st_size

    def logged(*events: str) -> set[str]:
        with queue_log.open(encoding="utf-8", errors="replace") as handle:
            handle.seek(start_offset)
            return {
                parts[1]
                for parts in (line.split("|") for line in handle)
                if len(parts) > 4 and parts[4] in events
            }

    def completed() -> set[str]:
        return logged("COMPLETEAGENT", "COMPLETECALLER")

    def answered() -> set[str]:
        return logged("CONNECT")

    ami.on_event("AgentConnect", on_connect)
    serving, resting = SCENARIO_AGENTS
    scenario = Scenario(started_at=datetime.now(UTC).replace(microsecond=0))

    async def step(name: str) -> None:
        if during is not None:
            await during(name)

    async def call(
        name: str, end: str, hold_s: int, timeout_s: int = 120, short: bool = False
    ) -> str:
        callid = _callid()
        number = f"0912{len(scenario.calls):03d}{uuid.uuid4().int % 10_000:04d}"
        await ami.originate(
            "Local/s@tamas-caller",
            application="Queue",
            data=f"{QUEUE},t,,,{timeout_s}",
            caller_id=f'"Scenario {name}" <{number}>',
            variables={"TAMAS_HOLD_S": str(hold_s)},
            channel_id=callid,
            other_channel_id=f"{callid}-c",
            timeout_ms=10_000,
        )
        scenario.calls.append(ScenarioCall(name, callid, number, end, short))
        return callid

    async def until(check: Callable[[], bool], timeout_s: float = 60.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not check():
            assert asyncio.get_running_loop().time() < deadline, "the scenario's calls stalled"
            await asyncio.sleep(0.1)

    try:
        await step("start")
        await _pause(ami, resting, True, PAUSE_REASON)
        await _pause(ami, serving, True, "briefing")
        first = await call("answered-1", "answered", hold_s=60)
        second = await call("answered-2", "answered", hold_s=60)
        third = await call("answered-3", "answered", hold_s=60)
        # The caller leg waits 1 s before its hold: it hangs up about hold + 1 s after joining.
        await call("short-abandon", "abandoned", hold_s=1, short=True)
        await call("abandon-6s", "abandoned", hold_s=5)
        await call("abandon-8s", "abandoned", hold_s=7)
        await call("timeout", "timeout", hold_s=60, timeout_s=4)
        await step("queued")
        await asyncio.sleep(9)
        await _pause(ami, serving, False)
        await step("unpaused")
        await until(lambda: first in connected or first in answered())
        await asyncio.sleep(1.5)
        reply = await ami.send_action(
            {
                "Action": "BlindTransfer",
                "Channel": connected.get(first) or await _agent_channel(ami, serving),
                "Context": "tamas-agents",
                "Exten": resting,
            }
        )
        assert reply.success, reply.message
        scenario.transferred_callid = first
        await step("transferred")
        await until(lambda: {second, third} <= completed())
        await step("answered")
        last = await call("answered-fast", "answered", hold_s=30)
        await until(lambda: last in completed())
        await asyncio.sleep(1)
    finally:
        await _pause(ami, serving, False)
        await _pause(ami, resting, False)
        await ami.close()
    scenario.ended_at = datetime.now(UTC)
    await step("done")
    return scenario


def tamas_report(database_url: str, *args: str, **settings: str) -> Any:
    """`tamas report ... --json` on this database as a separate process, with settings given
    as TAMAS_* environment variables (`report_service_levels="scenario=12"`)."""
    env = {**os.environ, "TAMAS_DATABASE_URL": database_url}
    env.update({f"TAMAS_{name.upper()}": value for name, value in settings.items()})
    done = subprocess.run(
        [sys.executable, "-m", "tamas.cli", "report", *args, "--json"],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
