"""Runs one caller through the menus: welcome, then the entry menu, each option leading to a
submenu or a service, until the caller hangs up, is put through to an agent, or is done.

`Call` is what a service works with: speak (with barge-in), ask for a number or a choice,
look things up with a time limit, send a message. Whatever happens — hang-up, a slow core
system, a bug in one service — the call's session ends with an honest outcome (self-served
only when a service delivered what the caller came for), so the interaction record is
always complete.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, time
from typing import TYPE_CHECKING, Any, TypeVar

import phonenumbers
from sqlalchemy.exc import SQLAlchemyError

from customer_file.identifiers import InvalidIdentifier
from customer_file.port import CustomerFile, CustomerFileError
from integrations.messaging.outbox import MessageRefused
from interactions.outcomes import Outcome
from ivr.channel import PROMPT_KEYS, CallerHungUp, Channel
from ivr.definitions import MenuBook
from ivr.hours import OpeningHours
from ivr.input import INVALID, NO_INPUT, AgentRequested, GoBack, collect_choice, collect_number
from ivr.lockout import PinGuard
from ivr.session import CallSession
from ivr.speech import Voice
from prompts.utterance import Utterance
from tamas.asterisk import variables

if TYPE_CHECKING:
    from integrations.messaging.outbox import Outbox

log = logging.getLogger(__name__)
T = TypeVar("T")

# A part of something said: a catalogue key, or an utterance already built (a number, a date).
Part = str | Utterance
Service = Callable[["Call"], Awaitable[None]]


class ServiceUnavailable(Exception):
    """The core system did not answer in time or failed; the caller hears an apology."""


# What an outage of the customer file looks like from here: the adapter's own error, a socket
# that failed, or the database driver's (a PostgreSQL connection dropped mid-call surfaces as
# SQLAlchemy's DBAPIError). Any of them, in a lookup or in a service's own read or write (a PIN
# check), means "we cannot look this up now", never a call ended with no word to the caller.
OUTAGES: tuple[type[Exception], ...] = (CustomerFileError, OSError, SQLAlchemyError)
# What a service can raise when the caller cannot be answered now: a timed lookup that gave up,
# or an outage met outside one.
UNAVAILABLE: tuple[type[Exception], ...] = (ServiceUnavailable, *OUTAGES)


@dataclass
class Facilities:
    """What services need beyond the channel; made once per server, shared by every call."""

    customers: CustomerFile
    voice: Voice
    pins: PinGuard
    outbox: Outbox
    hours: OpeningHours
    lookup_timeout_s: float = 3.0
    recordings_dir: str = "/var/spool/asterisk/monitor"
    offer_survey: bool = True
    # Greet by the name on file when only the number matched (settings.ivr_greet_by_caller_id).
    greet_by_caller_id: bool = False


class Call:
    def __init__(
        self, channel: Channel, session: CallSession, book: MenuBook, facilities: Facilities
    ) -> None:
        self.channel = channel
        self.session = session
        self.book = book
        self.facilities = facilities
        # A key pressed while the IVR was speaking a statement (not a question) is kept for
        # the next question: callers who know the menus key ahead.
        self._pending_key: str | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        self.served: list[str] = []
        # Services that ended without giving the caller what they came for, and why.
        self.unserved: list[tuple[Outcome, str | None]] = []
        self._deliveries = 0
        self._shown_menu: str | None = None

    async def enter(self, menu: str) -> None:
        """The caller is now in `menu` (or a direct line's service): on the record, and on
        the channel for the supervisors' wallboard (one AGI command, only when it changes)."""
        self.session.enter(menu)
        if menu != self._shown_menu:
            self._shown_menu = menu
            await self.channel.set_variable(variables.MENU, menu)

    # --- speaking ------------------------------------------------------------------------
    @property
    def language(self) -> str:
        return self.session.language

    @property
    def voice(self) -> Voice:
        return self.facilities.voice

    def utter(self, *parts: Part) -> Utterance:
        return Utterance.join(
            self.voice.phrase(part, self.language) if isinstance(part, str) else part
            for part in parts
        )

    def amount(self, rials: int) -> Utterance:
        return self.voice.amount(rials, self.language)

    def number(self, n: int) -> Utterance:
        return self.voice.number(n, self.language)

    def date(self, day: date) -> Utterance:
        return self.voice.date(day, self.language)

    def time(self, at: time) -> Utterance:
        return self.voice.time(at, self.language)

    def digits(self, text: str) -> Utterance:
        return self.voice.digits(text, self.language)

    def text(self, text: str) -> Utterance:
        """Text only in the transcript (nothing is played for it)."""
        return self.voice.free_text(text, self.language)

    async def spoken(self, text: str) -> Utterance:
        """Any text (a name, an address) spoken by the speech engine when there is one."""
        return await self.voice.spoken(text, self.language)

    def phone(self, e164: str) -> Utterance:
        """A phone number as the caller would dial it from inside the country (0 21 ...)."""
        try:
            parsed = phonenumbers.parse(e164, None)
            national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        except phonenumbers.NumberParseException:
            national = e164
        return self.digits("".join(ch for ch in national if ch.isdigit()))

    async def _play(self, utterance: Utterance, escape_digits: str = PROMPT_KEYS) -> str | None:
        self.session.said(utterance.text)
        return await self.channel.play(utterance, escape_digits)

    def keep_key(self, key: str) -> None:
        """A key pressed outside a question, kept as the start of the next answer."""
        self._pending_key = key

    async def say(self, *parts: Part) -> None:
        """A statement. A key pressed during it stops it and is kept for the next question."""
        if self._pending_key is not None:
            # The caller is already keying the next answer: don't talk over them.
            return
        key = await self._play(self.utter(*parts))
        if key is not None:
            self._pending_key = key

    def _prompter(self, prompt: Utterance) -> Callable[[int, str | None], Awaitable[str | None]]:
        async def play(attempt: int, failure: str | None) -> str | None:
            if self._pending_key is not None:
                key, self._pending_key = self._pending_key, None
                return key
            parts: list[Utterance] = []
            if failure == INVALID:
                parts.append(self.utter("invalid_input"))
            elif failure == NO_INPUT:
                parts.append(self.utter("no_input"))
            parts.append(prompt)
            return await self._play(Utterance.join(parts))

        return play

    # --- asking ----------------------------------------------------------------------------
    async def ask(
        self,
        input_name: str,
        *,
        accept: Callable[[str], bool] = lambda _digits: True,
        prompt: Iterable[Part] = (),
        allow_agent: bool = True,
    ) -> str:
        """A number the caller keys, by the rule named in menus.yaml's `inputs`."""
        rule = self.book.input(input_name)
        utterance = self.utter(*(tuple(prompt) or (rule.prompt,)))
        answer = await collect_number(
            self.channel,
            rule,
            self.book.behaviour,
            self._prompter(utterance),
            accept,
            allow_agent=allow_agent,
        )
        self.session.keyed(input_name, answer.digits, sensitive=rule.sensitive)
        return answer.digits

    async def choose(self, keys: Collection[str], *prompt: Part, field: str | None = None) -> str:
        """One key out of `keys`, after the prompt."""
        key = await collect_choice(
            self.channel, keys, self.book.behaviour, self._prompter(self.utter(*prompt))
        )
        if field:
            self.session.keyed(field, key)
        return key

    async def yes_no(self, *prompt: Part, field: str | None = None) -> bool:
        """1 for yes, 2 for no."""
        return await self.choose(("1", "2"), *prompt, field=field) == "1"

    async def offer_keys(
        self, keys: Collection[str], *prompt: Part, timeout_ms: int = 3000, field: str | None = None
    ) -> str | None:
        """An offer taken by one of `keys`; silence or another key declines (None), without
        re-prompting. The agent key still asks for an agent."""
        key = self._pending_key
        self._pending_key = None
        if key is None:
            key = await self._play(self.utter(*prompt))
        if key is None:
            key = await self.channel.wait_for_digit(timeout_ms)
        if key == self.book.behaviour.end_key and key not in keys:
            # A stray # (left from the previous answer): not an answer, keep listening.
            key = await self.channel.wait_for_digit(timeout_ms)
        if key == self.book.behaviour.agent_key and key not in keys:
            raise AgentRequested
        if field:
            self.session.keyed(field, key or "")
        return key if key in keys else None

    async def offer(self, *prompt: Part, timeout_ms: int = 3000, field: str | None = None) -> bool:
        """Press 1 to accept."""
        return await self.offer_keys(("1",), *prompt, timeout_ms=timeout_ms, field=field) == "1"

    def delivered(self) -> None:
        """The service gave the caller what they came for (what follows is optional: an SMS
        offer...): hanging up from here on counts as self-served."""
        self._deliveries += 1
        service = self.session.current_menu
        if service and service not in self.served:
            self.served.append(service)

    async def report(self, report: Utterance, *, subject: str) -> None:
        """Say what the caller came for (delivered from here on), then offer it by SMS."""
        await self.say(report)
        self.delivered()
        if await self.offer("sms_offer", field="sms"):
            if await self.send("sms", subject=subject, body=report.text):
                await self.say("sms_sent")
            else:
                await self.say("no_mobile_on_file")  # the calling number is no domestic mobile

    def not_served(self, outcome: Outcome, detail: str | None = None) -> None:
        """The service ended without what the caller came for (a code not found, locked
        out...): it is not counted as delivered, and if nothing else is, the call ends so."""
        self.unserved.append((outcome, detail or self.session.current_menu))

    # --- looking up --------------------------------------------------------------------------
    async def lookup(self, kind: str, call: Awaitable[T]) -> T:
        """Await the customer file with the time limit; failures become ServiceUnavailable."""
        if isinstance(call, asyncio.Future):
            # A background lookup outlives one impatient wait: shield it, so a later await
            # still gets its answer instead of a cancelled task.
            call = asyncio.shield(call)
        try:
            async with asyncio.timeout(self.facilities.lookup_timeout_s):
                return await call
        except TimeoutError as error:
            log.warning(
                "customer file: %s took longer than %.1f s", kind, self.facilities.lookup_timeout_s
            )
            raise ServiceUnavailable(kind) from error
        except InvalidIdentifier:
            raise
        except OUTAGES as error:
            log.warning("customer file: %s failed: %s", kind, error)
            raise ServiceUnavailable(kind) from error

    @property
    def customers(self) -> CustomerFile:
        return self.facilities.customers

    async def send(
        self, kind: str, *, subject: str, body: str, to: str | None = None, wait: bool = False
    ) -> bool:
        """Queue an SMS/fax/email to the caller (or `to`); says nothing. False when no address
        (or, with `wait`, when the outbox refused it: a cap, a destination not allowed).

        The outbox row is written in the background while the caller hears the next prompt
        (a write waits for the database; the caller should not), and settled before the call's
        record is written; `wait` writes it now, for a service that says what became of it."""
        address = to or self._caller_address(kind)
        if not address:
            return False
        customer_id = self.session.customer.customer_id if self.session.customer else None
        put = self._put(
            kind,
            to=address,
            subject=subject,
            body=body,
            language=self.language,
            linkedid=self.session.linkedid,
            customer_id=customer_id,
        )
        if wait:
            return await put
        self.background(put)
        return True

    def _caller_address(self, kind: str) -> str | None:
        """The caller's own number, for a message that names no recipient, only when it is a
        domestic mobile: caller ID is spoofable, and a message to whatever number it claims
        (a landline, abroad, premium) is toll fraud or a way to bomb a victim."""
        caller = self.session.caller_number
        if kind == "email" or not caller:
            return None
        return (
            caller if self.facilities.outbox.limits.destinations.domestic_mobile(caller) else None
        )

    async def _put(self, kind: str, *, subject: str, **message: Any) -> bool:
        try:
            await self.facilities.outbox.put(kind, subject=subject, **message)
        except MessageRefused as refused:
            log.info("IVR: call %s: %s", self.session.linkedid, refused)
            self.session.looked("message_refused", kind, subject=subject, reason=refused.reason)
            return False
        self.session.looked("message", kind, subject=subject)
        return True

    # --- work that overlaps the conversation ----------------------------------------------
    def background(self, work: Awaitable[T]) -> asyncio.Task[T]:
        """Start `work` now and let the call go on; `lookup` can await the task later (a
        lookup started before a prompt is answered by the time the caller has keyed)."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        return task

    async def settle(self) -> None:
        """Wait for background work (before the record is written); failures are logged."""
        while self._tasks:
            tasks, self._tasks = self._tasks, set()
            for result in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(result, BaseException) and not isinstance(
                    result, asyncio.CancelledError
                ):
                    log.error(
                        "background work of call %s failed: %r", self.session.linkedid, result
                    )


class Engine:
    """Holds the menus and the services; `run` takes one call from start to end."""

    def __init__(
        self, book: MenuBook, services: dict[str, Service], facilities: Facilities
    ) -> None:
        self.book = book
        self.services = services
        self.facilities = facilities

    async def run(
        self,
        channel: Channel,
        session: CallSession,
        *,
        welcome: Service | None = None,
        direct: str | None = None,
    ) -> Call:
        """Take the call to its end. `direct` names a service reached on its own line (a DID
        for claims): the caller goes straight to it and the call ends after it."""
        call = Call(channel, session, self.book, self.facilities)
        try:
            try:
                if welcome is not None:
                    await welcome(call)
                if direct is not None:
                    await self._direct(call, direct)
                else:
                    await self._menu(call, self.book.entry)
            except AgentRequested as request:
                await self._agent(call, request.reason)
        except CallerHungUp:
            pass
        except OUTAGES as error:
            # Outside any service (the welcome forgives its own lookup): nothing to offer.
            log.warning("IVR: call %s lost the customer file: %r", session.linkedid, error)
            call.not_served(Outcome.SYSTEM_ERROR, session.current_menu or "")
        except Exception:
            log.exception(
                "IVR failed for call %s in menu %s", session.linkedid, session.current_menu
            )
            if session.outcome is None:
                session.finish(Outcome.FAILED, session.current_menu)
        await call.settle()
        if session.outcome is None:
            # The caller hung up (or the direct line's service ended): served if they got
            # what they came for, else why not, else abandoned where they were.
            if call.served:
                session.finish(Outcome.SELF_SERVED, call.served[-1])
            elif call.unserved:
                session.finish(*call.unserved[-1])
            else:
                session.finish(Outcome.ABANDONED_IN_MENU, session.current_menu)
        return call

    async def _service(self, call: Call, service: str) -> None:
        """Run one service. It delivered if it said so (`call.delivered()`), or if it ended
        without saying why not (`call.not_served`)."""
        unserved, deliveries = len(call.unserved), call._deliveries
        await self.services[service](call)
        if call._deliveries == deliveries and len(call.unserved) == unserved:
            call.delivered()

    async def _direct(self, call: Call, service: str) -> None:
        await call.enter(service)
        try:
            await self._service(call, service)
        except GoBack:
            return
        except UNAVAILABLE as error:
            await self._cannot_look_up(call, service, error, then_menu=False)
            return
        except InvalidIdentifier:
            call.not_served(Outcome.NOT_FOUND, "invalid_input")
            await call.say("invalid_input")
            return
        await call.say("goodbye")

    async def _cannot_look_up(
        self, call: Call, service: str, error: Exception, *, then_menu: bool
    ) -> None:
        """An outside system failed during `service`: say so and offer an agent, who can
        often answer from another screen. In a menu the agent key works at its prompt, which
        follows; on a direct line, which ends after its service, the offer waits for it."""
        if isinstance(error, ServiceUnavailable):
            call.not_served(Outcome.SYSTEM_ERROR, str(error))
        else:
            log.warning("IVR: %s failed for call %s: %r", service, call.session.linkedid, error)
            call.not_served(Outcome.SYSTEM_ERROR, service)
        if then_menu:
            await call.say("lookup_unavailable", "offer_agent")
            return
        agent_key = self.book.behaviour.agent_key
        key = await call.offer_keys(
            (agent_key,), "lookup_unavailable", "offer_agent", field="agent_offer"
        )
        if key == agent_key:
            raise AgentRequested("system_error")

    async def _agent(self, call: Call, reason: str) -> None:
        agent = self.services["agent"]
        call.session.keyed("agent_reason", reason)
        if reason == "input_failed":
            # Honest even if no agent takes over (after hours, a hang-up in the transfer).
            call.not_served(Outcome.GAVE_UP)
            await call.say("too_many_attempts")
        try:
            await agent(call)
        except (GoBack, AgentRequested):
            pass

    async def _menu(self, call: Call, name: str, *, top: bool = True) -> None:
        """Run a menu until the caller goes back from it (GoBack propagates to the parent;
        on the top menu there is nowhere to go back to, so it is spoken again)."""
        menu = self.book.menu(name)
        keys = [option.key for option in menu.options]
        while True:
            await call.enter(name)
            try:
                key = await call.choose(keys, menu.prompt, field=f"menu:{name}")
            except GoBack:
                if top:
                    continue
                raise
            option = menu.option(key)
            assert option is not None
            try:
                if option.menu:
                    await self._menu(call, option.menu, top=False)
                    continue
                assert option.service is not None
                if option.service == "agent":
                    raise AgentRequested
                await call.enter(option.service)
                await self._service(call, option.service)
            except GoBack:
                continue
            except UNAVAILABLE as error:
                await self._cannot_look_up(call, option.service or name, error, then_menu=True)
            except InvalidIdentifier:
                call.not_served(Outcome.NOT_FOUND, "invalid_input")
                # The customer file refused what was keyed (a check the menu file lacks).
                await call.say("invalid_input")
