"""SMS over SMPP 3.4 to an operator's or aggregator's SMSC, through aiosmpplib's ESME: bound
as a transceiver, kept alive with enquire_link, reconnected (with backoff) when the link drops.

Each message is cut by messaging/sms_text.py (GSM-7 or UCS-2, 8-bit-reference UDH; the
library's own splitting counts extension characters as one and switches to 16-bit references,
which would not match what the outbox bills) and every part goes as its own submit_sm with
the UDHI bit, each holding its place in the provider's sending rate (rates.py) until the
SMSC answers it. What the SMSC
answers decides the row, as for HTTP: ESME_ROK for every part: sent, the first part's
message_id kept; ESME_RTHROTTLED / ESME_RMSGQFUL: the part is waited out and sent again; a
refusal of the first part: failed (or pending, for the SMSC's own trouble); no answer in
time, a link that drops after a part went out, or a refusal after some parts were taken:
uncertain (SMPP's query_sm is not offered by the library, so an uncertain SMPP message waits
for a person). A message never goes out while the session is not bound: it stays pending.

deliver_sm from the SMSC are delivery receipts (matched to the outbox row through the part's
reference, or the SMSC's message id after a restart) or texts customers sent (handed to
`on_text`, for the text service; a long one the library joins from its UDH or SAR parts)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

from aiosmpplib import (
    ESME,
    NPI,
    TON,
    AbstractBroker,
    AbstractHook,
    AbstractRetryTimer,
    DeliverSm,
    GenericNack,
    PhoneNumber,
    SmppCommandStatus,
    SmppMessage,
    SmppSessionState,
    SubmitSm,
    SubmitSmResp,
)

from integrations.messaging.port import GatewayError, Outgoing
from integrations.messaging.rates import SendingRate
from integrations.messaging.sms_http import DeliveryReport, InboundText
from messaging import sms_text

log = logging.getLogger(__name__)

# A receipt's `stat` in our words.
RECEIPT_STATUS = {
    "DELIVRD": "delivered",
    "EXPIRED": "expired",
    "DELETED": "rejected",
    "UNDELIV": "undelivered",
    "ACCEPTD": "enroute",
    "ENROUTE": "enroute",
    "UNKNOWN": "enroute",
    "REJECTD": "rejected",
}
THROTTLED = (SmppCommandStatus.ESME_RTHROTTLED, SmppCommandStatus.ESME_RMSGQFUL)
# The SMSC's own trouble: the part was not taken, and may be later.
LATER = (SmppCommandStatus.ESME_RSYSERR, SmppCommandStatus.ESME_RSUBMITFAIL)
THROTTLED_TRIES = 5
UDHI = 0b01000000

Report = Callable[[DeliveryReport, str | None], Awaitable[None]]
Text = Callable[[InboundText], Awaitable[None]]


class _Broker(AbstractBroker):
    """The ESME's queue of PDUs to send, from which a part not yet sent can be withdrawn (its
    message then stays pending and is sent whole later, never twice)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[SmppMessage] = asyncio.Queue()
        self._withdrawn: set[str] = set()
        self.taken: set[str] = set()

    async def enqueue(self, message: SmppMessage) -> None:
        await self._queue.put(message)

    async def dequeue(self) -> SmppMessage:
        while True:
            message = await self._queue.get()
            log_id = getattr(message, "log_id", "")
            if log_id in self._withdrawn:
                self._withdrawn.discard(log_id)
                continue
            if log_id:
                self.taken.add(log_id)
            return message

    def withdraw(self, log_id: str) -> bool:
        """True when the part had not been taken for sending (it never will be)."""
        if log_id in self.taken:
            return False
        self._withdrawn.add(log_id)
        return True

    def forget(self, log_id: str) -> None:
        """The part is settled (answered, or withdrawn): nothing more to know of it."""
        self.taken.discard(log_id)


class _Backoff(AbstractRetryTimer):
    """Reconnect after `first_s`, doubling up to `most_s`."""

    def __init__(self, first_s: float, most_s: float) -> None:
        self.first_s, self.most_s = first_s, most_s
        self._next_s = 0.0

    async def wait(self) -> None:
        if self._next_s:
            await asyncio.sleep(self._next_s)
        self._next_s = min(self.most_s, (self._next_s * 2) or self.first_s)

    def reset(self) -> None:
        self._next_s = 0.0

    def next_delay(self) -> float:
        return self._next_s


class _Hook(AbstractHook):
    def __init__(self, gateway: SmppGateway) -> None:
        self.gateway = gateway

    async def sending(self, smpp_message: SmppMessage, pdu: bytes, client_id: str) -> None:
        return None

    async def received(self, smpp_message: SmppMessage | None, pdu: bytes, client_id: str) -> None:
        if isinstance(smpp_message, SubmitSmResp | GenericNack):
            self.gateway._answered(getattr(smpp_message, "log_id", ""), smpp_message)
        elif isinstance(smpp_message, DeliverSm):
            await self.gateway._delivered(smpp_message)

    async def send_error(self, smpp_message: SmppMessage, error: Exception, client_id: str) -> None:
        self.gateway._answered(getattr(smpp_message, "log_id", ""), error)


class SmppGateway:
    """One SMPP account. Adapter for the outbox sender; `start` binds it in the background."""

    def __init__(
        self,
        host: str,
        port: int,
        system_id: str,
        password: str,
        *,
        sender: str = "",
        rate: SendingRate | None = None,
        provider: str = "smpp",
        on_report: Report | None = None,
        on_text: Text | None = None,
        answer_timeout_s: float = 10.0,
        bind_timeout_s: float = 5.0,
        enquire_link_s: float = 30.0,
        reconnect_s: tuple[float, float] = (1.0, 30.0),
    ) -> None:
        self.provider = provider
        self.sender = sender
        self.rate = rate
        self.on_report = on_report
        self.on_text = on_text
        self.answer_timeout_s = answer_timeout_s
        self.bind_timeout_s = bind_timeout_s
        # A short code or number as it is; a name ("Bimeh") is alphanumeric to the SMSC.
        self._source = PhoneNumber(
            sender, TON.UNKNOWN if sender.isdigit() or not sender else TON.ALPHANUMERIC
        )
        self._broker = _Broker()
        self._waiting: dict[str, asyncio.Future[Any]] = {}
        self._references = iter(range(1, 1 << 62))
        self.esme = ESME(
            smsc_host=host,
            smsc_port=port,
            system_id=system_id,
            password=password,
            enquire_link_interval=float(enquire_link_s),
            hook=_Hook(self),
            broker=self._broker,
            retry_timer=_Backoff(*reconnect_s),
            socket_timeout=float(answer_timeout_s),
            # The library's own lines quote whole messages (numbers and texts: personal data);
            # what matters is logged here and by the outbox sender, naming the outbox row.
            log_level=logging.CRITICAL,
        )
        self._task: asyncio.Task[None] | None = None

    # --- the session ------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.esme.start(), name="smpp-esme")

    @property
    def bound(self) -> bool:
        return self.esme.session_state == SmppSessionState.BOUND_TRX

    async def wait_bound(self, timeout_s: float) -> bool:
        self.start()
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not self.bound:
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # the session's end is not an error
                pass
            self._task = None
        if self.rate is not None:
            await self.rate.close()

    # --- sending ----------------------------------------------------------------------
    async def send(self, message: Outgoing) -> str:
        if not await self.wait_bound(self.bind_timeout_s):
            raise GatewayError(f"{self.provider}: not bound to the SMSC", permanent=False)
        reference = next(self._references)
        pieces = sms_text.short_messages(message.body, reference & 0xFF)
        coding = "ucs2" if pieces[0][1] == sms_text.DATA_CODING["ucs2"] else None
        split = len(pieces) > 1
        first_id: str | None = None
        for number, (user_data, _) in enumerate(pieces, start=1):
            log_id = f"{message.reference}/{number}/{reference}"
            try:
                message_id = await self._submit(log_id, message, user_data, coding, split)
            except GatewayError as error:
                if first_id is not None:  # parts already taken: the phone has half a text
                    raise GatewayError(str(error), permanent=False, uncertain=True) from error
                raise
            first_id = first_id or message_id
        assert first_id is not None
        return first_id

    async def _submit(
        self, log_id: str, message: Outgoing, user_data: bytes, coding: str | None, split: bool
    ) -> str:
        for _ in range(THROTTLED_TRIES):
            part = SubmitSm(
                short_message=message.body[:1] or " ",  # the bytes are set below
                source=self._source,
                # E.164 without its "+": international, ISDN numbering (SMPP 3.4, 5.2.5-6).
                destination=PhoneNumber(message.to.lstrip("+"), TON.INTERNATIONAL, NPI.ISDN),
                esm_class=UDHI if split else 0,
                encoding=coding,
                registered_delivery=1,
                log_id=log_id,
                extra_data=message.reference,
            )
            part.set_encoded_message(user_data)
            if self.rate is None:
                answer = await self._answer(log_id, part)
            else:
                # Each PDU holds its place in the SMSC's rate until it is answered.
                async with self.rate.request():
                    answer = await self._answer(log_id, part)
            if (
                isinstance(answer, SubmitSmResp)
                and answer.command_status == SmppCommandStatus.ESME_ROK
            ):
                return answer.message_id
            status = getattr(answer, "command_status", None)
            if status in THROTTLED:
                log.warning("%s throttled a part; waiting a second", self.provider)
                await asyncio.sleep(1.0)
                continue
            if isinstance(answer, GenericNack) or status in LATER:
                raise GatewayError(f"{self.provider} answered {status}: later", permanent=False)
            name = status.name if isinstance(status, SmppCommandStatus) else str(status)
            raise GatewayError(f"{self.provider} refused the message ({name})", permanent=True)
        raise GatewayError(f"{self.provider} kept throttling", permanent=False)

    async def _answer(self, log_id: str, part: SubmitSm) -> SmppMessage:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[log_id] = future
        try:
            await self._broker.enqueue(part)
            try:
                answer = await asyncio.wait_for(asyncio.shield(future), self.answer_timeout_s)
            except TimeoutError:
                if self._broker.withdraw(log_id):
                    raise GatewayError(
                        f"{self.provider}: the link went down before the part left", permanent=False
                    ) from None
                raise GatewayError(
                    f"no answer from {self.provider}", permanent=False, uncertain=True
                ) from None
        finally:
            self._waiting.pop(log_id, None)
            self._broker.forget(log_id)
        if isinstance(answer, ValueError):
            raise GatewayError(f"{self.provider}: the part cannot be encoded", permanent=True)
        if isinstance(answer, Exception):
            # The link broke while the part was going out: it may have reached the SMSC.
            raise GatewayError(
                f"{self.provider}: link lost mid-send ({type(answer).__name__})",
                permanent=False,
                uncertain=True,
            )
        return cast(SmppMessage, answer)

    def _answered(self, log_id: str, answer: object) -> None:
        future = self._waiting.get(log_id)
        if future is not None and not future.done():
            future.set_result(answer)

    # --- what the SMSC delivers -------------------------------------------------------
    async def _delivered(self, deliver: DeliverSm) -> None:
        try:
            if deliver.is_receipt():
                await self._receipt(deliver)
            elif self.on_text is not None:
                await self.on_text(self._text(deliver))
        except Exception:  # a failing consumer must not take the session down
            log.exception("%s: a deliver_sm could not be handled", self.provider)

    async def _receipt(self, deliver: DeliverSm) -> None:
        receipt = deliver.parse_receipt()
        provider_id = str(receipt.get("id") or "")
        status = RECEIPT_STATUS.get(str(receipt.get("stat") or "").upper())
        if not provider_id or status is None or self.on_report is None:
            return
        error = None if status == "delivered" else str(receipt.get("err") or receipt.get("stat"))
        # The part's log_id names the outbox row when the library correlated the receipt.
        reference = deliver.extra_data or None
        await self.on_report(DeliveryReport(provider_id, status, error), reference)

    def _text(self, deliver: DeliverSm) -> InboundText:
        """The customer's text; a long one (UDH or SAR parts) the library has joined."""
        source = deliver.source.number
        text = deliver.short_message or deliver.message_payload
        # deliver_sm carries no id of its own; an SMSC redelivering a text (our answer lost)
        # sends the same sender and words within the minute: one inbox row.
        minute = datetime.now(UTC).strftime("%Y%m%d%H%M")
        digest = hashlib.sha256(f"{source}|{text}|{minute}".encode()).hexdigest()[:32]
        number = source if source.startswith("+") else f"+{source}"
        return InboundText(digest, number, deliver.destination.number or None, text)
