"""Call popups: latency from the AMI event to the frame at the agent's websocket, and memory
per connected desktop, with N agents connected and calls ringing at a steady rate.

    python -m bench.popup_latency [--agents 2000] [--rate 50] [--duration 20] [--no-redis]

Three runs, each with the server(s) and the desktops in separate processes on loopback:
  baseline  a bare aiohttp websocket server pushing a timestamped frame to one connection per
            call: the floor this machine gives any websocket push (measured in the same run);
  popup     the popup server with the in-process bus: AMI events fed to the follower's input
            (`CallFollower.feed`), popups built from the customer file (SQLite) and pushed;
  redis     two popup server processes: one follows and publishes, the desktops are connected
            to the other, and every popup crosses Redis.
Latency is wall-clock from the moment the AMI event is fed (stamped in the popup as
`observed_at`) to the moment the desktop process reads the frame. Goal: p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

AGENT_BASE = 10_000
CUSTOMERS = 400
UNKNOWN_SHARE = 0.2  # callers not on file get the "new caller" card
REDIS_URL = "redis://127.0.0.1:6379/0"
POSTGRES_ADMIN = os.environ.get("TAMAS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
POSTGRES_DB = "tamas_bench_popup"
WARMUP_S = 3.0


def _rss_kib(pid: int | None = None) -> int:
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _phone(index: int) -> str:
    return f"+98912{index:07d}"


# ------------------------------------------------------------------------------ preparation


async def _prepare(url: str, agents: int) -> list[tuple[str, str]]:
    """Schema, customers on file, agents and one session each; returns (agent, token)."""
    from customer_file.identifiers import national_id_check_digit
    from customer_file.views import CustomerRegistration
    from integrations.customer_file.sql import SqlCustomerFile
    from integrations.database import Database
    from integrations.migrations import upgrade
    from popup_server.agents import AgentDirectory

    await upgrade(url)
    database = Database(url)
    try:
        customers = SqlCustomerFile(database)
        for index in range(CUSTOMERS):
            first_nine = f"{100_000_000 + index:09d}"
            await customers.register_customer(
                CustomerRegistration(
                    family_name_fa=f"مشتری {index}",
                    national_id=first_nine + str(national_id_check_digit(first_nine)),
                    phones=(_phone(index),),
                    tier=random.choice(("regular", "silver", "gold", "vip")),
                )
            )
        directory = AgentDirectory(database, session_ttl_s=3600)
        sessions = []
        for index in range(agents):
            number = str(AGENT_BASE + index)
            await directory.create_agent(
                number, "bench-password", f"Local/{number}@bench", password_cost=2**8
            )
            new = await directory.log_in(number, "bench-password")
            assert new is not None
            sessions.append((number, new.token))
        return sessions
    finally:
        await database.dispose()


async def _scratch_postgres() -> str:
    import asyncpg

    admin = await asyncpg.connect(f"{POSTGRES_ADMIN}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{POSTGRES_DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{POSTGRES_DB}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://{POSTGRES_ADMIN.split('://', 1)[1]}/{POSTGRES_DB}"


# ------------------------------------------------------------------------------ servers


def _server_process(pipe: Connection, kind: str, url: str, bus: str, channel: str) -> None:
    asyncio.run(_serve(pipe, kind, url, bus, channel))


async def _serve(pipe: Connection, kind: str, url: str, bus_kind: str, channel: str) -> None:
    from aiohttp import web

    loop = asyncio.get_running_loop()
    follower = None
    sockets: dict[str, web.WebSocketResponse] = {}
    gc_seconds = [0.0, 0.0]  # time spent in the cyclic garbage collector, longest pause
    gc_started = [0.0]

    def on_gc(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            pause = time.perf_counter() - gc_started[0]
            gc_seconds[0] += pause
            gc_seconds[1] = max(gc_seconds[1], pause)

    gc.callbacks.append(on_gc)
    database = None
    if kind == "baseline":
        app = web.Application()

        async def handle(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            agent = request.query.get("agent", "")
            sockets[agent] = ws
            await ws.send_str('{"type":"hello"}')
            async for _ in ws:
                pass
            sockets.pop(agent, None)
            return ws

        app.router.add_get("/ws", handle)
    else:
        from integrations.customer_file.sql import SqlCustomerFile
        from integrations.database import Database
        from popup_server.app import SERVER, make_app
        from tamas.bus import InProcessBus, RedisBus
        from tamas.settings import Settings

        database = Database(url)
        bus = RedisBus(REDIS_URL, channel) if bus_kind == "redis" else InProcessBus()
        app = make_app(
            Settings(),
            database=database,
            bus=bus,
            customer_file=SqlCustomerFile(database),
            follow=kind == "follow",
        )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    if kind != "baseline":
        follower = app[SERVER].follower
        gc.freeze()  # as `tamas popup-server` does once it listens
    pipe.send(("listening", runner.addresses[0][1]))
    try:
        while True:
            command = await loop.run_in_executor(None, pipe.recv)
            if command[0] == "rss":
                pipe.send(("rss", _rss_kib()))
            elif command[0] == "inject":
                _, rate, duration_s, agents = command
                # Warm up (connection pool, prepared statements, caches); not measured.
                await _inject(rate, WARMUP_S, agents, follower, sockets, prefix="warm")
                cpu_before, gc_before = time.process_time(), gc_seconds[0]
                gc_seconds[1] = 0.0
                sent = await _inject(rate, duration_s, agents, follower, sockets)
                cpu_s, gc_s = time.process_time() - cpu_before, gc_seconds[0] - gc_before
                pipe.send(("injected", sent, cpu_s, gc_s, gc_seconds[1]))
            elif command[0] == "stop":
                break
    finally:
        await runner.cleanup()
        if database is not None:
            await database.dispose()
    pipe.send(("stopped",))


async def _inject(
    rate: float,
    duration_s: float,
    agents: list[str],
    follower: Any,
    sockets: dict[str, Any],
    prefix: str = "bench",
) -> int:
    """Calls at `rate` per second for `duration_s`: each rings one agent, is answered 1 s
    later and hung up 3 s later (so some hundred calls are live at any time)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent = 0
    pending: set[asyncio.TimerHandle] = set()
    while (now := loop.time()) - start < duration_s:
        due = start + sent / rate
        if due > now:
            await asyncio.sleep(due - now)
        agent = random.choice(agents)
        sent += 1
        if follower is None:  # the baseline: one timestamped frame to that agent's socket
            ws = sockets.get(agent)
            if ws is not None:
                frame = {
                    "type": "call.popup",
                    "payload": {"agent": agent, "linkedid": f"{prefix}-{sent}"},
                    "observed_at": time.time(),
                }
                await ws.send_str(json.dumps(frame))
            continue
        linkedid = f"{prefix}-{uuid.uuid4().hex[:12]}"
        index = random.randrange(int(CUSTOMERS / (1 - UNKNOWN_SHARE)))
        caller = {
            "Channel": f"Local/s@bench-caller-{sent:08x};1",
            "Uniqueid": linkedid,
            "Linkedid": linkedid,
            "CallerIDNum": _phone(index),
            "CallerIDName": f"مشتری {index}",
            "Queue": "support",
        }
        agent_channel = f"Local/{agent}@bench-{sent:08x};1"
        follower.feed({**caller, "Event": "QueueCallerJoin"})
        follower.feed({**caller, "Event": "AgentCalled", "DestChannel": agent_channel})
        for delay, event in (
            (1.0, {**caller, "Event": "AgentConnect", "DestChannel": agent_channel}),
            (3.0, {**caller, "Event": "Hangup"}),
        ):
            handle = loop.call_later(delay, follower.feed, event)
            pending.add(handle)
    await asyncio.sleep(3.5)  # let the last calls end
    return sent


# ------------------------------------------------------------------------------ desktops


def _desktops_process(pipe: Connection, port: int, sessions: list[tuple[str, str]]) -> None:
    asyncio.run(_desktops(pipe, port, sessions))


async def _desktops(pipe: Connection, port: int, sessions: list[tuple[str, str]]) -> None:
    import aiohttp

    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    whole: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=0)
    client = aiohttp.ClientSession(connector=connector)
    readers: list[asyncio.Task[None]] = []
    gate = asyncio.Semaphore(64)

    async def desktop(agent: str, token: str) -> None:
        nonlocal failures
        async with gate:
            try:
                ws = await client.ws_connect(
                    f"http://127.0.0.1:{port}/ws?agent={agent}",
                    headers={"Authorization": f"Bearer {token}"},
                    heartbeat=None,
                )
                await ws.receive()  # hello
            except (aiohttp.ClientError, OSError):
                failures += 1
                return
        readers.append(asyncio.create_task(read(ws)))

    seen: set[str] = set()

    async def read(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            received = time.time()
            frame = json.loads(message.data)
            if frame["type"] != "call.popup" or not frame.get("observed_at"):
                continue
            latency = received - frame["observed_at"]
            payload = frame["payload"]
            linkedid = payload["linkedid"]
            if linkedid.startswith("warm"):
                continue
            if linkedid not in seen:  # who is calling: the first card of the call
                seen.add(linkedid)
                latencies.append(latency)
            if payload.get("lookup", "found") != "loading":  # the whole file is there
                whole.append(latency)

    await asyncio.gather(*(desktop(agent, token) for agent, token in sessions))
    pipe.send(("ready", failures))
    await loop.run_in_executor(None, pipe.recv)  # "stop"
    for task in readers:
        task.cancel()
    await client.close()
    pipe.send(("latencies", latencies, whole))


# ------------------------------------------------------------------------------ one run


def _expect(pipe: Connection, what: str, timeout_s: float = 300) -> tuple[Any, ...]:
    if not pipe.poll(timeout_s):
        raise RuntimeError(f"no {what!r} from a benchmark process within {timeout_s} s")
    reply: tuple[Any, ...] = pipe.recv()
    if reply[0] != what:
        raise RuntimeError(f"expected {what!r}, got {reply!r}")
    return reply


def _run(
    name: str,
    url: str,
    sessions: list[tuple[str, str]],
    rate: float,
    duration_s: float,
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    channel = f"tamas:bench:{uuid.uuid4().hex}"
    servers: list[tuple[Any, Connection]] = []

    def start_server(kind: str, bus: str) -> tuple[Connection, int]:
        parent, child = context.Pipe()
        process = context.Process(target=_server_process, args=(child, kind, url, bus, channel))
        process.start()
        servers.append((process, parent))
        return parent, _expect(parent, "listening", 120)[1]

    if name == "baseline":
        injector, port = start_server("baseline", "")
        serving = injector
    elif name == "popup":
        injector, port = start_server("follow", "inproc")
        serving = injector
    else:  # redis: the desktops connect to a server that does not follow
        injector, _ = start_server("follow", "redis")
        serving, port = start_server("serve", "redis")
    serving.send(("rss",))
    rss_before = _expect(serving, "rss")[1]

    parent, child = context.Pipe()
    desktops = context.Process(target=_desktops_process, args=(child, port, sessions))
    desktops.start()
    failures = _expect(parent, "ready", 600)[1]
    time.sleep(1.0)
    serving.send(("rss",))
    rss_after = _expect(serving, "rss")[1]

    injector.send(("inject", rate, duration_s, [agent for agent, _ in sessions]))
    _, sent, cpu_s, gc_s, gc_max_s = _expect(injector, "injected", WARMUP_S + duration_s + 120)
    parent.send(("stop",))
    _, first, whole = _expect(parent, "latencies", 120)
    latencies, whole = sorted(first), sorted(whole)
    desktops.join(30)
    for process, pipe in servers:
        pipe.send(("stop",))
        _expect(pipe, "stopped", 60)
        process.join(30)

    connected = len(sessions) - failures
    result = {
        "run": name,
        "agents_connected": connected,
        "calls": sent,
        "popups_received": len(latencies),
        "p50_ms": _ms(latencies, 0.50),
        "p99_ms": _ms(latencies, 0.99),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
        "whole_file_p50_ms": _ms(whole, 0.50),
        "whole_file_p99_ms": _ms(whole, 0.99),
        "rss_per_connection_kib": round((rss_after - rss_before) / max(1, connected), 1),
        # CPU of the process fed the AMI events, per call (the run's sum, with its websockets
        # in the in-process runs), and how much of it went to the garbage collector.
        "follower_cpu_ms_per_call": round(cpu_s * 1000 / max(1, sent), 2),
        "follower_gc_ms_per_call": round(gc_s * 1000 / max(1, sent), 2),
        "follower_gc_longest_pause_ms": round(gc_max_s * 1000, 1),
    }
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return result


def _ms(sorted_values: list[float], quantile: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, int(quantile * len(sorted_values)))
    return round(sorted_values[index] * 1000, 2)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.popup_latency", description=__doc__)
    parser.add_argument("--agents", type=int, default=2000, help="connected desktops")
    parser.add_argument("--rate", type=float, default=50.0, help="calls per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of calls per run")
    parser.add_argument("--no-redis", action="store_true", help="skip the two-process run")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="postgresql",
        help="where the customer file lives (postgresql: a scratch database on the local server)",
    )
    args = parser.parse_args(argv)
    random.seed(7)

    with tempfile.TemporaryDirectory(prefix="tamas-bench-popup-") as folder:
        if args.database == "sqlite":
            url = f"sqlite+aiosqlite:///{folder}/popup.sqlite3"
        else:
            url = asyncio.run(_scratch_postgres())
        started = time.monotonic()
        sessions = asyncio.run(_prepare(url, args.agents))
        print(
            f"prepared {args.agents} agents and {CUSTOMERS} customers in "
            f"{time.monotonic() - started:.1f} s; {args.rate:g} calls/s for {args.duration:g} s",
            flush=True,
        )
        runs = ["baseline", "popup"] + ([] if args.no_redis else ["redis"])
        results = {name: _run(name, url, sessions, args.rate, args.duration) for name in runs}

    base = results["baseline"]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nload average at the end: {load} on {os.cpu_count()} CPUs (other work skews these)")
    print(
        f"{'run':10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'file p50':>9} {'file p99':>9} "
        f"{'KiB/conn':>9} {'calls':>6} {'popups':>7}"
    )
    for name, result in results.items():
        print(
            f"{name:10} {result['p50_ms']!s:>8} {result['p99_ms']!s:>8} {result['max_ms']!s:>8} "
            f"{result['whole_file_p50_ms']!s:>9} {result['whole_file_p99_ms']!s:>9} "
            f"{result['rss_per_connection_kib']!s:>9} {result['calls']:>6} "
            f"{result['popups_received']:>7}"
        )
    print("p50/p99: AMI event -> first card (who is calling); file: -> card with the whole file")
    for name in runs[1:]:
        result = results[name]
        if result["p99_ms"] and base["p99_ms"]:
            print(
                f"{name}: p99 {result['p99_ms']} ms = {result['p99_ms'] / base['p99_ms']:.1f}x "
                f"the bare websocket push ({base['p99_ms']} ms); goal p99 < 50 ms: "
                f"{'met' if result['p99_ms'] < 50 else 'NOT met'}"
            )
    lost = [n for n in runs[1:] if results[n]["popups_received"] < results[n]["calls"]]
    if lost:
        print(f"popups lost in: {', '.join(lost)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
