"""A load generator that plays Asterisk's side of FastAGI, to measure the server alone.

Each session connects to the FastAGI server, sends the `agi_*` headers Asterisk sends, then
answers every command the server writes with the line Asterisk would give (`200 result=...`),
pressing the caller's keys when the IVR listens (GET DATA, WAIT FOR DIGIT). Commands that
play or listen are answered after a short, jittered delay (a prompt being played, a caller
typing), so that N concurrent sessions look like N calls rather than N tight loops.

The figure it measures is the server's own time per command: from the moment our answer is
handed to the kernel to the kernel's receive stamp on the server's next command
(SO_TIMESTAMPNS), so the generator's own scheduling is not counted as the server's.

    report = await run_load(LoadPlan(CallerScript("bench-trivial", keys="1234567"), 500, 15))
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import random
import re
import socket
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Commands that play audio or wait for the caller, and how long a real call spends in each
# (seconds, before jitter and the plan's pace), taken from calls through the sandbox: a
# prompt or number fragment, a caller keying a 7-digit code after a second of prompt
# (SendDTMF: 150 ms tone, 250 ms gap), the time between two keys, a short recording. With
# these, 500 calls at once on the trivial handler is about 140 calls/s, the baseline.
MEDIA_DELAY_S = {
    "STREAM FILE": 1.0,
    "CONTROL STREAM FILE": 1.0,
    "GET DATA": 3.5,
    "GET OPTION": 1.0,
    "WAIT FOR DIGIT": 0.4,
    "RECORD FILE": 5.0,
    "SAY": 1.0,
}
# A session that runs longer than this is counted as failed and closed.
SESSION_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class CallerScript:
    """One kind of call: the route, its AGI arguments, the caller and the keys they press.

    `keys` are handed out in order whenever the IVR listens; once they run out the caller
    stays silent (timeouts). `expect` names a variable the route must set for the session to
    count as right (e.g. the trivial handler sets BENCH_RESULT=ok when it got the digits)."""

    script: str
    args: tuple[str, ...] = ()
    caller_number: str = "+989121234567"
    extension: str = "201"
    keys: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)
    expect: tuple[str, str] | None = None

    def headers(self, linkedid: str, port: int) -> bytes:
        """The header block Asterisk 22 sends when it opens a FastAGI session."""
        lines = {
            "agi_network": "yes",
            "agi_network_script": self.script,
            "agi_request": f"agi://127.0.0.1:{port}/{self.script}",
            "agi_channel": f"Local/s@bench-{linkedid};1",
            "agi_language": "en",
            "agi_type": "Local",
            "agi_uniqueid": linkedid,
            "agi_version": "22.0.0",
            "agi_callerid": self.caller_number,
            "agi_calleridname": "unknown",
            "agi_callingpres": "0",
            "agi_callingani2": "0",
            "agi_callington": "0",
            "agi_callingtns": "0",
            "agi_dnid": "unknown",
            "agi_rdnis": "unknown",
            "agi_context": "tamas-ivr-line",
            "agi_extension": self.extension,
            "agi_priority": "2",
            "agi_enhanced": "0.0",
            "agi_accountcode": "",
            "agi_threadid": "140000000000000",
            "agi_linkedid": linkedid,
        }
        for index, value in enumerate(self.args, start=1):
            lines[f"agi_arg_{index}"] = value
        text = "".join(f"{key}: {value}\n" for key, value in lines.items()) + "\n"
        return text.encode("utf-8")


def _kind(command: str) -> str:
    upper = command.upper()
    for name in MEDIA_DELAY_S:
        if upper.startswith(name):
            return name
    return upper.split(" ", 1)[0]


_WORD = re.compile(r'"([^"]*)"|([^\s"]+)')


def _words(command: str) -> list[str]:
    """AGI arguments, honouring double quotes (as Asterisk's parser does)."""
    if "\\" not in command:
        # Most commands: whole quoted or bare words, found without a walk letter by letter.
        return [quoted or bare for quoted, bare in _WORD.findall(command)]
    words: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    started = False
    for char in command:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
            started = True
        elif char == " " and not quoted:
            if started or current:
                words.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
    if started or current:
        words.append("".join(current))
    return words


class AsteriskSide:
    """What Asterisk answers to each command of one call (pure: no I/O, no clock)."""

    def __init__(self, caller: CallerScript, linkedid: str) -> None:
        self.caller = caller
        self.linkedid = linkedid
        self.keys = list(caller.keys)
        self.variables: dict[str, str] = {"CHANNEL(linkedid)": linkedid, **caller.variables}
        self.set_variables: dict[str, str] = {}
        self.unknown: list[str] = []
        self.hung_up = False

    def media_kind(self, command: str) -> str | None:
        kind = _kind(command)
        return kind if kind in MEDIA_DELAY_S else None

    def answer(self, command: str) -> str:
        words = _words(command)
        verb = " ".join(words[:2]).upper()
        if verb in {"GET VARIABLE", "GET FULL"} and len(words) >= 3:
            # GET VARIABLE name | GET FULL VARIABLE expression
            name = words[3] if verb == "GET FULL" and len(words) > 3 else words[2]
            value = self.set_variables.get(name, self.variables.get(name))
            return "200 result=0" if value is None else f"200 result=1 ({value})"
        if verb == "SET VARIABLE" and len(words) >= 4:
            self.set_variables[words[2]] = words[3]
            return "200 result=1"
        if verb == "GET DATA":
            limit = int(words[4]) if len(words) > 4 and words[4].isdigit() else 1024
            digits = ""
            while self.keys and len(digits) < limit:
                key = self.keys.pop(0)
                if key == "#":
                    break
                digits += key
            return f"200 result={digits}" if digits else "200 result= (timeout)"
        if verb == "WAIT FOR":  # WAIT FOR DIGIT
            return f"200 result={ord(self.keys.pop(0)) if self.keys else 0}"
        if verb == "STREAM FILE" or verb == "CONTROL STREAM":
            return "200 result=0 endpos=8000"
        if verb == "RECORD FILE":
            return "200 result=0 (timeout) endpos=16000"
        if words and words[0].upper() in {"SAY", "ANSWER", "EXEC", "SET"}:
            return "200 result=0"
        if verb == "CHANNEL STATUS":
            return "200 result=6"  # up
        if words and words[0].upper() == "VERBOSE":
            return "200 result=1"
        if words and words[0].upper() == "HANGUP":
            self.hung_up = True
            return "200 result=1"
        if words and words[0].upper() == "NOOP":
            return "200 result=0"
        self.unknown.append(command)
        return "510 Invalid or unknown command"

    @property
    def right(self) -> bool:
        if self.unknown:
            return False
        if self.caller.expect is None:
            return True
        name, value = self.caller.expect
        return self.set_variables.get(name) == value


def step_name(command: str) -> str:
    """A command as a step of the call: its verb and first argument (the prompt's name)."""
    words = _words(command)
    verb = " ".join(words[:2]).upper()
    if verb in {"STREAM FILE", "GET DATA", "GET VARIABLE", "SET VARIABLE", "RECORD FILE"}:
        return " ".join([verb, *words[2:3]])
    return " ".join(word.upper() for word in words[:3] if not word.isdigit())


@dataclass
class SessionResult:
    linkedid: str
    commands: int
    round_trips_s: list[float]
    right: bool
    error: str | None = None
    # (previous command -> this command, round trip): where the server spent its time.
    steps: list[tuple[str, float]] = field(default_factory=list)


# The kernel's receive time of each packet (SO_TIMESTAMPNS): when the server's command
# arrived, whatever the generator's own event loop was busy with at that moment.
# Python names neither constant; 35 is Linux's value (asm-generic and x86 alike).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
_TIMESTAMP_CMSG = struct.Struct("@qq")  # struct timespec: seconds, nanoseconds
_ANCILLARY_BYTES = socket.CMSG_SPACE(_TIMESTAMP_CMSG.size)


def _arrival_ns(ancillary: list[tuple[int, int, bytes]]) -> int:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS:
            seconds, nanoseconds = _TIMESTAMP_CMSG.unpack(data[: _TIMESTAMP_CMSG.size])
            return seconds * 1_000_000_000 + nanoseconds
    return time.time_ns()


class _AsteriskSession:
    """One FastAGI session, Asterisk's end, on a bare non-blocking socket.

    Round trips are taken between two clock readings of the same (wall) clock: when our
    answer is handed to the kernel, and the kernel's stamp on the packet that brought the
    server's next command. The generator's own scheduling delays are therefore not counted
    as the server's, which they would be if the arrival were read when our event loop got
    round to it (measured: that alone made the trivial handler's p99 about 1 ms)."""

    def __init__(
        self, sock: socket.socket, side: AsteriskSide, pace: float, rng: random.Random
    ) -> None:
        self.sock = sock
        self.side = side
        self.pace = pace
        self.rng = rng
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = self.loop.create_future()
        self.buffer = b""
        self.answered_ns: int | None = None
        self.round_trips: list[float] = []
        self.steps: list[tuple[str, float]] = []
        self.last_step = "headers"
        self.commands = 0
        self.pending: asyncio.TimerHandle | None = None
        self.closed = False
        self.loop.add_reader(sock.fileno(), self._readable)

    def send_headers(self, headers: bytes) -> None:
        # The first command's wait is the server's time to read headers and pick the route.
        self._send(headers)

    def _send(self, data: bytes) -> None:
        if self.closed:
            return
        # Stamped before the send: the server may answer before sendall has returned.
        self.answered_ns = time.time_ns()
        try:
            self.sock.sendall(data)  # a few hundred bytes: the socket buffer always has room
        except OSError:
            self.answered_ns = None
            self.close()

    def _readable(self) -> None:
        try:
            data, ancillary, _flags, _address = self.sock.recvmsg(65536, _ANCILLARY_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        if not data:
            self.close()
            return
        arrived_ns = _arrival_ns(ancillary)
        self.buffer += data
        while b"\n" in self.buffer:
            raw, self.buffer = self.buffer.split(b"\n", 1)
            command = raw.decode("utf-8", errors="replace").strip()
            if not command:
                continue
            self.commands += 1
            step = step_name(command)
            if self.answered_ns is not None:
                waited = max(0, arrived_ns - self.answered_ns) / 1e9
                self.round_trips.append(waited)
                self.steps.append((f"{self.last_step} -> {step}", waited))
                self.answered_ns = None
            self.last_step = step
            self._answer(command)

    def _answer(self, command: str) -> None:
        reply = self.side.answer(command)
        kind = self.side.media_kind(command)
        delay = MEDIA_DELAY_S[kind] * self.pace * self.rng.uniform(0.5, 1.5) if kind else 0.0
        if delay <= 0:
            self._write(reply)
        else:
            self.pending = self.loop.call_later(delay, self._write, reply)

    def _write(self, reply: str) -> None:
        self.pending = None
        self._send(reply.encode("utf-8") + b"\n")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.pending is not None:
            self.pending.cancel()
        self.loop.remove_reader(self.sock.fileno())
        self.sock.close()
        if not self.done.done():
            self.done.set_result(None)


async def run_session(
    host: str,
    port: int,
    caller: CallerScript,
    linkedid: str,
    *,
    pace: float = 1.0,
    rng: random.Random | None = None,
    timeout_s: float = SESSION_TIMEOUT_S,
) -> SessionResult:
    """One call from connect to the server's close."""
    side = AsteriskSide(caller, linkedid)
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    try:
        await loop.sock_connect(sock, (host, port))
    except OSError as refused:
        sock.close()
        return SessionResult(linkedid, 0, [], False, f"connect: {refused}")
    session = _AsteriskSession(sock, side, pace, rng or random.Random())
    session.send_headers(caller.headers(linkedid, port))
    error: str | None = None
    try:
        await asyncio.wait_for(asyncio.shield(session.done), timeout_s)
    except TimeoutError:
        error = f"still running after {timeout_s:g} s"
        session.close()
    if error is None and session.commands == 0:
        error = "the server closed without a command (no such route?)"
    if error is None and side.unknown:
        error = f"unknown command {side.unknown[0]!r}"
    if error is None and not side.right:
        error = f"route did not set {caller.expect}: {side.set_variables}"
    return SessionResult(
        linkedid, session.commands, session.round_trips, error is None, error, session.steps
    )


@dataclass(frozen=True)
class LoadPlan:
    caller: CallerScript
    concurrent: int = 500
    duration_s: float = 15.0  # after the ramp
    pace: float = 1.0  # 1: realistic waits in media commands; 0: answer everything at once
    # Sessions start spread over this time, not all in one instant: about one call's length,
    # so calls arrive at the steady rate from the start.
    ramp_s: float = 1.0
    host: str = "127.0.0.1"
    port: int = 4573
    run_id: str = "bench"


@dataclass
class LoadReport:
    sessions: int = 0
    right: int = 0
    commands: int = 0
    round_trips_s: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    linkedids: list[str] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=dict)
    peak_concurrent: int = 0
    elapsed_s: float = 0.0

    def add(self, result: SessionResult) -> None:
        self.sessions += 1
        self.right += int(result.right)
        self.commands += result.commands
        self.round_trips_s.extend(result.round_trips_s)
        self.linkedids.append(result.linkedid)
        for step, seconds in result.steps:
            self.steps.setdefault(step, []).append(seconds)
        if result.error:
            key = result.error[:80]
            self.errors[key] = self.errors.get(key, 0) + 1

    def percentile_ms(self, fraction: float) -> float:
        return percentile_ms(self.round_trips_s, fraction)

    def slowest_steps(self, count: int = 3) -> list[tuple[str, float, int]]:
        """The steps with the highest p99: (step, p99 ms, times seen)."""
        ranked = [
            (step, percentile_ms(times, 0.99), len(times)) for step, times in self.steps.items()
        ]
        return sorted(ranked, key=lambda item: -item[1])[:count]


def machine_load() -> str:
    """How busy the machine is before a run, to read the figures by: the load average and
    the share of time some task waited for a CPU (Linux pressure stall information)."""
    text = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    try:
        first = Path("/proc/pressure/cpu").read_text().splitlines()[0]
        text += f", CPU pressure {first.split()[1].split('=')[1]}%"
    except (OSError, IndexError):
        pass
    return text


def percentile_ms(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def run_load(plan: LoadPlan) -> LoadReport:
    """`plan.concurrent` slots each place calls back to back until `ramp_s + duration_s` has
    passed;
        calls in flight at the end are waited for."""
    report = LoadReport()
    rng = random.Random(plan.run_id)
    started = time.perf_counter()
    deadline = started + plan.ramp_s + plan.duration_s
    live = 0
    counter = itertools.count()

    async def slot(index: int) -> None:
        nonlocal live
        await asyncio.sleep(plan.ramp_s * index / max(1, plan.concurrent))
        while time.perf_counter() < deadline:
            linkedid = f"{plan.run_id}-{index:04d}-{next(counter):06d}"
            live += 1
            report.peak_concurrent = max(report.peak_concurrent, live)
            try:
                result = await run_session(
                    plan.host,
                    plan.port,
                    plan.caller,
                    linkedid,
                    pace=plan.pace,
                    rng=random.Random(rng.random()),
                )
            finally:
                live -= 1
            report.add(result)

    # The generator is the instrument: a pause of its own garbage collector would be counted
    # as the server's time (measured: it alone raised p99 from about 1 to 5-6 ms). It makes
    # few reference cycles, so it can do without the collector for one run.
    collecting = gc.isenabled()
    gc.disable()
    # The kernel turns packet stamping on a moment after the first socket asks for it: ask
    # before the first call, and keep asking (this socket stays open) until the last.
    primer = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    primer.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    try:
        await asyncio.sleep(0.2)
        await asyncio.gather(*(slot(i) for i in range(plan.concurrent)))
    finally:
        primer.close()
        if collecting:
            gc.enable()
    report.elapsed_s = time.perf_counter() - started
    return report
