"""The IVR's routes, and the one place that assembles the IVR from settings.

    exten => 200,1,AGI(${TAMAS_AGI}/ivr)                    the main menu
    exten => 201,1,AGI(${TAMAS_AGI}/ivr,claim_status)       a direct line to one service
    same  => n,AGI(${TAMAS_AGI}/ivr-survey)                 after the agent, if accepted
    same  => n,AGI(${TAMAS_AGI}/ivr-no-agent)               when the queue gave up
    AGI(${TAMAS_AGI}/ivr-queue-end,...)                     the queued call's hang-up handler

`IvrRoutes(settings, database).routes()` is the IVR's part of a route table; routes take any
`AgiCommands`, so `tamas agi` (tamas/agi.py) serves them over FastAGI and ivr/process.py over
process AGI.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from agi_scripts.channel import AgiCommands, Route
from agi_scripts.channel import CallerHungUp as AgiHungUp
from customer_file.identifiers import caller_number
from customer_file.port import CustomerFile
from customer_file.views import CustomerSummary
from integrations.database import Database
from integrations.messaging.outbox import Outbox, OutboxLimits
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords
from ivr import definitions
from ivr.agi_channel import AgiPort
from ivr.channel import CallerHungUp
from ivr.engine import Call, Engine, Facilities, ServiceUnavailable
from ivr.hours import OpeningHours, default_hours
from ivr.input import AgentRequested, GoBack
from ivr.lockout import PinGuard, guard_for
from ivr.services import SERVICES, agent, survey, welcome
from ivr.session import CallSession
from ivr.speech import PromptVoice, Speaker, Voice
from prompts.sentences import SentenceSounds
from tamas.asterisk import variables
from tamas.languages import LANGUAGES
from tamas.settings import Settings

log = logging.getLogger(__name__)


class IvrRoutes:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        customers: CustomerFile | None = None,
        voice: Voice | None = None,
        pins: PinGuard | None = None,
        hours: OpeningHours | None = None,
        book: definitions.MenuBook | None = None,
        sentences: SentenceSounds | None = None,
    ) -> None:
        if customers is None:
            from integrations.customer_file.adapters import open_customer_file

            customers = open_customer_file(settings, database)
        self.settings = settings
        self.database = database
        self.records = InteractionRecords(database)
        self.book = book or definitions.load(services=SERVICES)
        self.facilities = Facilities(
            customers=customers,
            voice=voice or PromptVoice(speaker=speaker_for(settings)),
            pins=pins
            or guard_for(
                settings.redis_url,
                settings.pin_max_failures,
                settings.pin_lockout_window_s,
                settings.effective_lockout_secret,
            ),
            outbox=Outbox(database, OutboxLimits.from_settings(settings)),
            hours=hours or default_hours(dict(self.book.opening_hours)),
            lookup_timeout_s=settings.ivr_lookup_timeout_ms / 1000,
            recordings_dir=settings.ivr_recordings_dir,
            offer_survey=settings.ivr_offer_survey,
            greet_by_caller_id=settings.ivr_greet_by_caller_id,
        )
        self.engine = Engine(self.book, SERVICES, self.facilities)
        self.sentences = sentences if sentences is not None else sentences_for(settings)

    def _port(self, agi: AgiCommands) -> AgiPort:
        return AgiPort(agi, self.sentences)

    def routes(self) -> dict[str, Route]:
        return {
            "ivr": self.menu,
            "ivr-survey": self.survey,
            "ivr-no-agent": self.no_agent,
            "ivr-queue-end": self.queue_end,
        }

    def _caller(self, agi: AgiCommands) -> str | None:
        return caller_number(agi.caller_number, self.settings.default_region)

    async def _session(self, agi: AgiCommands) -> CallSession:
        called = agi.headers.get("agi_dnid", "")
        if called in ("", "unknown"):
            called = agi.headers.get("agi_extension", "")
        try:
            linkedid = await agi.linkedid()
        except AgiHungUp:
            # Gone before the first command: still one record, under the channel's own id.
            linkedid = agi.uniqueid
        return CallSession(
            linkedid=linkedid,
            caller_number=self._caller(agi),
            called_number=called or None,
            language=self.settings.default_language,
        )

    async def menu(self, agi: AgiCommands) -> None:
        """`ivr` [service [language]]: the main menu, or one service's direct line."""
        args = agi.args
        direct = args[0] if args and args[0] else None
        if direct is not None and direct not in SERVICES:
            log.error(
                "ivr route: unknown service %r in the dialplan; running the main menu", direct
            )
            direct = None
        if direct is None:
            session = await self._session(agi)
            try:
                await self.engine.run(self._port(agi), session, welcome=welcome.run)
            finally:
                await self.records.save_call(session.part())
            return
        # A direct line speaks first in the caller's language: look them up while Asterisk
        # answers our first command.
        caller = self._caller(agi)
        lookup = (
            asyncio.ensure_future(self.facilities.customers.customer_by_phone(caller))
            if caller
            else None
        )
        forced = args[1] if len(args) > 1 and args[1] in LANGUAGES else None
        session = await self._session(agi)
        try:
            await self.engine.run(
                self._port(agi), session, welcome=_direct_welcome(forced, lookup), direct=direct
            )
        finally:
            if lookup is not None and not lookup.done():
                lookup.cancel()
            await self.records.save_call(session.part())

    async def survey(self, agi: AgiCommands) -> None:
        """`ivr-survey`: after the agent hangs up, for callers who accepted the survey."""
        port = self._port(agi)
        session = await self._session(agi)
        answers = None
        try:
            language = await port.get_variable(variables.LANGUAGE)
            if language in LANGUAGES:
                session.language = language
            call = Call(port, session, self.book, self.facilities)
            answers = await survey.run(call)
        except (CallerHungUp, GoBack, AgentRequested):
            pass
        finally:
            await self.records.save_call(session.part())
            if answers is not None:
                await self.records.save_survey(session.linkedid, answers.score, answers.nps)

    async def no_agent(self, agi: AgiCommands) -> None:
        """`ivr-no-agent`: the queue gave up on the caller; offer a callback instead."""
        port = self._port(agi)
        session = await self._session(agi)
        try:
            language = await port.get_variable(variables.LANGUAGE)
            if language in LANGUAGES:
                session.language = language
            queue = await port.get_variable(variables.QUEUE)
            call = Call(port, session, self.book, self.facilities)
            await agent.no_agent(call, queue)
        except (CallerHungUp, GoBack, AgentRequested, ServiceUnavailable):
            pass
        finally:
            await self.records.save_call(session.part())

    async def queue_end(self, agi: AgiCommands) -> None:
        """`ivr-queue-end` QUEUESTATUS,MEMBERINTERFACE: the hang-up handler of a queued call
        (the channel is already gone: no sound, only the record). An agent answered when the
        queue named the member it bridged (queues.conf `setinterfacevar`); otherwise the
        caller gave up waiting. (ANSWEREDTIME will not do: a caller hanging up while agents
        ring is left ANSWEREDTIME=0.)"""
        args = agi.args
        answered = len(args) > 1 and args[1].strip() != ""
        try:
            linkedid = await agi.linkedid()
        except AgiHungUp:
            linkedid = agi.uniqueid
        outcome = Outcome.ANSWERED_BY_AGENT if answered else Outcome.ABANDONED_IN_QUEUE
        if await self.records.settle_queue(linkedid, outcome):
            log.debug("call %s: %s (queue status %s)", linkedid, outcome, args[:1])


def _direct_welcome(
    language: str | None, lookup: Awaitable[CustomerSummary | None] | None
) -> Callable[[Call], Awaitable[None]]:
    async def start(call: Call) -> None:
        await welcome.recognised(call, lookup)
        if language is not None:
            call.session.language = language

    return start


def speaker_for(settings: Settings) -> Speaker | None:
    """Speech for names and addresses, into the folder Asterisk plays prompts from; None
    when no prompt has been built there (`tamas prompts build`), as nothing would play."""
    from prompts.sounds import OnDemandSpeech

    target = settings.effective_sounds_dir
    if not target.is_dir():
        return None
    return OnDemandSpeech.from_settings(settings, target).speak


def sentences_for(settings: Settings) -> SentenceSounds | None:
    """Joined sentences in the sounds folder Asterisk plays from, when turned on and the
    folder is there."""
    target = settings.effective_sounds_dir
    if not settings.ivr_join_sentences or not target.is_dir():
        return None
    return SentenceSounds(target)
