"""The FastAGI server alone, no Asterisk: 500 concurrent calls played by a load generator.

The generator (bench/agi_protocol_client.py) speaks Asterisk's side of the protocol from
this process; the server runs in a process of its own (bench/server_process.py). Measured:
the server's time per command, from our answer to its next command, p50 and p99, first for
the trivial handler (five GET VARIABLE and one GET DATA: the baseline), then for the real
claim-status menu on a demo customer file (customer lookup, claim lookup, prompts, the
interaction record written). Goal: the menu's p99 within 1.5x of the trivial handler's,
measured in the same run (the machine's load weighs on both alike).

    python -m bench agi_server_load [--concurrent 500] [--duration 15] [--database sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass

from bench.agi_protocol_client import CallerScript, LoadPlan, LoadReport, machine_load, run_load
from bench.demo_database import claim_records, prepare
from bench.server_process import ServerProcess, ServerStats
from bench.trivial_agi import EXPECTED_VARIABLE, RESULT_VARIABLE
from bench.trivial_agi import ROUTE as TRIVIAL_ROUTE
from integrations.demo_data.showcase import SHOWCASE

# The menu's p99 per command against the trivial handler's in the same run.
GOAL_RATIO = 1.5
# Calls start spread over about one call's length (at the generator's prompt and typing
# times), so they arrive at the steady rate from the start instead of 500 in one instant.
TRIVIAL_CALL_S = 4.0
CLAIM_CALL_S = 23.0
DIGITS = "1234567"

TRIVIAL_CALLER = CallerScript(
    TRIVIAL_ROUTE,
    keys=DIGITS,
    variables={EXPECTED_VARIABLE: DIGITS},
    expect=(RESULT_VARIABLE, "ok"),
)
# The showcase's gold customer on the claim-status line (201): keys the claim's tracking code,
# the last four digits of the national ID, then 1 for the SMS.
CLAIM_CALLER = CallerScript(
    "ivr",
    args=("claim_status",),
    caller_number=SHOWCASE.gold_caller,
    keys=f"{SHOWCASE.claim_in_assessment}#{SHOWCASE.gold_national_id[-4:]}#1",
)


@dataclass
class Scenario:
    name: str
    report: LoadReport
    server: ServerStats
    records: int | None = None  # interaction rows written right (claim status only)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concurrent", type=int, default=500, help="calls at once")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per scenario")
    parser.add_argument(
        "--pace",
        type=float,
        default=1.0,
        help="scale of the simulated prompt/typing waits (0: answer at once, a stress test)",
    )
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--customers", type=int, default=2000, help="demo customers")
    parser.add_argument("--warmup", type=int, default=20, help="calls before measuring")
    parser.add_argument("--quick", action="store_true", help="100 calls at once for 5 s")
    parser.add_argument(
        "--gc-default",
        action="store_true",
        help="also run both with CPython's default garbage collector settings, to see what "
        "`tamas agi`'s tuning (tamas/gc_tuning.py) buys",
    )


async def _load(
    caller: CallerScript, port: int, args: argparse.Namespace, run_id: str, ramp_s: float
) -> LoadReport:
    warm = LoadPlan(caller, min(args.warmup, args.concurrent), 0.5, args.pace, 0.2, port=port,
                    run_id=f"{run_id}w")  # fmt: skip
    if args.warmup:
        await run_load(warm)
    plan = LoadPlan(
        caller,
        args.concurrent,
        args.duration,
        args.pace,
        ramp_s * args.pace,
        port=port,
        run_id=run_id,
    )
    return await run_load(plan)


def _scenario(
    name: str,
    caller: CallerScript,
    args: argparse.Namespace,
    run_id: str,
    url: str | None,
    gc_tuned: bool = True,
) -> Scenario:
    server = ServerProcess("trivial" if url is None else "claim", url, gc_tuned)
    port = server.start()
    try:
        ramp_s = TRIVIAL_CALL_S if url is None else CLAIM_CALL_S
        report = asyncio.run(_load(caller, port, args, run_id, ramp_s))
    finally:
        stats = server.stop()
    return Scenario(name, report, stats)


def _row(cells: list[str], widths: list[int]) -> str:
    pairs = enumerate(zip(cells, widths, strict=True))
    return "  ".join(cell.rjust(width) if i else cell.ljust(width) for i, (cell, width) in pairs)


def print_table(scenarios: list[Scenario], concurrent: int) -> None:
    base = scenarios[0].report
    header = ["scenario", "calls", "right", "failed", "peak", "cmds/s", "p50 ms", "p99 ms",
              "max ms", "p99/base", "server CPU", "records"]  # fmt: skip
    rows = []
    for s in scenarios:
        r = s.report
        rows.append([
            s.name, str(r.sessions), str(r.right), str(r.sessions - r.right),
            str(r.peak_concurrent), f"{r.commands / r.elapsed_s:.0f}",
            f"{r.percentile_ms(0.5):.2f}", f"{r.percentile_ms(0.99):.2f}",
            f"{r.percentile_ms(1.0):.1f}",
            f"{r.percentile_ms(0.99) / base.percentile_ms(0.99):.2f}x",
            f"{100 * s.server.cpu_s / s.server.wall_s:.0f}%" if s.server.wall_s else "-",
            "-" if s.records is None else f"{s.records}/{r.sessions}",
        ])  # fmt: skip
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    print(_row(header, widths))
    for line in rows:
        print(_row(line, widths))
    for s in scenarios:
        r = s.report
        print(f"{s.name}:")
        for error, count in sorted(r.errors.items(), key=lambda item: -item[1])[:3]:
            print(f"  {count} x {error}")
        print("  slowest steps (p99):")
        for step, p99_ms, seen in r.slowest_steps():
            print(f"    {p99_ms:8.2f} ms  {step} ({seen} times)")
        if s.server.errors or s.server.warnings:
            print(f"  server logged {s.server.errors} errors, {s.server.warnings} warnings")
            for message in s.server.messages:
                print(f"    {message}")


def print_verdict(base: Scenario, menu: Scenario, concurrent: int) -> bool:
    """The goal: the menu's p99 within GOAL_RATIO of the trivial handler's, no call failed."""
    base_p99, menu_p99 = base.report.percentile_ms(0.99), menu.report.percentile_ms(0.99)
    ratio = menu_p99 / base_p99
    failed = sum(s.report.sessions - s.report.right for s in (base, menu))
    met = ratio <= GOAL_RATIO and failed == 0
    print(f"ratio claim-status menu / trivial handler: p99 {ratio:.2f}x")
    print(
        f"goal: the menu's p99 within {GOAL_RATIO:g}x of the trivial handler's at {concurrent}"
        f" concurrent calls, no call failed: {'met' if met else 'NOT met'}"
        f" (p99 {menu_p99:.2f} ms vs {base_p99:.2f} ms, {ratio:.2f}x; {failed} failed)"
    )
    return met


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench agi_server_load", description=__doc__)
    configure(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.concurrent, args.duration = min(args.concurrent, 100), min(args.duration, 5.0)
    run_id = f"bench-{int(time.time())}"
    print(
        f"FastAGI server alone: {args.concurrent} concurrent calls, {args.duration:g} s each after "
        "a ramp of one call's length, "
        f"pace {args.pace:g}; claim status on {args.database} ({args.customers} demo customers); "
        f"before: {machine_load()}",
        flush=True,
    )
    url = asyncio.run(prepare(args.database, args.customers))
    scenarios = [
        _scenario("trivial handler (baseline)", TRIVIAL_CALLER, args, f"{run_id}-t", None),
        _scenario("claim-status menu", CLAIM_CALLER, args, f"{run_id}-c", url),
    ]
    if args.gc_default:
        scenarios += [
            _scenario("trivial, default GC", TRIVIAL_CALLER, args, f"{run_id}-tg", None, False),
            _scenario("claim, default GC", CLAIM_CALLER, args, f"{run_id}-cg", url, False),
        ]
    for scenario, suffix in zip(scenarios, ["t", "c", "tg", "cg"], strict=False):
        if scenario.report.linkedids and suffix.startswith("c"):
            _total, scenario.records = asyncio.run(claim_records(url, f"{run_id}-{suffix}"))
    print_table(scenarios, args.concurrent)
    met = print_verdict(scenarios[0], scenarios[1], args.concurrent)
    whole = all(
        s.report.right == s.report.sessions and s.records in (None, s.report.sessions)
        for s in scenarios
    )
    return 0 if met and whole else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
