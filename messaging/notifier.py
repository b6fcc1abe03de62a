"""Turns a core-system event or a daily-run finding into a notice: who it is for, by which
channel and address, in their language, then into the outbox and onto the customer's record.

Idempotent by the notice's key: the notice row is written (with its text and address) before
the message is queued, the message carries the notice's key, and a notice left half-done by a
dead process is finished by `resume`, which looks for its message first. Every notice becomes
an interaction (channel sms/email/fax, outbound) whose outcome follows the message to a final
state (`sync_deliveries`): delivered, undelivered, refused or expired."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from customer_file.port import CustomerFile
from customer_file.views import CustomerFileView
from dialer.do_not_call import DoNotCallList
from integrations.database import Database
from integrations.messaging.outbox import MessageRefused, OutboundMessage, Outbox
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords, MessagePart
from messaging import written
from messaging.core_events import BadEvent, CoreEvent
from messaging.notice_kinds import NoticeKind, for_event
from messaging.notice_store import Notice, NoticeStore
from messaging.notice_templates import NoticeTemplates

log = logging.getLogger(__name__)

# Values written as amounts, dates, instants and codes; any other value is written as given.
AMOUNTS = frozenset({"amount", "premium"})
DATES = frozenset({"end_date", "due_date", "meeting_date"})
INSTANTS = frozenset({"at"})
CODES = frozenset({"policy_number", "tracking_code", "cheque_number"})
PAYMENT_STATUS = {
    "paid": {"fa": "پرداخت شده", "en": "paid", "ru": "оплачено"},
    "unpaid": {"fa": "پرداخت نشده", "en": "not paid", "ru": "не оплачено"},
    "partly_paid": {"fa": "بخشی پرداخت شده", "en": "partly paid", "ru": "оплачено частично"},
    "installments": {"fa": "اقساطی", "en": "by installments", "ru": "в рассрочку"},
}
# A security notice goes even to a number that opted out of calls and reminders.
NOT_OPTIONAL = frozenset({"portal_login"})
# The outbox's statuses, as where the message got to for the person.
OUTBOX_OUTCOMES = {
    "pending": Outcome.MESSAGE_QUEUED,
    "sending": Outcome.MESSAGE_QUEUED,
    "uncertain": Outcome.SENT,
    "checking": Outcome.SENT,
    "sent": Outcome.SENT,
    "delivered": Outcome.DELIVERED,
    "failed": Outcome.UNDELIVERED,
    "undelivered": Outcome.UNDELIVERED,
    "expired": Outcome.EXPIRED,
    "refused": Outcome.REFUSED,
    "cancelled": Outcome.CANCELLED,
}
# The delivery report matched to a sent message (the outbox's delivery_status) outranks its
# sending status.
DELIVERY_OUTCOMES = {
    "delivered": Outcome.DELIVERED,
    "undelivered": Outcome.UNDELIVERED,
    "rejected": Outcome.UNDELIVERED,
    "expired": Outcome.EXPIRED,
}
# A notice accepted this long ago and never queued belongs to a process that died.
RESUME_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class Recipient:
    customer_id: int | None
    name: str
    language: str
    phones: tuple[str, ...]  # mobiles first
    emails: tuple[str, ...]
    faxes: tuple[str, ...]

    def address(self, channel: str) -> str | None:
        found = {"sms": self.phones, "email": self.emails, "fax": self.faxes}[channel]
        return found[0] if found else None

    def route(self, kind: NoticeKind) -> tuple[str, str] | None:
        """(channel, address): the first of the kind's channels they have an address for."""
        for channel in kind.channels:
            address = self.address(channel)
            if address is not None:
                return channel, address
        return None


def opt_out_applies(kind: NoticeKind, channel: str) -> bool:
    """A text or fax to a number that opted out is not sent, but the security notice."""
    return channel in ("sms", "fax") and kind.name not in NOT_OPTIONAL


@dataclass(frozen=True)
class NoticeResult:
    key: str
    status: str  # queued, duplicate, skipped, refused, ignored
    message_id: int | None = None
    reason: str | None = None


def recipient_from_file(view: CustomerFileView) -> Recipient:
    customer = view.customer
    language = customer.language
    name = customer.name_fa if language == "fa" else customer.name_latin or customer.name_fa
    ordered = sorted(view.phones, key=lambda phone: (not phone.is_primary, phone.e164))
    return Recipient(
        customer_id=customer.id,
        name=name,
        language=language,
        phones=tuple(p.e164 for p in ordered if p.kind == "mobile"),
        emails=tuple(view.emails),
        faxes=tuple(p.e164 for p in ordered if p.kind == "fax"),
    )


def write_values(kind: NoticeKind, data: Mapping[str, Any], language: str) -> dict[str, str]:
    """The kind's values as the reader's language writes them; BadEvent names a missing or
    malformed one."""
    values: dict[str, str] = {}
    for name in kind.needs:
        raw = data.get(name)
        if raw is None or raw == "":
            raise BadEvent(f"data.{name}: the {kind.name} notice needs it")
        try:
            values[name] = _write(name, raw, language)
        except (TypeError, ValueError):
            raise BadEvent(f"data.{name}: {str(raw)[:40]!r} is not a valid {name}") from None
    return values


def _write(name: str, raw: Any, language: str) -> str:
    if name in AMOUNTS:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise TypeError(name)
        return written.amount(int(raw), language)
    if name in DATES:
        return written.date(raw if isinstance(raw, date) else date.fromisoformat(raw), language)
    if name in INSTANTS:
        # Written at the offset the core system gave: its own local time.
        moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(raw)
        return written.moment(moment, language)
    if name in CODES:
        return written.code(str(raw), language)
    if name == "payment_status":
        return PAYMENT_STATUS[str(raw)][language]
    return str(raw)


class Notifier:
    def __init__(
        self,
        database: Database,
        customer_file: CustomerFile,
        outbox: Outbox,
        kinds: dict[str, NoticeKind],
        insurer_names: Mapping[str, str],
    ) -> None:
        self.database = database
        self.customer_file = customer_file
        self.outbox = outbox
        self.kinds = kinds
        self.insurer_names = insurer_names
        self.store = NoticeStore(database)
        self.templates = NoticeTemplates(database)
        self.records = InteractionRecords(database)
        self.do_not_call = DoNotCallList(database)

    # --- core-system events ----------------------------------------------------------------
    async def recipient_of(self, event: CoreEvent) -> Recipient | None:
        """Who the event's notice is for: a customer of the file, or the address it names."""
        if event.to.get("phone") or event.to.get("email"):
            return Recipient(
                customer_id=None,
                name=event.to.get("name", ""),
                language=event.to.get("language", "fa"),
                phones=(event.to["phone"],) if event.to.get("phone") else (),
                emails=(event.to["email"],) if event.to.get("email") else (),
                faxes=(),
            )
        who = event.customer
        summary = None
        if "customer_id" in who and who["customer_id"].isdigit():
            summary = await self.customer_file.customer(int(who["customer_id"]))
        elif "national_id" in who:
            summary = await self.customer_file.customer_by_national_id(who["national_id"])
        elif "company_id" in who:
            summary = await self.customer_file.customer_by_national_id(who["company_id"])
        elif "policy_number" in who:
            summary = await self.customer_file.customer_by_policy_number(who["policy_number"])
        if summary is None:
            return None
        view = await self.customer_file.customer_file(summary.id)
        return None if view is None else recipient_from_file(view)

    async def on_event(self, event: CoreEvent, now: datetime | None = None) -> NoticeResult:
        """Send the notice `event` triggers, once. Raises BadEvent when its data is not enough
        for the notice (nothing is recorded, so the corrected event can be sent again)."""
        now = now or datetime.now(UTC)
        kind = for_event(self.kinds, event.type)
        if kind is None:
            return NoticeResult(event.key, "ignored", reason="no notice for this event type")
        recipient = await self.recipient_of(event)
        if recipient is None:
            raise BadEvent("customer: not in the customer file")
        values = write_values(kind, event.data, recipient.language)
        return await self.send(event.key, kind, recipient, values, now)

    # --- one notice ------------------------------------------------------------------------
    async def send(
        self,
        key: str,
        kind: NoticeKind,
        recipient: Recipient,
        values: Mapping[str, str],
        now: datetime,
    ) -> NoticeResult:
        notice = await self.store.accept(key, kind.name, recipient.customer_id, now)
        if notice is None:
            return NoticeResult(key, "duplicate")
        route = recipient.route(kind)
        if route is None:
            await self.store.settle(notice.id, "skipped", reason="no_address")
            return NoticeResult(key, "skipped", reason="no_address")
        channel, address = route
        if opt_out_applies(kind, channel) and await self.do_not_call.holds(address):
            await self.store.settle(notice.id, "skipped", channel=channel, reason="opted_out")
            return NoticeResult(key, "skipped", reason="opted_out")
        language, text = await self._text(kind, recipient, values)
        return await self._queue(notice, kind, channel, address, language, text, now)

    async def _text(
        self, kind: NoticeKind, recipient: Recipient, values: Mapping[str, str]
    ) -> tuple[str, str]:
        """The notice in the recipient's language (the operators' edited text if there is one)."""
        language = recipient.language if recipient.language in kind.text else "fa"
        text = kind.render(
            language,
            {"name": recipient.name, "insurer": self.insurer_names.get(language, ""), **values},
            await self.templates.text(kind.name, language),
        )
        return language, text

    async def _queue(
        self,
        notice: Notice,
        kind: NoticeKind,
        channel: str,
        address: str,
        language: str,
        text: str,
        now: datetime,
    ) -> NoticeResult:
        refused: MessageRefused | None = None
        try:
            message_id = await self.outbox.put(
                channel,
                to=address,
                subject=kind.name,
                body=text,
                language=language,
                linkedid=_notice_link(notice.id),
                customer_id=notice.customer_id,
            )
        except MessageRefused as error:
            refused, message_id = error, error.message_id
        status = "refused" if refused else "queued"
        reason = refused.reason if refused else None
        await self.store.settle(
            notice.id, status, channel=channel, message_id=message_id, reason=reason
        )
        await self.records.save_message(
            MessagePart(
                key=f"outbox:{message_id}",
                channel=channel,
                direction="outbound",
                address=address,
                outcome=Outcome.REFUSED if refused else Outcome.MESSAGE_QUEUED,
                customer_id=notice.customer_id,
                language=language,
                detail=kind.name,
                text=text,
                at=now,
            )
        )
        return NoticeResult(notice.key, status, message_id, reason)

    async def send_many(
        self, batch: Sequence[tuple[str, NoticeKind, Recipient, Mapping[str, str]]], now: datetime
    ) -> Counter[str]:
        """Many notices at once (a daily run's page): the same choices as `send` (channel,
        opt-outs, the edited texts, the outbox's caps) in a few statements per batch instead
        of a few per notice. Returns how many were queued, skipped, refused or duplicates."""
        results: Counter[str] = Counter()
        accepted = await self.store.accept_many(
            [
                {"key": key, "kind": kind.name, "customer_id": recipient.customer_id,
                 "created_at": now}
                for key, kind, recipient, _ in batch
            ]
        )  # fmt: skip
        if len(batch) > len(accepted):
            results["duplicate"] = len(batch) - len(accepted)
        opted_out = await self.do_not_call.holding(
            number for _, _, recipient, _ in batch for number in recipient.phones + recipient.faxes
        )
        settled: list[dict[str, Any]] = []
        by_channel: dict[str, list[dict[str, Any]]] = {}
        for key, kind, recipient, values in batch:
            notice_id = accepted.get(key)
            if notice_id is None:
                continue
            route = recipient.route(kind)
            if route is None:
                settled.append({"id": notice_id, "status": "skipped", "reason": "no_address"})
                continue
            channel, address = route
            if opt_out_applies(kind, channel) and address in opted_out:
                settled.append(
                    {"id": notice_id, "status": "skipped", "channel": channel,
                     "reason": "opted_out"}
                )  # fmt: skip
                continue
            language, text = await self._text(kind, recipient, values)
            by_channel.setdefault(channel, []).append(
                {"to": address, "subject": kind.name, "body": text, "language": language,
                 "linkedid": _notice_link(notice_id), "customer_id": recipient.customer_id,
                 "notice_id": notice_id}
            )  # fmt: skip
        parts: list[MessagePart] = []
        for channel, messages in by_channel.items():
            written = await self.outbox.put_many(channel, messages, now)
            for message, (message_id, refusal) in zip(messages, written, strict=True):
                status = "queued" if refusal is None else "refused"
                settled.append(
                    {"id": message["notice_id"], "status": status, "channel": channel,
                     "message_id": message_id, "reason": refusal}
                )  # fmt: skip
                parts.append(
                    MessagePart(
                        key=f"outbox:{message_id}", channel=channel, direction="outbound",
                        address=message["to"],
                        outcome=Outcome.REFUSED if refusal else Outcome.MESSAGE_QUEUED,
                        customer_id=message["customer_id"], language=message["language"],
                        detail=message["subject"], text=message["body"], at=now,
                    )
                )  # fmt: skip
        await self.store.settle_many(settled)
        await self.records.save_messages(parts)
        results.update(row["status"] for row in settled)
        return results

    # --- repair and delivery ---------------------------------------------------------------
    async def resume(self, now: datetime | None = None) -> int:
        """Settle notices whose process died after accepting them: queued if their message
        made it into the outbox, else skipped as `interrupted` (their text was never written
        down, so an event's notice is re-sent only if the core system sends it again, under a
        new id). Returns how many were settled."""
        now = now or datetime.now(UTC)
        settled = 0
        for notice in await self.store.accepted_before(now - RESUME_AFTER):
            async with self.database.session() as session:
                message = await session.scalar(
                    select(OutboundMessage).where(
                        OutboundMessage.linkedid == _notice_link(notice.id)
                    )
                )
            if message is not None:
                await self.store.settle(
                    notice.id, "queued", channel=message.kind, message_id=message.id
                )
            else:
                await self.store.settle(notice.id, "skipped", reason="interrupted")
            settled += 1
        return settled

    async def sync_deliveries(self, now: datetime | None = None, expire_after_h: int = 48) -> int:
        """Carry each queued notice's message status onto its interaction; a message without
        a final word after `expire_after_h` hours is `expired`. Returns how many changed."""
        now = now or datetime.now(UTC)
        horizon = now - timedelta(hours=expire_after_h)
        changed = 0
        notices = await self.store.queued_since(now - timedelta(hours=expire_after_h * 4))
        ids = [notice.message_id for notice in notices if notice.message_id is not None]
        statuses: dict[int, tuple[str, str | None, datetime]] = {}
        for start in range(0, len(ids), 500):
            async with self.database.session() as session:
                rows = await session.execute(
                    select(
                        OutboundMessage.id,
                        OutboundMessage.status,
                        OutboundMessage.delivery_status,
                        OutboundMessage.created_at,
                    ).where(OutboundMessage.id.in_(ids[start : start + 500]))
                )
                statuses.update(
                    {row.id: (row.status, row.delivery_status, row.created_at) for row in rows}
                )
        for message_id, (status, report, created_at) in statuses.items():
            outcome = DELIVERY_OUTCOMES.get(report or "") or OUTBOX_OUTCOMES.get(
                status, Outcome.SENT
            )
            if not outcome.settled and created_at < horizon:
                outcome = Outcome.EXPIRED
            if await self.records.settle_message(f"outbox:{message_id}", outcome, now):
                changed += 1
        return changed


def _notice_link(notice_id: int) -> str:
    # The outbox's link column names a call for the IVR's messages; for a notice, the notice.
    return f"notice:{notice_id}"
