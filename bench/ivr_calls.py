"""Real calls through the Asterisk sandbox: claim-status menu vs trivial handler, FastAGI vs pyst2.

The claim-status menu is measured against the trivial handler, and FastAGI against pyst2's
process-per-call AGI.

Calls are AMI Originates of `Local/s@tamas-caller` (dialplans/caller.conf) placed at a fixed
rate for a fixed time; that leg answers, waits a second and sends real DTMF. Scenarios:

- trivial FastAGI handler (five GET VARIABLE, GET DATA of 7 digits) at the peak rate: the
  reference for process AGI;
- the same handler at the menu rate, its GET DATA playing a beep: the issue's baseline;
- the claim-status menu (extension 201 of tamas-inbound, as a caller dials it) for the
  showcase's gold customer on a demo customer file: customer and claim looked up, prompts
  played, the interaction record written;
- the same trivial handler again, its GET DATA playing as many seconds of sound as a claim
  call just played (Asterisk's `endpos`, summed per call by the server): the baseline that
  asks of Asterisk the same audio as the menu, so the ratio is what the menu's own work
  costs. Asterisk spends about 3 ms of CPU per second of sound a call plays (measured on the
  sandbox: 300 calls playing take 85% of a core, 300 silent calls 5%), so beside a beep the
  menu's 20-odd seconds of speech bound its calls/s whatever the server does;
- the trivial handler as pyst2 process AGI, one process per call: short and bounded, since
  it collapses at a few tens of calls per second.

Measured: calls answered right per second of the run, AGI failures, records written, and the
AGI round trip (p50/p99) of commands that neither play nor listen, timed in the server.
Goals: the menu sustains at least 80% of the trivial handler's calls/s with no failure and
every record written (judged against the same-sound baseline; the beep baseline's ratio is
printed beside it); FastAGI sustains at least 10x the calls/s of process AGI.

    python -m bench ivr_calls [--rates 20,30,40] [--peak-rates 100,150,200]
                              [--process-rates 5,10,20] [--duration 15] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.agi_protocol_client import machine_load
from bench.demo_database import claim_records, prepare
from bench.server_process import ServerProcess, ServerStats
from bench.trivial_agi import EXPECTED_VARIABLE
from integrations.demo_data.showcase import SHOWCASE
from tamas.asterisk import sandbox
from tamas.asterisk.ami import AmiClient, AmiError, Message
from tamas.settings import Settings, load

CALLER = "Local/s@tamas-caller"
BENCH_CONTEXT = "tamas-bench"
CLAIM_CONTEXT, CLAIM_EXTENSION = "tamas-inbound", "201"
MENU_BASE, MENU = "trivial FastAGI", "claim-status menu"
SAME_SOUND_BASE = "trivial FastAGI, same sound"
# The same-sound baseline's prompt: real prompts joined, cut to the claim call's length.
BASELINE_PROMPT_SOURCE = "fa/prompt"
FASTAGI, PROCESS = "FastAGI trivial", "process AGI trivial (pyst2)"
GOAL_MENU_RATIO = 0.8
GOAL_FASTAGI_RATIO = 10.0
# After the last call is placed, how long the calls still up may take to finish.
DRAIN_S = {"trivial": 30.0, "claim": 90.0}
BENCH_DIR = Path(__file__).resolve().parent
PROCESS_ENTRY_DIR = "opt/tamas/bench"  # in the sandbox root, beside process AGI's modules


@dataclass
class Call:
    linkedid: str
    digits: str
    placed_at: float
    answered: bool | None = None  # from OriginateResponse
    result: str | None = None  # from the TamasBench UserEvent (trivial handler)
    status: str | None = None  # AGISTATUS
    channels: dict[str, str] = field(default_factory=dict)  # uniqueid -> name, while up
    legs_seen: int = 0
    ended_at: float | None = None


@dataclass
class Scenario:
    name: str
    kind: str  # "trivial" or "claim"
    path: str  # "fastagi" or "process"
    rate: float
    duration_s: float
    calls: dict[str, Call] = field(default_factory=dict)
    server: ServerStats | None = None
    records: int | None = None  # interaction rows saying the caller was served
    rows: int | None = None  # interaction rows of the run at all
    compare_to: str | None = None  # the scenario whose calls/s this one's are divided by
    prompt_s: float | None = None  # trivial handler: seconds of sound GET DATA plays
    sound_of: str | None = None  # same-sound baseline: the menu run whose sound it plays
    elapsed_s: float = 0.0
    peak_up: int = 0
    asterisk_cpu_s: float | None = None

    @property
    def placed(self) -> int:
        return len(self.calls)

    @property
    def right(self) -> int:
        if self.kind == "claim":
            ended = sum(1 for call in self.calls.values() if call.ended_at is not None)
            return min(ended, self.records or 0)
        return sum(1 for call in self.calls.values() if call.result == "ok")

    @property
    def agi_failures(self) -> int:
        """Calls whose AGI did not end well, plus errors the server logged."""
        if self.kind == "claim":
            failed = sum(1 for call in self.calls.values() if call.ended_at is None)
        else:
            failed = sum(
                1 for call in self.calls.values() if call.status != "SUCCESS" or call.result is None
            )
        return failed + (self.server.errors if self.server else 0)

    @property
    def sustained(self) -> bool:
        """Kept up with the rate: 99% of calls right, and for the menu no AGI failure and
        every record written."""
        if self.kind == "claim":
            return self.agi_failures == 0 and self.records == self.placed > 0
        return self.placed > 0 and self.right >= 0.99 * self.placed

    @property
    def calls_per_s(self) -> float:
        return self.right / self.duration_s

    @property
    def series(self) -> str:
        """The scenario without its rate: what is compared across rates."""
        return self.name.rsplit(" ", 1)[0]

    @property
    def sound_per_call_s(self) -> float | None:
        played = self.server.played_s if self.server else []
        return sum(played) / len(played) if played else None

    def round_trip_ms(self, fraction: float) -> float | None:
        if self.server is None or not self.server.round_trips_s:
            return None
        ordered = sorted(self.server.round_trips_s)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


class Switchboard:
    """Places the calls over AMI and follows them by linkedid (we choose it: ChannelId)."""

    def __init__(self, settings: Settings) -> None:
        self.client = AmiClient.from_settings(settings, name="bench-ivr")
        self.calls: dict[str, Call] = {}
        self.by_action: dict[str, Call] = {}
        self.up = 0

    async def connect(self) -> None:
        await self.client.connect()
        # Only the events we follow: a call makes dozens of others (VarSet, Newexten, AGIExec)
        # and parsing them would compete with the server for the same two cores.
        await self.client.send_action(
            {
                "Action": "Filter",
                "Operation": "Add",
                "Filter": "Event: (OriginateResponse|UserEvent|Hangup|Newchannel)",
            }
        )
        self.client.on_event("*", self._event)

    async def close(self) -> None:
        await self.client.close()

    def _event(self, event: Message) -> None:
        name = str(event.get("Event", ""))
        if name == "OriginateResponse":
            call = self.by_action.get(str(event.get("ActionID", "")))
            if call is not None:
                call.answered = str(event.get("Reason", "")) == "4"
                if not call.answered:
                    call.ended_at = call.ended_at or time.perf_counter()
            return
        call = self.calls.get(str(event.get("Linkedid", "")))
        if call is None:
            return
        if name == "Newchannel":
            call.channels[str(event.get("Uniqueid", ""))] = str(event.get("Channel", ""))
            call.legs_seen += 1
            self.up += 1
        elif name == "Hangup":
            if call.channels.pop(str(event.get("Uniqueid", "")), None) is not None:
                self.up -= 1
            if not call.channels and call.legs_seen >= 2:
                call.ended_at = time.perf_counter()
        elif name == "UserEvent" and str(event.get("UserEvent", "")) == "TamasBench":
            call.result = str(event.get("Result", "")) or None
            call.status = str(event.get("Status", "")) or None

    async def place(
        self,
        scenario: Scenario,
        run_id: str,
        context: str,
        extension: str,
        caller_id: str,
        dtmf: str | None,
        variables: dict[str, str],
    ) -> None:
        """`scenario.rate` calls a second for `scenario.duration_s`, then wait for them."""
        total = int(scenario.rate * scenario.duration_s)
        rng = random.Random(run_id)
        started = time.perf_counter()
        sends: list[asyncio.Task[None]] = []
        for index in range(total):
            delay = started + index / scenario.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            digits = "".join(rng.choice("0123456789") for _ in range(7))
            # Fixed width: Asterisk refuses a ChannelId that prefixes a live channel's id.
            call = Call(f"{run_id}-{index:06d}", digits, time.perf_counter())
            self.calls[call.linkedid] = call
            scenario.calls[call.linkedid] = call
            self.by_action[call.linkedid] = call
            channel_vars = {
                "TAMAS_DTMF": dtmf if dtmf is not None else digits,
                "TAMAS_WAIT_S": "1",
                EXPECTED_VARIABLE: digits,
                **variables,
            }
            sends.append(asyncio.create_task(self._originate(call, context, extension,
                                                             caller_id, channel_vars)))  # fmt: skip
            scenario.peak_up = max(scenario.peak_up, self.up)
        await asyncio.gather(*sends)
        deadline = time.perf_counter() + DRAIN_S[scenario.kind]
        while time.perf_counter() < deadline:
            scenario.peak_up = max(scenario.peak_up, self.up)
            if all(call.ended_at is not None for call in scenario.calls.values()):
                break
            await asyncio.sleep(0.2)
        scenario.elapsed_s = time.perf_counter() - started
        await self._hang_up_leftovers(scenario)

    async def _originate(
        self, call: Call, context: str, extension: str, caller_id: str, variables: dict[str, str]
    ) -> None:
        try:
            await self.client.originate(
                CALLER,
                context=context,
                exten=extension,
                caller_id=f"<{caller_id}>",
                variables=variables,
                channel_id=call.linkedid,
                other_channel_id=f"{call.linkedid}-c",
                action_id=call.linkedid,
                timeout_ms=30_000,
                wait=False,
            )
        except AmiError:
            call.answered = False
            call.ended_at = time.perf_counter()

    async def _hang_up_leftovers(self, scenario: Scenario) -> None:
        """Calls still up after the drain time are failures; end them so the next scenario
        starts on an idle Asterisk."""
        names = [name for call in scenario.calls.values() for name in call.channels.values()]
        for name in names:
            try:
                await self.client.send_action({"Action": "Hangup", "Channel": name}, 5)
            except AmiError:
                pass
        if names:
            await asyncio.sleep(2)


def install_process_entry(settings: Settings) -> None:
    """Copy the process-AGI entry and the trivial handler into the sandbox root, beside the
    process-AGI modules `tamas sandbox up` installs there."""
    sandbox.install_process_agi(settings)
    target = sandbox.root_dir(settings) / PROCESS_ENTRY_DIR
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(0o755)
    (target / "__init__.py").write_text('"""The speed benchmark\'s process-AGI entry."""\n')
    for name, mode in (("trivial_agi.py", 0o644), ("process_trivial_agi.py", 0o755)):
        shutil.copyfile(BENCH_DIR / name, target / name)
        (target / name).chmod(mode)


async def ensure_ready(settings: Settings) -> None:
    """The sandbox runs and knows our dialplan; raises SystemExit with the fix if not."""
    if os.geteuid() != 0:
        raise SystemExit("ivr_calls: run as root (the sandbox is a chroot)")
    if sandbox.version(settings) is None:
        raise SystemExit("ivr_calls: the Asterisk sandbox is not running; run: tamas sandbox up")
    client = AmiClient.from_settings(settings, name="bench-check")
    await client.connect()
    try:
        shown = await client.command(f"dialplan show {BENCH_CONTEXT}")
    finally:
        await client.close()
    if "fastagi" not in shown:
        print(f"ivr_calls: loading dialplans/bench.conf into the sandbox ({BENCH_CONTEXT})")
        sandbox.up(settings)
    install_process_entry(settings)


async def run_scenario(
    settings: Settings, scenario: Scenario, run_id: str, database_url: str | None
) -> Scenario:
    server: ServerProcess | None = None
    variables: dict[str, str] = {}
    if scenario.path == "fastagi":
        server = ServerProcess(scenario.kind, database_url)
        port = await asyncio.to_thread(server.start)
        variables["TAMAS_AGI"] = f"agi://127.0.0.1:{port}"
    board = Switchboard(settings)
    await board.connect()
    asterisk_cpu = _cpu_s(_asterisk_pid(settings))
    try:
        if scenario.kind == "claim":
            # Gold customer: the claim's code, a pause for the lookup, the last four digits of
            # the national ID; then silence (no SMS) and the menu says goodbye and hangs up.
            dtmf = f"{SHOWCASE.claim_in_assessment}#WW{SHOWCASE.gold_national_id[-4:]}#"
            await board.place(scenario, run_id, CLAIM_CONTEXT, CLAIM_EXTENSION,
                              SHOWCASE.gold_caller, dtmf, variables)  # fmt: skip
        else:
            variables["TAMAS_HOLD_S"] = "3"
            if scenario.prompt_s:
                # The caller listens to the whole prompt before keying (a key would cut it).
                variables["BENCH_PROMPT"] = baseline_prompt(settings, scenario.prompt_s)
                variables["TAMAS_WAIT_S"] = f"{scenario.prompt_s + 0.3:.1f}"
            await board.place(scenario, run_id, BENCH_CONTEXT, scenario.path,
                              "+989350000000", None, variables)  # fmt: skip
    finally:
        if asterisk_cpu is not None:
            scenario.asterisk_cpu_s = (_cpu_s(_asterisk_pid(settings)) or 0.0) - asterisk_cpu
        await board.close()
        if server is not None:
            scenario.server = await asyncio.to_thread(server.stop)
    if scenario.kind == "claim" and database_url is not None:
        await asyncio.sleep(1)  # the last records are written just after the hang-up
        scenario.rows, scenario.records = await claim_records(database_url, run_id)
    return scenario


def baseline_prompt(settings: Settings, seconds: float) -> str:
    """A sound of `seconds` made of real prompts (8 kHz PCM like every prompt), for the
    same-sound baseline; its name as STREAM FILE / GET DATA take it."""
    from prompts.sentences import wav_header, wav_pcm

    folder = sandbox.sounds_dir(settings)
    length = int(seconds * 1000)
    target = folder / "bench" / f"prompt-{length}.wav"
    if not target.exists():
        wanted = length * 16  # bytes: 8,000 samples of 2 bytes a second
        pcm = b""
        sources = sorted((folder / BASELINE_PROMPT_SOURCE).glob("*.wav"))
        while len(pcm) < wanted and sources:
            for path in sources:
                pcm += wav_pcm(path.read_bytes()) or b""
                if len(pcm) >= wanted:
                    break
        pcm = pcm[:wanted]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(wav_header(len(pcm)) + pcm)
        target.chmod(0o644)
    return f"tamas/bench/prompt-{length}"


def _asterisk_pid(settings: Settings) -> int | None:
    # The chroot shares the host's process ids, so the pid Asterisk writes is the host's.
    try:
        return int((sandbox.root_dir(settings) / "run/asterisk/asterisk.pid").read_text())
    except (OSError, ValueError):
        return None


def _cpu_s(pid: int | None) -> float | None:
    """CPU seconds a process has used (user + system), from /proc."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percent(cpu_s: float | None, wall_s: float) -> str:
    return "-" if cpu_s is None or not wall_s else f"{100 * cpu_s / wall_s:.0f}%"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_table(scenarios: list[Scenario]) -> None:
    by = {s.name: s for s in scenarios}
    header = ["scenario", "rate/s", "placed", "right", "AGI fail", "calls/s", "ratio",
              "peak chans", "records", "sound/call s", "rt p50 ms", "rt p99 ms", "server CPU",
              "Asterisk CPU"]  # fmt: skip
    rows = []
    for s in scenarios:
        other = by.get(s.compare_to or "")
        ratio = "-"
        if other is not None and other.calls_per_s:
            ratio = f"{s.calls_per_s / other.calls_per_s:.2f}x"
        rows.append([
            s.name, f"{s.rate:g}", str(s.placed), str(s.right), str(s.agi_failures),
            f"{s.calls_per_s:.1f}", ratio, str(s.peak_up),
            "-" if s.records is None else f"{s.records}/{s.placed}",
            "-" if s.sound_per_call_s is None else f"{s.sound_per_call_s:.1f}",
            _ms(s.round_trip_ms(0.5)), _ms(s.round_trip_ms(0.99)),
            _percent(s.server.cpu_s, s.server.wall_s) if s.server else "-",
            _percent(s.asterisk_cpu_s, s.elapsed_s),
        ])  # fmt: skip
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        cells = enumerate(zip(line, widths, strict=True))
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in cells))
    for s in scenarios:
        if s.compare_to:
            print(f"ratio of {s.name}: its calls/s over those of {s.compare_to}")
    print("sound/call: seconds Asterisk played per call with STREAM FILE (GET DATA's prompt")
    print("  not counted: the same-sound baseline plays the menu's figure with GET DATA)")
    print("rt: AGI round trip of commands that neither play nor listen, timed in the server;")
    print("CPU: of one core, over the run (100% = one core busy; the machine has 2)")
    for s in scenarios:
        if s.server and (s.server.errors or s.server.warnings):
            print(f"{s.name}: server logged {s.server.errors} errors, {s.server.warnings} warnings")
            for message in s.server.messages:
                print(f"    {message}")


def verdicts(scenarios: list[Scenario]) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []

    def best(*series: str) -> tuple[float, list[Scenario]]:
        # The best rate the series sustained (over every rate tried), as calls right a second.
        runs = [s for s in scenarios if s.series in series]
        return max((s.calls_per_s for s in runs if s.sustained), default=0.0), runs

    menu, menus = best(MENU)
    # The beep handler runs in two series: beside the menu, and at FastAGI's peak rates.
    for series, judged in (((SAME_SOUND_BASE,), True), ((MENU_BASE, FASTAGI), False)):
        base, bases = best(*series)
        if not menus or not bases:
            continue
        ratio = menu / base if base else 0.0
        sound = [s.prompt_s for s in bases if s.prompt_s]
        what = (f"the trivial handler playing the same {max(sound):.1f} s of sound"
                if sound else "the trivial handler with a beep")  # fmt: skip
        text = (
            f"claim-status menu sustained {menu:.1f} calls/s (no AGI failure, every record "
            f"written), {what} {base:.1f}: {ratio:.2f}x (goal >= {GOAL_MENU_RATIO:g}x; rates "
            f"tried: {', '.join(f'{s.rate:g}' for s in bases)})"
        )
        if judged:
            found.append((text, ratio >= GOAL_MENU_RATIO))
        else:
            print(f"for reference, not judged: {text}; the gap is the menu's speech, played "
                  "by Asterisk (see its CPU column)")  # fmt: skip
    fast, fasts = best(FASTAGI)
    proc, procs = best(PROCESS)
    if fasts and procs:
        ratio = fast / proc if proc else float("inf")
        tried = "; ".join(
            f"{runs[0].series} {', '.join(f'{s.rate:g}' for s in runs)}" for runs in (fasts, procs)
        )
        found.append((
            f"FastAGI sustained {fast:.1f} calls/s, process AGI {proc:.1f}: {ratio:.1f}x (goal "
            f">= {GOAL_FASTAGI_RATIO:g}x; rates tried: {tried})", ratio >= GOAL_FASTAGI_RATIO,
        ))  # fmt: skip
    return found


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rates",
        default="20",
        help="calls/s for the menu and its baseline, comma separated (e.g. 20,30,40): each "
        "runs at every rate until it stops keeping up; the best rates are compared",
    )
    parser.add_argument(
        "--peak-rates", default="100,150,200", help="calls/s tried for FastAGI's peak, in turn"
    )
    parser.add_argument("--duration", type=float, default=15, help="seconds of calls per run")
    parser.add_argument(
        "--process-rates", default="5,10,20", help="calls/s tried for process AGI, in turn"
    )
    parser.add_argument("--process-duration", type=float, default=10)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--customers", type=int, default=2000, help="demo customers")
    parser.add_argument(
        "--only", choices=["menu", "process"], help="just the menu vs baseline, or FastAGI vs pyst2"
    )
    parser.add_argument("--quick", action="store_true", help="lower rates for 5 s each")


def _rates(text: str) -> list[float]:
    return sorted(float(item) for item in text.split(",") if item.strip())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench ivr_calls", description=__doc__)
    configure(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.rates, args.peak_rates, args.process_rates = "10", "40", "5"
        args.duration, args.process_duration = min(args.duration, 5), min(args.process_duration, 5)
    return asyncio.run(_main(args))


async def _main(args: argparse.Namespace) -> int:
    settings = load()
    await ensure_ready(settings)
    run_id = f"bench-{int(time.time())}"
    print(
        f"Calls through the sandbox, {args.duration:g} s per run; before: {machine_load()}",
        flush=True,
    )
    scenarios: list[Scenario] = []
    url = None
    if args.only != "process":
        url = await prepare(args.database, args.customers)
        for rate in _rates(args.rates):
            base = f"{MENU_BASE} {rate:g}/s"
            menu = f"{MENU} {rate:g}/s"
            scenarios += [
                Scenario(base, "trivial", "fastagi", rate, args.duration),
                Scenario(menu, "claim", "fastagi", rate, args.duration,
                         compare_to=f"{SAME_SOUND_BASE} {rate:g}/s"),
                # Its prompt's length is the menu run's sound per call, known once it ran.
                Scenario(f"{SAME_SOUND_BASE} {rate:g}/s", "trivial", "fastagi", rate,
                         args.duration, sound_of=menu),
            ]  # fmt: skip
    if args.only != "menu":
        # Each side at rising rates until it stops keeping up: their best rates are compared.
        scenarios += [
            Scenario(f"{FASTAGI} {rate:g}/s", "trivial", "fastagi", rate, args.duration)
            for rate in _rates(args.peak_rates)
        ]
        scenarios += [
            Scenario(f"{PROCESS} {rate:g}/s", "trivial", "process", rate, args.process_duration)
            for rate in _rates(args.process_rates)
        ]
    failed_kinds: set[str] = set()
    done: list[Scenario] = []
    by_name = {scenario.name: scenario for scenario in scenarios}
    for index, scenario in enumerate(scenarios):
        series = scenario.series
        if series in failed_kinds:
            continue  # it did not keep up at a lower rate: no point in a higher one
        if series == SAME_SOUND_BASE:
            menu_run = by_name[scenario.sound_of or ""]
            if menu_run.sound_per_call_s is None:
                continue  # the menu did not run at this rate
            scenario.prompt_s = round(menu_run.sound_per_call_s, 1)
        print(f"  {scenario.name}: {scenario.rate:g} calls/s for {scenario.duration_s:g} s",
              flush=True)  # fmt: skip
        await run_scenario(settings, scenario, f"{run_id}-{index:02d}", url)
        done.append(scenario)
        if not scenario.sustained:
            failed_kinds.add(series)
        await asyncio.sleep(3)  # let Asterisk settle before the next run
    scenarios = done
    print_table(scenarios)
    results = verdicts(scenarios)
    for text, ok in results:
        print(f"goal {'met' if ok else 'NOT met'}: {text}")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
