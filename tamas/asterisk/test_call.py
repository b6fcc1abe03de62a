"""`tamas call`: place a real call through Asterisk, press keys, print the call's record.

The call is an AMI Originate of `Local/s@tamas-caller` (dialplans/caller.conf). That leg is
the caller: it answers, waits a second, then sends the keys as real DTMF with SendDTMF, where
`w` is a 0.5 s pause and `W` a 1 s pause. The other leg carries `--from` as its caller ID and
runs EXTENSION in the menu context, exactly as an inbound call would. We set the Originate's
ChannelId ourselves, so the call's linkedid is known before it starts; the call is over when
every channel with that linkedid has hung up. Then the interaction record is read from the
database and printed as JSON.

Tests call `place_call()` (or `run_call()` for the linkedid and events too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from integrations.database import Database
from interactions.records import InteractionRecords
from tamas.asterisk import variables as channel_variables
from tamas.asterisk.ami import AmiClient, AmiError, Message
from tamas.asterisk.config import agi_url
from tamas.settings import Settings

CALLER = "Local/s@tamas-caller"
DEFAULT_CONTEXT = "tamas-inbound"
DTMF = re.compile(r"[0-9*#A-DwW]*")
RECORD_WAIT_S = 5.0


class TestCallError(Exception):
    """The call could not be placed, did not end in time, or left no record."""

    __test__ = False  # not a pytest test class


@dataclass
class TestCall:
    """What happened to one test call."""

    __test__ = False

    linkedid: str
    reason: int | None = None
    channels: dict[str, str] = field(default_factory=dict)  # uniqueid -> channel name
    hangups: list[Message] = field(default_factory=list)
    record: dict[str, Any] | None = None

    @property
    def linkedids_reported(self) -> set[str]:
        """The Linkedid every Hangup event of the call carried (Asterisk's own word)."""
        return {str(event.get("Linkedid", "")) for event in self.hangups}


def _check_dtmf(dtmf: str) -> str:
    if not DTMF.fullmatch(dtmf):
        raise TestCallError(
            f"--dtmf {dtmf!r}: use only 0-9 * # A-D, and w (0.5 s pause) or W (1 s pause)"
        )
    return dtmf


async def run_call(
    settings: Settings,
    from_number: str,
    extension: str,
    dtmf: str = "",
    *,
    timeout_s: float = 60.0,
    context: str = DEFAULT_CONTEXT,
    hold_s: float | None = None,
    variables: Mapping[str, str] | None = None,
    ami: AmiClient | None = None,
    database: Database | None = None,
) -> TestCall:
    """Place the call and wait for its end and its record.

    `hold_s`: seconds the caller stays after its last key before hanging up (None: until the
    menu hangs up; 0: right after the keys, to test a caller hanging up mid-menu).
    `variables`: extra channel variables for the menu's leg, e.g. {"TAMAS_AGI":
    "agi://127.0.0.1:4599"} to reach a FastAGI server on another port than the settings'.
    """
    _check_dtmf(dtmf)
    own_client = ami is None
    client = ami or AmiClient.from_settings(settings, name="tamas-call")
    call = TestCall(linkedid=f"tamas-call-{uuid.uuid4().hex}")
    ended = asyncio.Event()

    def on_event(event: Message) -> None:
        if str(event.get("Linkedid", "")) != call.linkedid:
            return
        name = str(event.get("Event", "")).lower()
        uniqueid = str(event.get("Uniqueid", ""))
        if name == "newchannel":
            call.channels[uniqueid] = str(event.get("Channel", ""))
        elif name == "hangup":
            call.hangups.append(event)
            call.channels.pop(uniqueid, None)
            if not call.channels:
                ended.set()

    client.on_event("Newchannel", on_event)
    client.on_event("Hangup", on_event)
    try:
        if own_client:
            try:
                await client.connect()
            except (OSError, AmiError) as error:
                raise TestCallError(
                    f"cannot reach AMI at {settings.ami_host}:{settings.ami_port} ({error}); "
                    "is the sandbox running? (tamas sandbox up)"
                ) from error
        # TAMAS_AGI on the channel beats the dialplan's global: the call reaches the FastAGI
        # server these settings name, even if the sandbox was started with other settings.
        channel_vars = {
            channel_variables.DTMF: dtmf,
            channel_variables.AGI: agi_url(settings),
            **(variables or {}),
        }
        if hold_s is not None:
            channel_vars[channel_variables.HOLD_S] = f"{hold_s:g}"
        started = time.monotonic()
        result = await client.originate(
            CALLER,
            context=context,
            exten=extension,
            caller_id=f"<{from_number}>",
            variables=channel_vars,
            channel_id=call.linkedid,
            other_channel_id=f"{call.linkedid}-caller",
            timeout_ms=int(min(timeout_s, 30) * 1000),
        )
        call.reason = result.reason
        if not result.answered:
            raise TestCallError(
                f"the call was not answered (Originate reason {result.reason_name}); does "
                f"extension {extension} exist in context {context}? "
                f"(tamas sandbox cli dialplan show {context})"
            )
        remaining = max(0.1, timeout_s - (time.monotonic() - started))
        try:
            await asyncio.wait_for(ended.wait(), remaining)
        except TimeoutError as error:
            for name in list(call.channels.values()):
                try:
                    await client.send_action({"Action": "Hangup", "Channel": name}, 5)
                except AmiError:
                    pass
            # Hangup is queued, not done, when its response comes: wait for the Hangup events.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), 5)
            raise TestCallError(
                f"the call {call.linkedid} was still up after {timeout_s:g} s; hung it up"
            ) from error
    finally:
        client.remove_listener("Newchannel", on_event)
        client.remove_listener("Hangup", on_event)
        if own_client:
            await client.close()
    call.record = await fetch_record(settings, call.linkedid, database)
    return call


async def fetch_record(
    settings: Settings, linkedid: str, database: Database | None = None
) -> dict[str, Any]:
    """The call's interaction record once it is complete (the route writes its end just
    after the hang-up, so give it a moment)."""
    own = database is None
    db = database or Database(settings.effective_database_url)
    try:
        records = InteractionRecords(db)
        deadline = time.monotonic() + RECORD_WAIT_S
        record: dict[str, Any] | None = None
        while True:
            row = await records.load(linkedid)
            record = row.as_record() if row is not None else None
            if record is not None and record["ended_at"] is not None:
                return record
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
    finally:
        if own:
            await db.dispose()
    if record is None:
        raise TestCallError(
            f"the call {linkedid} ended but left no interaction record; is the FastAGI server "
            f"running (tamas agi) on {settings.fastagi_host}:{settings.fastagi_port}, with the "
            "same database_url?"
        )
    raise TestCallError(f"the interaction record of {linkedid} was never completed: {record}")


async def place_call(
    settings: Settings,
    from_number: str,
    extension: str,
    dtmf: str = "",
    **options: Any,
) -> dict[str, Any]:
    """Place a test call and return its interaction record (see `run_call` for options)."""
    call = await run_call(settings, from_number, extension, dtmf, **options)
    assert call.record is not None
    return call.record


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="from_number", required=True, help="caller's number")
    parser.add_argument("--to", dest="extension", required=True, help="extension to call")
    parser.add_argument(
        "--dtmf", default="", help="keys to press; w = 0.5 s pause, W = 1 s (e.g. 1w123456#w2)"
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="give up after S seconds")
    parser.add_argument("--context", default=DEFAULT_CONTEXT, help="dialplan context of --to")
    parser.add_argument(
        "--hold",
        type=float,
        default=None,
        help="hang up S seconds after the last key (default: wait for the menu to hang up)",
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from tamas.errors import CommandError

    try:
        record = await place_call(
            settings,
            args.from_number,
            args.extension,
            args.dtmf,
            timeout_s=args.timeout,
            context=args.context,
            hold_s=args.hold,
        )
    except TestCallError as error:
        raise CommandError(str(error)) from error
    print(json.dumps(record, ensure_ascii=False, indent=2))
    return 0
