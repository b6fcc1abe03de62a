"""What the IVR tests build on: a scripted caller (a test double of the engine's own Channel
port, no Asterisk) and a small hand-made customer file in a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agi_scripts.channel import Route
from agi_scripts.fastagi import AgiServer, build_server
from customer_file.identifiers import national_id_check_digit
from integrations.customer_file.claims import Claim, advance_claim
from integrations.customer_file.customers import Customer, Email, Phone
from integrations.customer_file.payments import Cheque, Installment
from integrations.customer_file.pins import hash_pin
from integrations.customer_file.places import Branch, MedicalCentre, PaymentCentre, PostalArea
from integrations.customer_file.policies import Policy
from integrations.customer_file.shareholders import Dividend, GeneralMeeting, Shareholder
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.messaging.outbox import Outbox
from ivr import definitions
from ivr.channel import ALL_KEYS, CallerHungUp, Recording, Spoken
from ivr.engine import Engine, Facilities
from ivr.hours import OpeningHours
from ivr.lockout import MemoryFailures, PinGuard
from ivr.services import SERVICES, welcome
from ivr.session import CallSession
from ivr.speech import PromptVoice
from prompts.catalogue import default_catalogue
from prompts.utterance import Utterance
from tamas.asterisk.ami import AmiClient
from tamas.asterisk.test_call import TestCall, run_call
from tamas.settings import Settings

TEHRAN = ZoneInfo("Asia/Tehran")
# A Saturday at 10:00 in Tehran: open. A Friday: closed.
OPEN_AT = datetime(2026, 11, 21, 10, 0, tzinfo=TEHRAN)
CLOSED_AT = datetime(2026, 11, 20, 10, 0, tzinfo=TEHRAN)

NATIONAL_ID = "008765432" + str(national_id_check_digit("008765432"))
GOLD_PHONE = "+989121110000"
REGULAR_PHONE = "+79161234567"
STRANGER_PHONE = "+989350000000"
PIN = "1357"
POLICY_NUMBER = "140310002233"
AUTHENTICITY_CODE = "990011223344"
CLAIM_CODE = "77001234"
SHAREHOLDER_NUMBER = "500777"
SHAREHOLDER_PIN = "2468"
POSTAL_CODE = "1193653471"
APPROVED_RIALS = 1_250_000_000
FAST_N = 2**10  # cheap scrypt: these tests check behaviour, not cost


@dataclass
class ScriptedCaller:
    """The engine's Channel port driven by a script of what the caller does.

    Script items: "5" a key pressed when the IVR next listens; "^5" a key pressed during the
    next prompt (barge-in); "~" a silence that runs out one wait; "H" hanging up (at the next
    wait for a key, or during a recording, which the caller ends that way). When the
    script is used up the caller hangs up, as a real one would.
    """

    script: list[str]
    played: list[str] = field(default_factory=list)
    fragments: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    recordings: list[str] = field(default_factory=list)
    gone: bool = False

    @classmethod
    def keys(cls, *items: str) -> ScriptedCaller:
        script: list[str] = []
        for item in items:
            if item.startswith("^") or item in ("~", "H"):
                script.append(item)
            else:
                script.extend(item)
        return cls(script)

    async def play(self, spoken: Spoken, escape_digits: str = ALL_KEYS) -> str | None:
        if self.gone:
            raise CallerHungUp("the caller hung up while recording")
        self.played.append(spoken.text)
        self.fragments.extend(spoken.fragments)
        if self.script and self.script[0].startswith("^"):
            return self.script.pop(0)[1:]
        return None

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        if not self.script or self.script[0] == "H":
            raise CallerHungUp("scripted hang-up")
        item = self.script.pop(0)
        if item == "~":
            return None
        return item.lstrip("^")

    async def read_digits(self, timeout_ms: int, max_digits: int) -> str:
        """As GET DATA does: keys until "#" (dropped), `max_digits` keys, or a silence."""
        keys = ""
        while len(keys) < max_digits:
            if not self.script or self.script[0] == "H":
                if keys:
                    break
                raise CallerHungUp("scripted hang-up")
            item = self.script.pop(0).lstrip("^")
            if item in ("~", "#"):
                break
            keys += item
        return keys

    async def record(self, path: str, max_s: int, end_keys: str = "#") -> Recording:
        self.recordings.append(path)
        if self.script and self.script[0] == "H":
            self.gone = True  # the next command fails, as it would on a dead channel
            return Recording(path=f"{path}.wav", duration_ms=0, ended_by="hangup")
        if self.script and self.script[0] == "#":
            self.script.pop(0)
        return Recording(path=f"{path}.wav", duration_ms=4200, ended_by="dtmf")

    async def get_variable(self, name: str) -> str | None:
        return self.variables.get(name)

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    @property
    def heard(self) -> str:
        return "\n".join(self.played)


@dataclass
class CustomerFileIds:
    gold_id: int
    regular_id: int


async def build_customer_file(database: Database) -> CustomerFileIds:
    """Two customers (a gold Persian speaker, a regular Russian speaker), a policy with
    installments and cheques, an approved claim, branches, centres and a shareholder."""
    now = datetime.now(UTC).replace(microsecond=0)
    today = date.today()
    async with database.session() as session:
        gold = Customer(
            kind="person",
            national_id=NATIONAL_ID,
            given_name_fa="مریم",
            family_name_fa="احمدی",
            given_name_latin="Maryam",
            family_name_latin="Ahmadi",
            gender="female",
            language="fa",
            tier="gold",
            pin_hash=hash_pin(PIN, n=FAST_N),
            created_at=now,
        )
        gold.phones = [Phone(e164=GOLD_PHONE, kind="mobile", is_primary=True)]
        gold.emails = [Email(address="maryam@example.com", is_primary=True)]
        regular = Customer(
            kind="person",
            national_id="001234567" + str(national_id_check_digit("001234567")),
            given_name_fa="ایوان",
            family_name_fa="پتروف",
            given_name_latin="Ivan",
            family_name_latin="Petrov",
            gender="male",
            language="ru",
            tier="regular",
            created_at=now,
        )
        regular.phones = [Phone(e164=REGULAR_PHONE, kind="mobile", is_primary=True)]
        session.add_all([gold, regular])
        await session.flush()
        policy = Policy(
            number=POLICY_NUMBER,
            authenticity_code=AUTHENTICITY_CODE,
            customer_id=gold.id,
            line="motor_hull",
            status="active",
            start_date=date(2026, 3, 21),
            end_date=date(2027, 3, 20),
            premium_rials=90_000_000,
        )
        session.add(policy)
        await session.flush()
        session.add_all(
            [
                Installment(policy_id=policy.id, sequence=1, due_date=today - timedelta(days=10),
                            amount_rials=15_000_000, status="due"),
                Installment(policy_id=policy.id, sequence=2, due_date=today + timedelta(days=20),
                            amount_rials=15_000_000, status="due"),
                Cheque(customer_id=gold.id, number="123001", bank="ملت",
                       due_date=today + timedelta(days=20), amount_rials=15_000_000, status="due"),
                Cheque(customer_id=gold.id, number="123000", bank="ملت",
                       due_date=today - timedelta(days=40), amount_rials=8_000_000,
                       status="bounced"),
            ]
        )  # fmt: skip
        claim = Claim(
            tracking_code=CLAIM_CODE,
            policy_id=policy.id,
            customer_id=gold.id,
            line="motor_hull",
            loss_date=today - timedelta(days=30),
            amount_claimed_rials=1_400_000_000,
            next_step="collect_payment",
        )
        advance_claim(claim, "registered", now - timedelta(days=20))
        advance_claim(claim, "approved", datetime(2026, 11, 15, 9, 0, tzinfo=UTC))
        claim.amount_approved_rials = APPROVED_RIALS
        session.add(claim)
        session.add_all(
            [
                PostalArea(prefix=POSTAL_CODE[:5], province="تهران", city="تهران",
                           latitude=35.6892, longitude=51.3890),
                _branch("B-1", "شعبه آزادی", "Azadi branch", 35.6900, 51.3900),
                _branch("B-2", "شعبه ونک", "Vanak branch", 35.7575, 51.4100),
                MedicalCentre(kind="hospital", name_fa="بیمارستان میلاد", name_en="Milad Hospital",
                              city="تهران", address_fa="همت", phone="+982182081"),
                PaymentCentre(name_fa="مرکز پرداخت مرکزی", name_en="Central payment centre",
                              city="تهران", address_fa="ونک", phone="+982188000000",
                              opening_hours="08-16"),
            ]
        )  # fmt: skip
        holder = Shareholder(
            shareholder_number=SHAREHOLDER_NUMBER,
            customer_id=gold.id,
            name_fa="مریم احمدی",
            name_latin="Maryam Ahmadi",
            pin_hash=hash_pin(SHAREHOLDER_PIN, n=FAST_N),
            shares=12_000,
            missing_documents=["bank_account_number"],
        )
        holder.dividends = [
            Dividend(fiscal_year=1404, per_share_rials=450, amount_due_rials=5_400_000,
                     payment_date=date(2027, 1, 10)),
        ]  # fmt: skip
        session.add(holder)
        session.add(
            GeneralMeeting(
                held_at=datetime(2027, 2, 1, 6, 30, tzinfo=UTC),
                place_fa="تهران، سالن همایش",
                place_en="Tehran, conference hall",
                agenda=["تقسیم سود"],
                invitation_text="دعوت به مجمع عمومی",
            )
        )
        await session.commit()
        return CustomerFileIds(gold.id, regular.id)


def _branch(code: str, name_fa: str, name_en: str, latitude: float, longitude: float) -> Branch:
    return Branch(
        kind="branch",
        code=code,
        name_fa=name_fa,
        name_en=name_en,
        province="تهران",
        city="تهران",
        postal_code=POSTAL_CODE,
        address_fa="نشانی " + name_fa,
        address_en="Address of " + name_en,
        phone="+982166001234",
        opening_hours="08-16",
        latitude=latitude,
        longitude=longitude,
    )


class StrictVoice(PromptVoice):
    """The real voice, except that a prompt missing from the catalogue fails the test."""

    def phrase(self, key: str, language: str) -> Utterance:
        return self.catalogue.say(key, language)


def make_engine(
    database: Database,
    *,
    pins: PinGuard | None = None,
    hours: OpeningHours | None = None,
    offer_survey: bool = True,
) -> Engine:
    book = definitions.load(services=SERVICES)
    facilities = Facilities(
        customers=SqlCustomerFile(database),
        voice=StrictVoice(),
        pins=pins or PinGuard(MemoryFailures(), max_failures=3, window_s=900),
        outbox=Outbox(database),
        hours=hours or OpeningHours(),
        recordings_dir="/tmp/tamas-test-recordings",
        offer_survey=offer_survey,
    )
    return Engine(book, SERVICES, facilities)


def session_for(
    caller: str | None, linkedid: str = "test-call-1", at: datetime = OPEN_AT
) -> CallSession:
    return CallSession(linkedid=linkedid, caller_number=caller, clock=lambda: at, started_at=at)


async def call_ivr(
    database: Database,
    caller: ScriptedCaller,
    phone: str | None,
    *,
    linkedid: str = "test-call-1",
    at: datetime = OPEN_AT,
    **engine: Any,
) -> CallSession:
    """`caller` calls the IVR from `phone` (welcome, then the menus) on a `make_engine(database,
    **engine)`; returns the call's session."""
    session = session_for(phone, linkedid, at)
    await make_engine(database, **engine).run(caller, session, welcome=welcome.run)
    return session


def keyed(session: CallSession) -> dict[str, str]:
    return {item["field"]: item["value"] for item in session.inputs}


def menus(session: CallSession) -> Sequence[str]:
    return [step["menu"] for step in session.menu_path]


def en(key: str) -> str:
    """A prompt's English text, as the catalogue has it today."""
    return default_catalogue().text(key, "en")


@dataclass
class Line:
    """What a test needs to place real calls into the sandbox: settings, our own FastAGI server
    on a free port (each call's TAMAS_AGI points the dialplan at it, so a `tamas agi` already
    serving the settings' port is never in the way), its database, an AMI connection."""

    settings: Settings
    server: AgiServer
    database: Database
    ami: AmiClient

    @property
    def agi(self) -> dict[str, str]:
        return {"TAMAS_AGI": f"agi://127.0.0.1:{self.server.port}"}

    async def place(self, caller: str, extension: str, dtmf: str, **options: Any) -> TestCall:
        """`run_call` (what `tamas call` does) through this line's server and database."""
        return await run_call(
            self.settings,
            caller,
            extension,
            dtmf,
            variables=self.agi,
            ami=self.ami,
            database=self.database,
            **options,
        )

    async def call(self, caller: str, extension: str, dtmf: str, **options: Any) -> dict[str, Any]:
        """The call's interaction record (the call may take up to two minutes)."""
        options.setdefault("timeout_s", 120)
        call = await self.place(caller, extension, dtmf, **options)
        assert call.record is not None
        return call.record


@asynccontextmanager
async def open_line(
    settings: Settings, routes: Callable[[Database], Mapping[str, Route]], name: str
) -> AsyncIterator[Line]:
    """A `Line` serving `routes(database)` on the settings' database; `name` names its AMI login."""
    database = Database(settings.effective_database_url)
    server = build_server(settings, routes(database), host="127.0.0.1", port=0)
    await server.start()
    ami = AmiClient.from_settings(settings, name=name)
    await ami.connect()
    try:
        yield Line(settings, server, database, ami)
    finally:
        await ami.close()
        await server.close()
        await database.dispose()
