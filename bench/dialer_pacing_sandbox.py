"""Pacing on the sandbox: a campaign's calls per second asked of the trunk against achieved, and
the trunk's channel limit against the most calls Asterisk ever had up at once.

A broadcast campaign (the real worker, trunk gate and Originates) calls simulated customers
that end fast (dialplans/outbound.conf: busy, congestion, answer and hang up), through a trunk
configured with a calls-per-second and a channel limit lower than the campaign's own cap, so
the trunk is what paces. Every channel the dialer opens carries the attempt's ChannelId; the
channels up at once are counted from Asterisk's Newchannel and Hangup events.

Printed: asked vs achieved calls/s (the ratio is achieved / asked; the goal is never above 1)
and the maximum of channels seen up at once against the limit (goal: never above).

    python -m bench dialer_pacing_sandbox [--calls 60] [--rate 10] [--channels 6] [--full]
    (--full: 1,000 calls at 20/s on 30 channels)
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dialer import control, kinds
from dialer.campaigns import Campaigns
from dialer.imports import TargetRow
from dialer.windows import ALWAYS_OPEN
from dialer.worker import DialerWorker
from integrations import migrations
from integrations.database import Database
from tamas.asterisk import sandbox
from tamas.asterisk.ami import AmiClient
from tamas.settings import load

TRUNK = "bench-pacing"
# Customers that end within a second or two: busy, congestion, answer and hang up at once.
FAST_ENDINGS = ("02", "05", "06")


class Channels:
    """The dialer's channels (ChannelId `dialer-...`) up at once, from Asterisk's events."""

    def __init__(self) -> None:
        self.up: set[str] = set()
        self.most = 0
        self.created: list[float] = []

    def on_event(self, event: Mapping[str, Any]) -> None:
        name, channel = str(event.get("Event", "")), str(event.get("Uniqueid", ""))
        # A Local call's second leg is `<ChannelId>;2`: one call, one channel counted.
        if not channel.startswith("dialer-") or ";" in channel:
            return
        if name == "Newchannel" and channel not in self.up:
            self.up.add(channel)
            self.created.append(time.perf_counter())
            self.most = max(self.most, len(self.up))
        elif name == "Hangup":
            self.up.discard(channel)


async def _run(calls: int, rate: float, channels: int) -> int:
    settings = load()
    if sandbox.version(settings) is None or not sandbox.ami_answers(settings):
        sandbox.up(settings)
    catalogue = {name: replace(kind, window=ALWAYS_OPEN) for name, kind in kinds.load().items()}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        await migrations.upgrade(url)
        database = Database(url)
        ami = AmiClient.from_settings(settings, name="bench-pacing")
        await ami.connect()
        seen = Channels()
        ami.on_event("*", seen.on_event)
        worker = DialerWorker(
            # The campaign's own cap above the trunk's: the trunk is what limits.
            replace(
                settings,
                dialer_trunk=TRUNK,
                dialer_trunk_max_channels=channels,
                dialer_trunk_calls_per_second=rate,
                dialer_max_channels=channels * 2,
                dialer_poll_s=0.1,
            ),
            database,
            ami,
            name="bench-pacing",
            catalogue=catalogue,
        )
        campaigns = Campaigns(database)
        now = datetime.now(UTC)
        campaign = await campaigns.create(
            f"pacing-{uuid.uuid4().hex[:8]}", catalogue["welcome"], now
        )
        run = uuid.uuid4().int % 900 + 100
        targets = [
            TargetRow(
                line=n + 2,
                phone=f"+98912{run:03d}{n // 3:02d}{FAST_ENDINGS[n % 3]}"
                if calls <= 300
                else f"+9891{run:03d}{n // 3:03d}{FAST_ENDINGS[n % 3]}",
                language="en",
            )
            for n in range(calls)
        ]
        await campaigns.add_targets(campaign.id, targets)
        await control.start(database, campaign.name, now)
        stop = asyncio.Event()
        loop = asyncio.create_task(worker.run_forever(stop))
        try:
            async with asyncio.timeout(60 + calls / rate * 3):
                while len(seen.created) < calls:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
            await worker.drain()
        finally:
            stop.set()
            await loop
            await worker.close()
            await ami.close()
            await database.dispose()
    span_s = seen.created[-1] - seen.created[0] if len(seen.created) > 1 else 0.0
    # n calls placed over the span between the first and the last: n - 1 intervals.
    achieved = (len(seen.created) - 1) / span_s if span_s else 0.0
    print(f"pacing on the sandbox: {calls} calls through trunk {TRUNK}")
    print(f"  calls/s asked {rate:.1f}, achieved {achieved:.2f} (ratio {achieved / rate:.2f})")
    print(f"  channels up at once: at most {seen.most} (limit {channels})")
    within = seen.most <= channels and achieved <= rate * 1.05
    print(f"  limits held: {'yes' if within else 'NO'}")
    return 0 if within else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench dialer_pacing_sandbox")
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--rate", type=float, default=10.0, help="the trunk's calls per second")
    parser.add_argument("--channels", type=int, default=6, help="the trunk's channel limit")
    parser.add_argument("--full", action="store_true", help="1,000 calls at 20/s on 30 channels")
    args = parser.parse_args(argv)
    if args.full:
        args.calls, args.rate, args.channels = 1000, 20.0, 30
    return asyncio.run(_run(args.calls, args.rate, args.channels))
