"""Reading Asterisk's own queue_log into the event store, from where the last run stopped.

The position (file identity, byte offset, last line) is stored in the same transaction as the
events it covers, so a kill at any moment resumes at a line boundary already stored; and each
event's idempotent key makes a line read twice count once. When Asterisk's logger rotates the
file (renamed aside, a new one opened) or a new file appears under the name, the rest of the
old file is read first if it is still beside it, then the new one from its start.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from supervisors.events import (
    CEL,
    BadLine,
    EventStore,
    Position,
    QueueEvent,
    known_agents,
    parse_queue_log_line,
)
from supervisors.metrics import LOCAL_TRANSFER, agent_for_extension
from supervisors.tables import AsteriskCelRow

log = logging.getLogger(__name__)

# Lines stored per transaction: small enough to keep a transaction short, large enough that a
# backlog of millions of lines goes at thousands of lines a second.
BATCH_LINES = 2000
READ_BYTES = 1 << 20


@dataclass(frozen=True)
class FileState:
    inode: int
    size: int
    head: str


def _head(path: Path) -> str:
    """A hash of the file's first whole line: another file under the same name differs."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(4096)
    except FileNotFoundError:
        return ""
    if not first.endswith(b"\n"):
        return ""
    return hashlib.sha1(first).hexdigest()


def file_state(path: Path) -> FileState | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return FileState(inode=stat.st_ino, size=stat.st_size, head=_head(path))


def _rotated_copy(path: Path, inode: int) -> Path | None:
    """The file that was `path` before a rotation (queue_log.0, queue_log.1, queue_log-2026..)."""
    for candidate in sorted(path.parent.glob(path.name + "*")):
        if candidate == path:
            continue
        try:
            if candidate.stat().st_ino == inode:
                return candidate
        except FileNotFoundError:
            continue
    return None


class QueueLogIngester:
    """Reads one queue_log file into the store; `source` names its stored position."""

    def __init__(self, store: EventStore, path: Path, source: str | None = None) -> None:
        self.store = store
        self.path = path
        self.source = source or f"queue_log:{path}"
        self.bad_lines = 0

    async def ingest(self) -> int:
        """Read every whole line written since the last run; returns how many events were new."""
        position = await self.store.position(self.source)
        state = await asyncio.to_thread(file_state, self.path)
        if state is None:
            return 0
        added = 0
        if position.inode and self._replaced(position, state):
            old = await asyncio.to_thread(_rotated_copy, self.path, position.inode)
            if old is not None:
                log.info("queue_log was rotated; reading the rest of %s first", old.name)
                added += await self._read(old, position, final=True)
            else:
                log.warning(
                    "queue_log %s is a new file and the old one is gone: reading it from the start",
                    self.path,
                )
            position = Position(source=self.source)
            state = await asyncio.to_thread(file_state, self.path)
            if state is None:
                return added
        if not position.inode or position.inode != state.inode:
            position = Position(source=self.source, inode=state.inode, head=state.head)
        if not position.head and state.head:
            position = _moved(position, head=state.head)
        added += await self._read(self.path, position, final=False)
        return added

    @staticmethod
    def _replaced(position: Position, state: FileState) -> bool:
        if position.inode != state.inode or state.size < position.offset:
            return True
        return bool(position.head and state.head and position.head != state.head)

    async def _read(self, path: Path, position: Position, final: bool) -> int:
        added = 0
        while True:
            chunk = await asyncio.to_thread(_read_at, path, position.offset, READ_BYTES)
            end = chunk.rfind(b"\n")
            if end < 0:
                return added
            events: list[QueueEvent] = []
            last_line, repeat = position.last_line, position.repeat
            offset = position.offset
            for raw in chunk[: end + 1].splitlines(keepends=True):
                offset += len(raw)
                line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
                if not line:
                    continue
                repeat = repeat + 1 if line == last_line else 0
                last_line = line
                try:
                    events.append(parse_queue_log_line(line, repeat))
                except BadLine as error:
                    self.bad_lines += 1
                    log.warning("skipped a queue_log line: %s", error)
                if len(events) >= BATCH_LINES:
                    position = _moved(position, offset=offset, last_line=line, repeat=repeat)
                    added += await self._store(events, position, final)
                    events = []
            position = _moved(position, offset=offset, last_line=last_line, repeat=repeat)
            added += await self._store(events, position, final)

    async def _store(self, events: list[QueueEvent], position: Position, final: bool) -> int:
        # The rest of a rotated file moves no position: the new file's is stored next.
        return await self.store.add(events, None if final else position)

    async def follow(self, stop: asyncio.Event, poll_s: float = 0.5) -> None:
        """Ingest until `stop` is set, looking for new lines every `poll_s` seconds."""
        while not stop.is_set():
            try:
                await self.ingest()
            except OSError as error:
                log.warning("cannot read %s (%s); trying again", self.path, error)
            try:
                await asyncio.wait_for(stop.wait(), poll_s)
            except TimeoutError:
                pass


def _moved(position: Position, **changes: Any) -> Position:
    return replace(position, **changes)


def _read_at(path: Path, offset: int, size: int) -> bytes:
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read(size)
    except FileNotFoundError:
        return b""


def default_queue_log(sandbox_dir: Path) -> Path:
    """The sandbox Asterisk's queue_log (a real deployment sets `report_queue_log`)."""
    return sandbox_dir.resolve() / "root/var/log/asterisk/queue_log"


# ---------------------------------------------------------------- CEL: transfers behind Local

CEL_SOURCE = "cel:asterisk_cel"
_TRANSFERS = {"BLINDTRANSFER": "blind", "ATTENDEDTRANSFER": "attended"}
# The extension in a channel name: PJSIP/101-0000002a, Local/101@tamas-agents-00000012;2.
_EXTENSION = re.compile(r"^(?:Local|PJSIP|SIP|IAX2)/(\d+)")
CEL_BATCH = 1000


class CelIngester:
    """Reads the transfers in Asterisk's CEL (written by cel_pgsql into asterisk_cel) into the
    store as `metrics.LOCAL_TRANSFER` events of the queue call they move on, from the last CEL
    id read. queue_log never sees an agent's phone transferring the caller on the far side of
    a Local channel: without these, the first agent is credited the whole call."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    async def ingest(self) -> int:
        added = 0
        while True:
            position = await self.store.position(CEL_SOURCE)
            async with self.store.database.autocommit() as connection:
                if connection.dialect.name != "postgresql":
                    return added  # Asterisk writes CEL into PostgreSQL only
                rows = list(
                    await connection.execute(
                        select(AsteriskCelRow)
                        .where(
                            AsteriskCelRow.id > position.offset,
                            AsteriskCelRow.eventtype.in_(list(_TRANSFERS)),
                        )
                        .order_by(AsteriskCelRow.id)
                        .limit(CEL_BATCH)
                    )
                )
            if not rows:
                return added
            events = [event for row in rows if (event := await self._transfer(row)) is not None]
            moved = replace(position, offset=rows[-1].id)
            added += await self.store.add(events, moved)

    async def _transfer(self, row: Any) -> QueueEvent | None:
        channel = row.channame or ""
        if channel.startswith("Local/") and channel.endswith(";1"):
            # The queue's own member channel transferred: queue_log wrote that transfer.
            return None
        found = _EXTENSION.match(channel)
        if found is None or not row.linkedid:
            return None
        try:
            extra = json.loads(row.extra or "{}")
        except ValueError:
            extra = {}
        target = str(extra.get("extension") or "")
        if not target:
            match = _EXTENSION.match(str(extra.get("transfer_target_channel_name") or ""))
            target = match.group(1) if match else ""
        call = await self.store.load_call(row.linkedid)
        if not call or not target:
            return None  # not a queue call (or nowhere to credit the rest of it)
        # Who the target is: a member seen lately (the transfer may go to an agent who has
        # taken no call of this queue yet).
        agents = known_agents(call) | await self.store.agents_seen(call[0].at - timedelta(days=7))
        queue = next(event.queue for event in reversed(call) if event.event == "ENTERQUEUE")
        at = row.eventtime if row.eventtime.tzinfo else row.eventtime.replace(tzinfo=UTC)
        return QueueEvent(
            at=at,
            callid=row.linkedid,
            queue=queue,
            agent=agent_for_extension(found.group(1), agents),
            event=LOCAL_TRANSFER,
            data=(_TRANSFERS[row.eventtype], agent_for_extension(target, agents)),
            source=CEL,
            key=hashlib.sha1(f"cel|{row.id}|{row.uniqueid}|{at.isoformat()}".encode()).hexdigest(),
        )


async def follow_cel(cel: CelIngester, stop: asyncio.Event, poll_s: float = 0.5) -> None:
    """Read new CEL transfers until `stop` is set; a database hiccup is retried."""
    while not stop.is_set():
        try:
            await cel.ingest()
        except (OSError, SQLAlchemyError) as error:
            log.warning("cannot read Asterisk's CEL (%s); trying again", type(error).__name__)
        try:
            await asyncio.wait_for(stop.wait(), poll_s)
        except TimeoutError:
            pass
