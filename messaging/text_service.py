"""The insurer's text service: a customer texts a keyword and gets the answer from the
customer file, queued in the outbox like every other message (so caps, retries and delivery
reports apply), and the exchange is an interaction on the customer.

Whichever way a text comes (a provider's pull inbox, its push to our webhook, SMPP deliver_sm)
it goes through `receive`: kept once in the inbox (a text delivered twice answers once), the
sender identified by number, answered in the language the text was written in (the
customer's own otherwise). Debts, cheques, claims and dividends are told only to numbers on
the customer's file (the claim's, or the shareholder's, holder): a stranger texting a tracking
code learns nothing. Each number gets at most `per_hour` answers (tamas/limits.py); a texting
loop between two automatic senders ends there. STOP puts the number on the dialer's
do-not-call list, which every campaign and reminder honours."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from customer_file.identifiers import InvalidIdentifier, mask_digits, try_normalize_phone
from customer_file.port import CustomerFile
from customer_file.views import CustomerSummary, GeneralMeetingView, PolicyAuthenticity
from dialer.do_not_call import DoNotCallList
from integrations.messaging.inbox import Inbox
from integrations.messaging.outbox import MessageRefused, Outbox
from interactions.outcomes import Outcome
from interactions.records import CallPart, InteractionRecords
from messaging import text_answers
from messaging.faq import Faq
from messaging.faq import load as load_faq
from messaging.keywords import Request, parse
from tamas.limits import FailureLimiter

log = logging.getLogger(__name__)
T = TypeVar("T")
# Answers a customer file slower than this is not waited for ("try again later").
LOOKUP_TIMEOUT_S = 5.0
NOT_GENUINE = PolicyAuthenticity(genuine=False)
# Past meetings looked through for the latest published resolutions.
MEETINGS_BACK = timedelta(days=800)


@dataclass(frozen=True)
class Reply:
    """What the service did with one text."""

    inbound_id: int
    keyword: str
    language: str
    outcome: Outcome
    answer: str | None  # None: not answered (rate-limited, or the outbox refused it)
    answer_id: int | None  # the outbox row


class LookupFailed(Exception):
    """The customer file failed or was too slow."""


class TextService:
    def __init__(
        self,
        customer_file: CustomerFile,
        outbox: Outbox,
        inbox: Inbox,
        records: InteractionRecords,
        do_not_call: DoNotCallList,
        limiter: FailureLimiter,
        *,
        faq: Faq | None = None,
        region: str = "IR",
        lookup_timeout_s: float = LOOKUP_TIMEOUT_S,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.customer_file = customer_file
        self.outbox = outbox
        self.inbox = inbox
        self.records = records
        self.do_not_call = do_not_call
        self.limiter = limiter
        self.faq = faq or load_faq()
        self.region = region
        self.lookup_timeout_s = lookup_timeout_s
        self.today = today

    async def receive(
        self,
        provider: str,
        provider_message_id: str,
        from_number: str,
        body: str,
        to_number: str | None = None,
    ) -> Reply | None:
        """Answer one text; None when it was answered before (or its sender is no number)."""
        kept = await self.keep(provider, provider_message_id, from_number, body, to_number)
        if kept is None:
            return None
        inbound_id, phone = kept
        return await self.answer(inbound_id, provider, provider_message_id, phone, body, to_number)

    async def keep(
        self,
        provider: str,
        provider_message_id: str,
        from_number: str,
        body: str,
        to_number: str | None = None,
    ) -> tuple[int, str] | None:
        """Keep a text in the inbox before anything else is done with it: its row id and the
        sender's number, or None when it was kept before (or its sender is no number)."""
        phone = try_normalize_phone(from_number, self.region)
        if phone is None:
            log.info("text %s from an unusable sender ignored", provider_message_id)
            return None
        inbound_id = await self.inbox.keep(provider, provider_message_id, phone, body, to_number)
        if inbound_id is None:
            return None  # the provider gave it twice: answered the first time
        return inbound_id, phone

    async def answer(
        self,
        inbound_id: int,
        provider: str,
        provider_message_id: str,
        phone: str,
        body: str,
        to_number: str | None = None,
    ) -> Reply:
        """Answer a text already kept in the inbox (also a text taken up again after a stop)."""
        request = parse(body, self.faq.words)
        customer: CustomerSummary | None = None
        async with self.limiter.attempt([self.limiter.key("sms", phone)]) as attempt:
            admitted = attempt.admitted
        if not admitted:
            log.info("text from %s not answered: over its hourly answers", mask_digits(phone, 4, 2))
            language = request.language or "fa"
            reply = Reply(inbound_id, request.keyword, language, Outcome.LOCKED_OUT, None, None)
        else:
            try:
                customer = await self._lookup(self.customer_file.customer_by_phone(phone))
                language = request.language or (customer.language if customer else "fa")
                text, outcome = await self._respond(request, phone, customer, language)
            except LookupFailed:
                language = request.language or "fa"
                text, outcome = text_answers.fixed("unavailable", language), Outcome.SYSTEM_ERROR
            except InvalidIdentifier:  # a value the customer file refused: help, not "later"
                language = request.language or (customer.language if customer else "fa")
                text, outcome = text_answers.fixed("help", language), Outcome.NOT_FOUND
            answer_id = await self._queue(phone, request.keyword, text, language, customer)
            reply = Reply(
                inbound_id,
                request.keyword,
                language,
                outcome,
                text if answer_id is not None else None,
                answer_id,
            )
        await self._record(reply, provider, provider_message_id, phone, to_number, body, customer)
        status = "answered" if reply.answer_id is not None else "ignored"
        await self.inbox.settle(inbound_id, status, request.keyword[:32], reply.answer_id)
        return reply

    async def take_up_unanswered(self) -> int:
        """Answer texts whose worker stopped before settling them; how many."""
        rows = await self.inbox.unanswered()
        for row in rows:
            await self.answer(
                row.id, row.provider, row.provider_message_id, row.from_number, row.body,
                row.to_number,
            )  # fmt: skip
        return len(rows)

    # --- the answers --------------------------------------------------------------------
    async def _lookup(self, call: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self.lookup_timeout_s):
                return await call
        except InvalidIdentifier:
            raise  # what was texted is no identifier: nothing is on file under it
        except Exception as error:  # a slow or broken core system: a polite "later"
            log.warning("text service lookup failed: %s", type(error).__name__)
            raise LookupFailed from error

    async def _find(self, call: Awaitable[T], nothing: T) -> T:
        """A lookup by what the customer texted: `nothing` when it is no valid identifier."""
        try:
            return await self._lookup(call)
        except InvalidIdentifier:
            return nothing

    async def _respond(
        self, request: Request, phone: str, customer: CustomerSummary | None, language: str
    ) -> tuple[str, Outcome]:
        keyword, argument = request.keyword, request.argument
        if keyword == "stop":
            await self.do_not_call.add(phone, "sms_stop", datetime.now(UTC), source="sms")
            return text_answers.fixed("stopped", language), Outcome.OPTED_OUT
        if keyword.startswith("faq:"):
            return self.faq.answer(keyword[4:], language), Outcome.SELF_SERVED
        if keyword == "policy":
            if not argument:
                return text_answers.fixed("need_code", language), Outcome.GAVE_UP
            found = await self._find(
                self.customer_file.policy_for_authenticity(argument), NOT_GENUINE
            )
            outcome = Outcome.SELF_SERVED if found.genuine else Outcome.NOT_FOUND
            return text_answers.policy(found, argument, language), outcome
        if keyword == "branch":
            return await self._branch(argument, customer, language)
        if keyword == "meeting":
            meeting = await self._latest_resolutions()
            if meeting is None:
                return text_answers.fixed("no_meeting", language), Outcome.NOT_FOUND
            return text_answers.meeting(meeting, language), Outcome.SELF_SERVED
        if keyword == "number":
            return await self._number(argument or "", customer, language)
        if keyword in ("help", "unknown"):
            return text_answers.fixed("help", language), Outcome.GAVE_UP
        # Everything below is told only to numbers on the customer's file.
        if customer is None:
            return text_answers.fixed("unknown_number", language), Outcome.NOT_VERIFIED
        if keyword == "claim":
            return await self._claim(argument, customer, language)
        if keyword == "renewal":
            tracking = await self._lookup(
                self.customer_file.create_callback_task(
                    "renewal", phone, customer_id=customer.id,
                    policy_number=argument if argument and len(argument) >= 6 else None,
                    note="asked by text",
                    channel="sms",
                )
            )  # fmt: skip
            return text_answers.renewal(tracking, language), Outcome.CALLBACK_REQUESTED
        if keyword == "dividend":
            file = await self._lookup(self.customer_file.customer_file(customer.id))
            if file is None or file.shareholder is None:
                return text_answers.fixed("not_shareholder", language), Outcome.NOT_FOUND
            return text_answers.dividend(file.shareholder, language), Outcome.SELF_SERVED
        debt = await self._lookup(self.customer_file.debts(customer.id))
        if keyword == "installments":
            return text_answers.installments(debt, language, self.today()), Outcome.SELF_SERVED
        if keyword == "cheques":
            return text_answers.cheques(debt, language), Outcome.SELF_SERVED
        return text_answers.debt(debt, language), Outcome.SELF_SERVED

    async def _claim(
        self, code: str | None, customer: CustomerSummary, language: str
    ) -> tuple[str, Outcome]:
        if not code:
            return text_answers.fixed("need_code", language), Outcome.GAVE_UP
        status = await self._find(self.customer_file.claim_by_tracking_code(code), None)
        if status is None:
            return text_answers.fixed("claim_not_found", language), Outcome.NOT_FOUND
        if status.customer_id != customer.id:
            return text_answers.fixed("not_yours", language), Outcome.NOT_VERIFIED
        return text_answers.claim(status, language), Outcome.SELF_SERVED

    async def _number(
        self, number: str, customer: CustomerSummary | None, language: str
    ) -> tuple[str, Outcome]:
        """A number texted alone: a claim's tracking code, a postal code or a policy number,
        whichever it is on file (each lookup is an indexed equality)."""
        if await self._find(self.customer_file.claim_by_tracking_code(number), None) is not None:
            if customer is None:
                return text_answers.fixed("unknown_number", language), Outcome.NOT_VERIFIED
            return await self._claim(number, customer, language)
        if len(number) == 10:
            found = await self._find(self.customer_file.branches_near(number, 1), [])
            if found:
                return text_answers.branch(found[0], language), Outcome.SELF_SERVED
        policy = await self._find(self.customer_file.policy_for_authenticity(number), NOT_GENUINE)
        if policy.genuine:
            return text_answers.policy(policy, number, language), Outcome.SELF_SERVED
        return text_answers.fixed("help", language), Outcome.NOT_FOUND

    async def _branch(
        self, postal_code: str | None, customer: CustomerSummary | None, language: str
    ) -> tuple[str, Outcome]:
        if not postal_code and customer is not None:
            file = await self._lookup(self.customer_file.customer_file(customer.id))
            postal_code = next((a.postal_code for a in file.addresses), None) if file else None
        if not postal_code or len(postal_code) != 10:
            return text_answers.fixed("no_branch", language), Outcome.GAVE_UP
        found = await self._find(self.customer_file.branches_near(postal_code, 1), [])
        if not found:
            return text_answers.fixed("no_branch", language), Outcome.NOT_FOUND
        return text_answers.branch(found[0], language), Outcome.SELF_SERVED

    async def _latest_resolutions(self) -> GeneralMeetingView | None:
        """The latest meeting held whose resolutions are published."""
        now = datetime.now(UTC)
        after, latest = now - MEETINGS_BACK, None
        for _ in range(20):  # meetings are a few a year: the loop ends long before
            meeting = await self._lookup(self.customer_file.next_general_meeting(after))
            if meeting is None or meeting.held_at > now:
                break
            if meeting.resolutions:
                latest = meeting
            after = meeting.held_at
        return latest

    # --- the answer's way out, and the record ---------------------------------------------
    async def _queue(
        self,
        phone: str,
        keyword: str,
        text: str,
        language: str,
        customer: CustomerSummary | None,
    ) -> int | None:
        try:
            return await self.outbox.put(
                "sms",
                to=phone,
                subject=f"text_{keyword.split(':')[0]}",
                body=text,
                language=language,
                customer_id=customer.id if customer else None,
            )
        except MessageRefused as refused:
            log.info("answer to %s not sent: %s", mask_digits(phone, 4, 2), refused.reason)
            return None

    async def _record(
        self,
        reply: Reply,
        provider: str,
        provider_message_id: str,
        phone: str,
        to_number: str | None,
        body: str,
        customer: CustomerSummary | None,
    ) -> None:
        transcript: list[dict[str, object]] = [{"from": "customer", "text": body[:480]}]
        if reply.answer is not None:
            transcript.append({"from": "tamas", "text": reply.answer, "outbox_id": reply.answer_id})
        await self.records.save_call(
            CallPart(
                # The key received messages are recorded under (interactions/records.py).
                linkedid=f"sms-in:{provider}:{provider_message_id}"[:64],
                caller_number=phone,
                called_number=to_number,
                customer_id=customer.id if customer else None,
                language=reply.language,
                outcome=reply.outcome,
                outcome_detail=f"text_{reply.keyword}"[:128],
                menu_path=[{"menu": "text_service", "choice": reply.keyword}],
                transcript=transcript,
                channel="sms",
            )
        )
