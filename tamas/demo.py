"""`tamas demo`: the whole engine on one box, for people to try by phone and in a browser.

It runs the same commands an operator would, in order (sandbox, schema, demo data, prompt
sounds, demo agents), then keeps every service running until Ctrl-C: the FastAGI server, the
web app (agent desktop, campaign console, wallboard and reports, cases, messaging operators),
the dialer worker, the queue_log reader behind the wallboard and reports, the cases' SLA
scan, and the outbox's sender. Each step is safe to repeat, so a second `tamas demo` starts in
seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from tamas.errors import CommandError
from tamas.settings import Settings

DEMO_CUSTOMERS = 5_000
DEMO_SEED = 1
# What runs until Ctrl-C, as an operator would start each.
SERVICES = (
    ("agi",),
    ("popup-server",),
    ("campaign", "worker"),
    ("report", "ingest", "--follow"),
    ("cases", "scan", "--escalate", "--every", "60"),
    ("messages", "send"),
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=DEMO_CUSTOMERS)
    parser.add_argument("--seed", type=int, default=DEMO_SEED)


def _tamas(*args: str) -> list[str]:
    return [sys.executable, "-m", "tamas.cli", *args]


async def _step(title: str, *args: str) -> None:
    print(f"== {title}", flush=True)
    process = await asyncio.create_subprocess_exec(*_tamas(*args))
    if await process.wait() != 0:
        raise CommandError(f"step '{title}' failed (`tamas {' '.join(args)}`); see above")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    await _step("Asterisk sandbox", "sandbox", "up")
    await _step("database schema", "migrate")
    await _step(
        "demo data", "demo-data", "--customers", str(args.customers), "--seed", str(args.seed)
    )
    await _step("prompt sounds", "prompts", "build")
    await _step("demo agents (note the passwords)", "popup-server", "demo-agents")

    services = [await asyncio.create_subprocess_exec(*_tamas(*command)) for command in SERVICES]
    web = f"http://{settings.http_host}:{settings.http_port}"
    print(
        f"== running: FastAGI on {settings.fastagi_host}:{settings.fastagi_port}; the pages on "
        f"{web}/ (desktop), {web}/campaigns, {web}/supervisors/wallboard, {web}/cases, "
        f"{web}/messages\n"
        "   try a call (README, 'Calling the menus'): tamas call --from 09121234567 --to 200 "
        "--dtmf '1W1W140312345#WW5679#' --hold 25\n"
        "   Ctrl-C stops",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    waiters = [asyncio.create_task(service.wait()) for service in services]
    stopper = asyncio.create_task(stop.wait())
    done, _pending = await asyncio.wait([*waiters, stopper], return_when=asyncio.FIRST_COMPLETED)
    for service in services:
        if service.returncode is None:
            service.terminate()
    await asyncio.gather(*(service.wait() for service in services))
    stopper.cancel()
    # A service that died on its own is a failure the operator must see.
    return 0 if stopper in done else 1
