"""A small SMSC on loopback speaking SMPP 3.4 (minimal PDU handling; the PDUs it answers are
built with aiosmpplib's message classes): binds a transceiver, answers submit_sm with a
message id, enquire_link, unbind; joins UDH-concatenated parts back into texts; sends
delivery receipts and customers' texts (MO) as deliver_sm. For tests and bench/.

Failures on demand: `refuse_bind` (ESME_RBINDFAIL), `throttle_over_s` (ESME_RTHROTTLED past a
rate), `fail_next` (ESME_RSYSERR), `drop_next` (the part is taken and the connection closed
before the answer), `delay_s` (slow answers), `refuse_numbers` (ESME_RINVDSTADR)."""

from __future__ import annotations

import asyncio
import itertools
import struct
import time
from collections import deque
from dataclasses import dataclass, field

from aiosmpplib import (
    BindTransceiverResp,
    DeliverSm,
    EnquireLinkResp,
    GenericNack,
    PhoneNumber,
    SmppCommand,
    SmppCommandStatus,
    SubmitSmResp,
    UnbindResp,
)

from messaging import sms_text

HEADER = struct.Struct("!IIII")


@dataclass
class Part:
    message_id: str
    source: str
    destination: str
    esm_class: int
    data_coding: int
    user_data: bytes
    at: float
    delivered: bool = False


def _cstring(body: bytes, at: int) -> tuple[str, int]:
    end = body.index(b"\x00", at)
    return body[at:end].decode("ascii", "replace"), end + 1


def short_message_fields(body: bytes) -> tuple[str, str, int, int, bytes]:
    """source, destination, esm_class, data_coding and the short_message bytes of a submit_sm
    or deliver_sm body (the PDU after its 16-byte header): the two share their layout."""
    _, at = _cstring(body, 0)  # service_type
    source, at = _cstring(body, at + 2)  # after source_addr_ton and _npi
    destination, at = _cstring(body, at + 2)
    esm_class = body[at]
    _, at = _cstring(body, at + 3)  # schedule_delivery_time, after protocol_id, priority_flag
    _, at = _cstring(body, at)  # validity_period
    data_coding = body[at + 2]  # after registered_delivery and replace_if_present_flag
    length = body[at + 4]  # after sm_default_msg_id
    return source, destination, esm_class, data_coding, body[at + 5 : at + 5 + length]


@dataclass
class LocalSmsc:
    system_id: str = "tamas"
    password: str = "secret"
    refuse_bind: bool = False
    throttle_over_s: int | None = None
    fail_next: int = 0
    drop_next: int = 0
    delay_s: float = 0.0
    refuse_numbers: set[str] = field(default_factory=set)
    parts: list[Part] = field(default_factory=list)
    binds: int = 0
    enquire_links: int = 0
    throttled: int = 0
    port: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5_000_001))
    _sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _recent: deque[float] = field(default_factory=deque)
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> LocalSmsc:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.drop_sessions()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def drop_sessions(self) -> None:
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    # --- what went through ------------------------------------------------------------
    def texts(self) -> list[tuple[str, str]]:
        """(destination, text) of every message taken, its parts joined."""
        joined: dict[tuple[str, int], list[Part]] = {}
        whole: list[tuple[str, str]] = []
        for part in self.parts:
            if part.esm_class & 0x40:
                joined.setdefault((part.destination, part.user_data[3]), []).append(part)
            else:
                whole.append((part.destination, sms_text.decode(part.user_data, part.data_coding)))
        for (destination, _), pieces in joined.items():
            data = [piece.user_data for piece in pieces]
            whole.append((destination, sms_text.join(data, pieces[0].data_coding)))
        return whole

    # --- sending to the ESME ----------------------------------------------------------
    async def _push(self, deliver: DeliverSm) -> None:
        deliver.sequence_num = next(self._sequence)
        for writer in list(self._writers):
            writer.write(deliver.pdu())
            await writer.drain()
            return

    async def deliver_all(self, stat: str = "DELIVRD") -> int:
        """A delivery receipt for every part not yet reported; how many were sent."""
        sent = 0
        for part in self.parts:
            if part.delivered:
                continue
            part.delivered = True
            receipt = (
                f"id:{part.message_id} sub:001 dlvrd:001 submit date:2612010000 "
                f"done date:2612010001 stat:{stat} err:000 text:"
            )
            await self._push(
                DeliverSm(
                    short_message=receipt,
                    source=PhoneNumber(part.destination),
                    destination=PhoneNumber(part.source),
                    esm_class=0x04,
                )
            )
            sent += 1
        return sent

    async def text_from(self, sender: str, text: str, to: str = "3000") -> None:
        """A customer texts us (MO); a long text in UDH-concatenated parts, as phones send."""
        coding = None if sms_text.encoding(text) == "gsm7" else "ucs2"
        pieces = sms_text.short_messages(text, reference=next(self._sequence) & 0xFF)
        for user_data, _ in pieces:
            deliver = DeliverSm(
                short_message=text[:1] or " ",
                source=PhoneNumber(sender.lstrip("+")),
                destination=PhoneNumber(to),
                encoding=coding,
                esm_class=0x40 if len(pieces) > 1 else 0,
            )
            deliver.set_encoded_message(user_data)
            await self._push(deliver)

    # --- the session ------------------------------------------------------------------
    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readexactly(16)
                length, command, _, sequence = HEADER.unpack(head)
                body = await reader.readexactly(length - 16)
                answer = await self._answer(SmppCommand(command), sequence, body, writer)
                if answer is None:
                    continue
                if answer == b"":
                    writer.close()
                    return
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if writer in self._writers:
                self._writers.remove(writer)
            writer.close()

    async def _answer(
        self, command: SmppCommand, sequence: int, body: bytes, writer: asyncio.StreamWriter
    ) -> bytes | None:
        if command == SmppCommand.BIND_TRANSCEIVER:
            self.binds += 1
            system_id, password = body.split(b"\x00")[:2]
            account = (system_id.decode(), password.decode())
            if self.refuse_bind or account != (self.system_id, self.password):
                return BindTransceiverResp(sequence, SmppCommandStatus.ESME_RBINDFAIL).pdu()
            self._writers.append(writer)
            return BindTransceiverResp(sequence, system_id="localsmsc").pdu()
        if command == SmppCommand.ENQUIRE_LINK:
            self.enquire_links += 1
            return EnquireLinkResp(sequence).pdu()
        if command == SmppCommand.UNBIND:
            return UnbindResp(sequence).pdu()
        if command == SmppCommand.SUBMIT_SM:
            return await self._submit(sequence, body)
        if command in (SmppCommand.DELIVER_SM_RESP, SmppCommand.GENERIC_NACK):
            return None
        return GenericNack(sequence, SmppCommandStatus.ESME_RINVCMDID).pdu()

    async def _submit(self, sequence: int, body: bytes) -> bytes:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        now = time.time()
        if self.fail_next:
            self.fail_next -= 1
            return SubmitSmResp(sequence, SmppCommandStatus.ESME_RSYSERR).pdu()
        if self.throttle_over_s is not None:
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.throttle_over_s:
                self.throttled += 1
                return SubmitSmResp(sequence, SmppCommandStatus.ESME_RTHROTTLED).pdu()
            self._recent.append(now)
        source, destination, esm_class, data_coding, user_data = short_message_fields(body)
        if destination in self.refuse_numbers:
            return SubmitSmResp(sequence, SmppCommandStatus.ESME_RINVDSTADR).pdu()
        message_id = str(next(self._ids))
        self.parts.append(
            Part(message_id, source, destination, esm_class, data_coding, user_data, now)
        )
        if self.drop_next:
            self.drop_next -= 1
            return b""  # taken, and the connection closes before the answer
        return SubmitSmResp(sequence, message_id=message_id).pdu()
