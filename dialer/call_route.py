"""`campaign-call`: the AGI route of a campaign call once a person answered (dialplans/
outbound.conf). It says the personal message in the person's language, then offers 1 an agent,
2 a callback, 3 the message again, 9 no more calls; with `abandoned` it plays the message
naming the insurer to a person no agent came to in time, with `machine` it leaves the
message on an answering machine.

What the call reached is written on the attempt as it happens (`Attempts.note`), and the
words said go to the call's interaction record (no outcome: the dialer worker settles it).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from agi_scripts.channel import AgiCommands, Route
from agi_scripts.channel import CallerHungUp as AgiHungUp
from cases.store import CaseChannel
from dialer import kinds
from dialer.attempts import Attempts, CallOf
from dialer.do_not_call import DoNotCallList
from dialer.message import KEYS_PROMPT, message
from integrations.customer_file.own_records import OwnRecords, configured_case_types
from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import CallPart, InteractionRecords
from ivr.agi_channel import AgiPort
from ivr.channel import CallerHungUp
from ivr.routes import sentences_for, speaker_for
from ivr.speech import PromptVoice, Voice
from prompts.sentences import SentenceSounds
from prompts.utterance import Utterance
from tamas.asterisk import variables
from tamas.languages import LANGUAGES
from tamas.settings import Settings

log = logging.getLogger(__name__)

MENU_KEYS = "1239"
# How long the person has to choose after the keys prompt, and how often the menu is said.
CHOICE_WAIT_MS = 5000
MAX_PLAYS = 3


class CampaignCallRoute:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        voice: Voice | None = None,
        catalogue: dict[str, kinds.CampaignKind] | None = None,
        sentences: SentenceSounds | None = None,
    ) -> None:
        self.settings = settings
        self.records = InteractionRecords(database)
        self.attempts = Attempts(database, self.records)
        self.do_not_call = DoNotCallList(database)
        # Callbacks open cases of the insurer's types file, as every other caller's do.
        self.own_records = OwnRecords(
            database, settings.default_region, configured_case_types(settings)
        )
        self.voice = voice or PromptVoice(speaker=speaker_for(settings))
        self.kinds = catalogue if catalogue is not None else kinds.load()
        self.sentences = sentences if sentences is not None else sentences_for(settings)

    def routes(self) -> dict[str, Route]:
        return {"campaign-call": self.run}

    async def run(self, agi: AgiCommands) -> None:
        # The route runs on the originated channel, whose unique id is the attempt's ChannelId.
        channel_id = agi.uniqueid
        call = await self.attempts.call_of(channel_id)
        if call is None:
            log.warning("campaign-call on %s: no attempt in flight with this ChannelId", agi.name)
            return
        args = agi.args
        purpose = args[0] if args else "message"
        language = call.language if call.language in LANGUAGES else self.settings.default_language
        port = AgiPort(agi, self.sentences)
        part = CallPart(
            linkedid=channel_id,
            caller_number=None,
            called_number=call.phone,
            customer_id=call.customer_id,
            language=language,
            direction="outbound",
        )
        now = datetime.now(UTC)
        amd = await _variable(agi, "AMDSTATUS")
        await self.attempts.note(channel_id, amd_status=amd, answered_at=now)
        try:
            if purpose == "abandoned":
                await self.attempts.note(channel_id, result=Outcome.ABANDONED)
                await self._say(port, part, await self._abandoned(language))
            elif purpose == "machine":
                await self._say(port, part, await self._message(call, language))
            else:
                await self._menu(agi, port, part, call, language)
        except (CallerHungUp, AgiHungUp):
            pass
        finally:
            part.ended_at = datetime.now(UTC)
            await self.records.save_call(part)

    async def _abandoned(self, language: str) -> Utterance:
        """The recorded message of an abandoned call, naming the insurer."""
        insurer = getattr(self.settings, f"insurer_name_{language}", "")
        return Utterance.join(
            (
                self.voice.phrase("campaign_call_from", language),
                await self.voice.spoken(insurer, language),
                self.voice.phrase("campaign_abandoned", language),
            )
        )

    async def _message(self, call: CallOf, language: str) -> Utterance:
        kind = self.kinds.get(call.kind)
        if kind is None:
            log.error("campaign %s: kind %r is not in the kinds file", call.campaign, call.kind)
            return self.voice.phrase("hello", language)
        name = await self.voice.spoken(call.name, language) if call.name else None
        fields = {field: call.fields.get(field) for field in kind.fields if field != "name"}
        return message(self.voice, kind.messages, fields, language, name)

    async def _say(
        self, port: AgiPort, part: CallPart, said: Utterance, keys: str = ""
    ) -> str | None:
        part.transcript.append(
            {"text": said.text, "language": part.language, "at": datetime.now(UTC).isoformat()}
        )
        return await port.play(said, keys)

    async def _menu(
        self, agi: AgiCommands, port: AgiPort, part: CallPart, call: CallOf, language: str
    ) -> None:
        said = await self._message(call, language)
        keys_prompt = self.voice.phrase(KEYS_PROMPT, language)
        heard: asyncio.Task[None] | None = None
        for _ in range(MAX_PLAYS):
            key = await self._say(port, part, said, MENU_KEYS)
            if key is None:
                key = await self._say(port, part, keys_prompt, MENU_KEYS)
            # Heard to the end once: the message got through, whatever comes next. Written
            # while the next command listens: a key pressed between two AGI commands is lost.
            if heard is None:
                heard = asyncio.create_task(
                    self.attempts.note(call.channel_id, result=Outcome.MESSAGE_PLAYED)
                )
            try:
                if key is None:
                    key = await port.wait_for_digit(CHOICE_WAIT_MS)
            finally:
                await heard
            if key is not None:
                part.inputs.append(
                    {"field": "campaign_key", "value": key, "at": datetime.now(UTC).isoformat()}
                )
            if key == "3":
                continue
            if key == "1":
                # Straight to the queue, with nothing said first: answer to agent is what the
                # person waits through (the queue plays music while an agent's phone rings).
                asked = asyncio.create_task(
                    self.attempts.note(call.channel_id, result=Outcome.TO_AGENT)
                )
                try:
                    # The dialplan reads it after the route: "queue" sends the person to an agent.
                    await agi.set_variable(variables.NEXT, "queue")
                finally:
                    await asked
            elif key == "2":
                tracking = await self.own_records.create_callback_task(
                    "callback",
                    call.phone,
                    customer_id=call.customer_id,
                    linkedid=call.channel_id,
                    channel=CaseChannel.DIALER,
                )
                await self.attempts.note(call.channel_id, result=Outcome.CALLBACK_REQUESTED)
                part.looked_up.append(
                    {"kind": "callback_task", "ref": tracking, "task": "callback"}
                )
                confirmation = Utterance.join(
                    (
                        self.voice.phrase("callback_registered", language),
                        self.voice.phrase("tracking_number_is", language),
                        self.voice.digits(tracking, language),
                    )
                )
                await self._say(port, part, confirmation)
            elif key == "9":
                # On the list at once (not only when the attempt settles): no campaign may
                # call the number again, even if this worker dies now.
                await self.do_not_call.add(
                    call.phone, "opted_out", datetime.now(UTC), call.campaign
                )
                await self.attempts.note(call.channel_id, result=Outcome.OPTED_OUT)
                await self._say(port, part, self.voice.phrase("campaign_opted_out", language))
            return


async def _variable(agi: AgiCommands, name: str) -> str | None:
    try:
        return await agi.get_variable(name)
    except AgiHungUp:
        return None
