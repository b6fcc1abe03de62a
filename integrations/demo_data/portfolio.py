"""Demo customers and everything they hold: phones, addresses, policies across lines,
installments (some overdue), cheques (some bounced), claims in every stage with their
history, and shareholdings with dividends.

Pure: `customers_batch(plan, first, end)` returns rows and touches nothing else. Each
customer draws from its own random stream, seeded by (seed, index), so a customer's records
do not depend on the chunk it was generated in, and any chunk can be generated alone.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property
from typing import Any, TypeVar

from integrations.customer_file import pins
from integrations.demo_data import identities, names, network
from integrations.demo_data.batch import Batch, Ids
from integrations.demo_data.places import CITIES, CITY_WEIGHTS, STREETS
from integrations.demo_data.showcase import SHOWCASE, SHOWCASE_CUSTOMERS

T = TypeVar("T")

# Demo PINs come from a pool per seed, each hashed once and shared by the customers who drew
# it: hashing a million PINs at full scrypt cost would take a day. The pool's hashes use a
# lower scrypt cost (recorded in each hash, so verify_pin checks them as usual).
PIN_POOL_SIZE = 100
DEMO_PIN_SCRYPT_N = 2**10

LANGUAGE_WEIGHTS = (("fa", 88), ("ru", 7), ("en", 5))
TIER_WEIGHTS = (("regular", 60), ("bronze", 18), ("silver", 12), ("gold", 7), ("vip", 3))
COMPANY_SHARE = 0.04
# Lines of business and their relative frequency, for persons and for companies.
PERSON_LINES = (
    ("third_party_motor", 30), ("motor_hull", 15), ("health", 14), ("fire", 6),
    ("life", 9), ("travel", 7), ("personal_accident", 6), ("home", 6), ("liability", 2),
)  # fmt: skip
COMPANY_LINES = (
    ("fire", 20), ("engineering", 15), ("cargo", 15), ("liability", 15), ("health", 15),
    ("third_party_motor", 10), ("marine_hull", 5), ("motor_hull", 5),
)  # fmt: skip
# Annual premium range in rials, by line.
PREMIUM_RIALS = {
    "third_party_motor": (45_000_000, 180_000_000),
    "motor_hull": (40_000_000, 600_000_000),
    "health": (30_000_000, 250_000_000),
    "fire": (3_000_000, 120_000_000),
    "life": (20_000_000, 400_000_000),
    "travel": (4_000_000, 40_000_000),
    "personal_accident": (2_000_000, 30_000_000),
    "home": (3_000_000, 50_000_000),
    "liability": (20_000_000, 900_000_000),
    "engineering": (200_000_000, 5_000_000_000),
    "cargo": (30_000_000, 1_500_000_000),
    "marine_hull": (300_000_000, 8_000_000_000),
}
# Lines whose premium is commonly paid in installments.
INSTALLMENT_LINES = frozenset({"motor_hull", "health", "life", "fire", "engineering", "cargo"})
CAR_MODELS = (
    "Peugeot 206", "Peugeot 405", "Peugeot Pars", "Samand", "Pride 131", "Tiba", "Dena",
    "Quick", "Shahin", "Renault Tondar", "Kia Cerato", "Hyundai Tucson",
)  # fmt: skip
PLATE_LETTERS = "بجدسصطقلمنوهی"
ROUTES = ("Bandar Abbas - Jebel Ali", "Bushehr - Doha", "Anzali - Astrakhan")
DESTINATIONS = ("Turkey", "Iraq", "UAE", "Armenia", "Georgia", "Russia", "Malaysia", "Oman")
BANKS = (
    "بانک ملی", "بانک ملت", "بانک صادرات", "بانک تجارت", "بانک سپه", "بانک پاسارگاد",
    "بانک سامان", "بانک پارسیان", "بانک رفاه", "بانک کشاورزی",
)  # fmt: skip
ADJUSTERS = (
    "مهندس کاظمی", "مهندس رستمی", "دکتر صالحی", "مهندس فرهادی", "مهندس جلالی",
    "دکتر نوروزی", "مهندس طاهری", "مهندس کیانی",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "chmail.ir", "mail.ru", "yandex.ru")
# Stage reached by generated claims (rejection can happen after any open stage).
FINAL_STAGE_WEIGHTS = (
    ("registered", 10), ("inspection", 10), ("assessment", 15), ("approved", 10),
    ("paid", 45), ("rejected", 10),
)  # fmt: skip
PATH = ("registered", "inspection", "assessment", "approved", "paid")
NEXT_STEP = {
    "registered": "book_inspection",
    "inspection": "submit_documents",
    "assessment": "await_assessment",
    "approved": "collect_payment",
    "paid": "none",
    "rejected": "none",
}
DOCUMENTS = (
    "national_card_copy", "birth_certificate_copy", "bank_account_number", "share_certificate",
    "signature_specimen",
)  # fmt: skip
# Dividend per share by Jalali fiscal year, and the Gregorian day payment started.
DIVIDENDS = (
    (1401, 350, date(2023, 8, 23)),
    (1402, 420, date(2024, 8, 22)),
    (1403, 510, date(2025, 8, 23)),
    (1404, 600, date(2026, 8, 23)),
)


def _weighted(pairs: tuple[tuple[str, int], ...]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    values = tuple(value for value, _ in pairs)
    cumulative: list[int] = []
    total = 0
    for _, weight in pairs:
        total += weight
        cumulative.append(total)
    return values, tuple(cumulative)


_LANGUAGES = _weighted(LANGUAGE_WEIGHTS)
_TIERS = _weighted(TIER_WEIGHTS)
_PERSON_LINES = _weighted(PERSON_LINES)
_COMPANY_LINES = _weighted(COMPANY_LINES)
_FINAL_STAGES = _weighted(FINAL_STAGE_WEIGHTS)
_CITY_NAMES = _weighted(tuple((city.name_latin, city.weight) for city in CITIES))
_CITY_BY_NAME = {city.name_latin: city for city in CITIES}
assert sum(CITY_WEIGHTS) == _CITY_NAMES[1][-1]


def _pick(rng: random.Random, table: tuple[tuple[str, ...], tuple[int, ...]]) -> str:
    values, cumulative = table
    return values[bisect_right(cumulative, rng.random() * cumulative[-1])]


def _choice(rng: random.Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low))


@dataclass(frozen=True)
class Plan:
    """What one `tamas demo-data` run makes: `customers` customers from `seed`, with dates
    relative to `today` (overdue is overdue as of that day)."""

    customers: int
    seed: int
    today: date = field(default_factory=date.today)

    @cached_property
    def codes(self) -> Codes:
        return Codes(self.seed)

    @property
    def pin_pool(self) -> tuple[tuple[str, str], ...]:
        """(PIN, hash) pairs generated customers and shareholders draw from."""
        return pin_pool(self.seed)

    def customer_rng(self, index: int) -> random.Random:
        # Integer seeds are mixed by Random's own init; one stream per (seed, customer).
        return random.Random(self.seed * 0x9E3779B97F4A7C15 + index)


@cache
def pin_pool(seed: int) -> tuple[tuple[str, str], ...]:
    rng = random.Random(f"pins:{seed}")
    pool = []
    for value in rng.sample(range(10_000), PIN_POOL_SIZE):
        pin = f"{value:04d}"
        salt = hashlib.sha256(f"demo-pin:{seed}:{pin}".encode()).digest()[:16]
        pool.append((pin, pins.hash_pin(pin, salt=salt, n=DEMO_PIN_SCRYPT_N)))
    return tuple(pool)


class Codes:
    """The unique identifiers of one seed, each a bijection of a slot derived from the
    customer's index, with the showcase's values kept out of every range."""

    def __init__(self, seed: int) -> None:
        self.national_ids = identities.NationalIds(seed)
        self.company_ids = identities.CompanyIds(seed)
        self.iran_mobiles = identities.iran_mobiles(seed)
        self.russian_mobiles = identities.russian_mobiles(seed)
        self.landlines = {
            city.name_latin: identities.Landlines(seed, city.area_code) for city in CITIES
        }
        self.policy_numbers = identities.Codes(
            f"policy:{seed}", 10, SHOWCASE.reserved_policy_numbers, start=10**9
        )
        self.authenticity_codes = identities.Codes(
            f"authenticity:{seed}", 12, SHOWCASE.reserved_authenticity_codes, start=10**11
        )
        self.tracking_codes = identities.Codes(
            f"claim:{seed}", 9, SHOWCASE.reserved_tracking_codes, start=10**8
        )
        self.shareholder_numbers = identities.Codes(
            f"shareholder:{seed}", 8, SHOWCASE.reserved_shareholder_numbers, start=10**7
        )


def customers_batch(plan: Plan, first: int, end: int) -> Batch:
    """Rows for generated customers first..end-1 (0-based indexes). Indexes below
    `SHOWCASE_CUSTOMERS` belong to the showcase and are skipped here."""
    batch = Batch()
    generator = _Generator(plan, batch)
    for index in range(max(first, SHOWCASE_CUSTOMERS), end):
        generator.customer(index)
    return batch


class _Generator:
    """Appends one customer's rows at a time; bound methods and locals keep it fast."""

    def __init__(self, plan: Plan, batch: Batch) -> None:
        self.plan = plan
        self.codes = plan.codes
        self.today = plan.today
        self.now = datetime.combine(plan.today, time(9, 0), tzinfo=UTC)
        self.rows = batch.rows
        self.branches = network.branch_ids_by_city()
        self.pin_pool = plan.pin_pool

    def customer(self, index: int) -> None:
        rng = self.plan.customer_rng(index)
        codes = self.codes
        customer_id = Ids.customer(index)
        city = _CITY_BY_NAME[_pick(rng, _CITY_NAMES)]
        is_company = rng.random() < COMPANY_SHARE
        language = "fa" if is_company else _pick(rng, _LANGUAGES)
        tier = _pick(rng, _TIERS)
        pin_hash = _choice(rng, self.pin_pool)[1] if rng.random() < 0.4 else None
        phones = self.rows["phones"]

        if is_company:
            name_fa, name_latin = names.company_name(rng)
            self.rows["customers"].append(
                (customer_id, "company", None, codes.company_ids(index), "", name_fa, "",
                 name_latin, None, None, language, tier, pin_hash)
            )  # fmt: skip
            phones.append(
                (Ids.phone(index, 0), customer_id, codes.landlines[city.name_latin](index * 2),
                 "work", True)
            )  # fmt: skip
            phones.append(
                (Ids.phone(index, 1), customer_id, codes.iran_mobiles(index * 2), "mobile", False)
            )
            if rng.random() < 0.2:
                phones.append(
                    (Ids.phone(index, 2), customer_id,
                     codes.landlines[city.name_latin](index * 2 + 1), "fax", False)
                )  # fmt: skip
            first_latin, last_latin = "info", name_latin.split()[0].lower()
        else:
            if language == "fa":
                person = names.persian_name(rng)
            elif language == "ru":
                person = names.russian_name(rng)
            else:
                person = names.english_name(rng)
            birth = self.today - timedelta(days=_between(rng, 18 * 365, 85 * 365))
            # The *_fa name columns hold the name in the customer's own script: Persian, or
            # Cyrillic for Russian speakers, or Latin for English speakers (greetings are
            # spoken from it); the *_latin columns always hold the Latin form.
            self.rows["customers"].append(
                (customer_id, "person", codes.national_ids(index), None, person.first,
                 person.last, person.first_latin, person.last_latin, person.gender, birth,
                 language, tier, pin_hash)
            )  # fmt: skip
            mobile = (
                codes.russian_mobiles(index * 2)
                if language == "ru"
                else codes.iran_mobiles(index * 2)
            )
            phones.append((Ids.phone(index, 0), customer_id, mobile, "mobile", True))
            if language == "ru" or rng.random() < 0.2:
                phones.append(
                    (Ids.phone(index, 1), customer_id, codes.iran_mobiles(index * 2 + 1),
                     "mobile", False)
                )  # fmt: skip
            if rng.random() < 0.3:
                phones.append(
                    (Ids.phone(index, 2), customer_id, codes.landlines[city.name_latin](index * 2),
                     "landline", False)
                )  # fmt: skip
            first_latin, last_latin = person.first_latin.lower(), person.last_latin.lower()

        if rng.random() < 0.3:
            domain = (
                EMAIL_DOMAINS[4 + (index & 1)]
                if language == "ru"
                else _choice(rng, EMAIL_DOMAINS[:4])
            )
            email = f"{first_latin}.{last_latin}{index}@{domain}"
            self.rows["emails"].append((Ids.email(index, 0), customer_id, email, True))

        area = _choice(rng, network.AREAS[city.name_latin])
        postal = identities.postal_code(rng, area.prefix)
        self.rows["addresses"].append(
            (Ids.address(index, 0), customer_id, "work" if is_company else "home", postal,
             city.province, city.name,
             f"{city.name}، {_choice(rng, STREETS)}، پلاک {_between(rng, 1, 300)}")
        )  # fmt: skip

        draw = rng.random()
        policy_count = 1 if draw < 0.55 else 2 if draw < 0.83 else 3 if draw < 0.95 else 4
        policies: list[tuple[int, int, str, date]] = []
        lines = _COMPANY_LINES if is_company else _PERSON_LINES
        branches = self.branches[city.name_latin]
        for n in range(policy_count):
            policies.append(self.policy(rng, index, n, customer_id, _pick(rng, lines), branches))

        if rng.random() < 0.08:
            self.cheques(rng, index, customer_id, policies)
        if rng.random() < 0.12:
            claim_count = 2 if rng.random() < 0.15 else 1
            for n in range(claim_count):
                self.claim(rng, index, n, customer_id, _choice(rng, policies))
        if not is_company and rng.random() < 0.02:
            self.shareholder(rng, index, customer_id, person)

    def policy(
        self,
        rng: random.Random,
        index: int,
        n: int,
        customer_id: int,
        line: str,
        branches: tuple[int, ...],
    ) -> tuple[int, int, str, date]:
        slot = Ids.policy_slot(index, n)
        policy_id = slot + 1
        today = self.today
        start = today - timedelta(days=_between(rng, 0, 3 * 365))
        if line == "travel":
            end = start + timedelta(days=_choice(rng, (15, 31, 92, 180)))
        elif line == "life":
            end = start + timedelta(days=365 * _choice(rng, (5, 10, 15, 20)))
        else:
            end = start + timedelta(days=365)
        status = "active" if end >= today else "expired"
        if rng.random() < 0.04:
            status = "cancelled" if rng.random() < 0.75 else "suspended"
        low, high = PREMIUM_RIALS[line]
        premium = int(low * (high / low) ** rng.random()) // 10_000 * 10_000
        self.rows["policies"].append(
            (policy_id, self.codes.policy_numbers(slot), self.codes.authenticity_codes(slot),
             customer_id, line, status, start, end, premium, premium * _between(rng, 15, 60),
             _insured_objects(rng, line), _choice(rng, branches))
        )  # fmt: skip
        if rng.random() < 0.05:
            self.rows["endorsements"].append(
                (Ids.endorsement(slot, 0), policy_id, 1,
                 start + timedelta(days=_between(rng, 10, 200)),
                 _choice(rng, ("افزایش سرمایه بیمه", "تغییر نشانی", "اضافه شدن پوشش سرقت")),
                 premium // _choice(rng, (10, 20, 5)))
            )  # fmt: skip
        if line in INSTALLMENT_LINES and rng.random() < 0.35:
            self.installments(rng, slot, policy_id, start, premium)
        return slot, policy_id, line, start

    def installments(
        self, rng: random.Random, slot: int, policy_id: int, start: date, premium: int
    ) -> None:
        today = self.today
        count = _choice(rng, (4, 6))
        amount = premium // count // 1000 * 1000
        months = 12 // count
        late_payer = rng.random() < 0.25
        append = self.rows["installments"].append
        for n in range(count):
            due = start + timedelta(days=30 * months * n)
            if due >= today:
                append((Ids.installment(slot, n), policy_id, n + 1, due, amount, "due", None))
            elif late_payer and due >= today - timedelta(days=120):
                append((Ids.installment(slot, n), policy_id, n + 1, due, amount, "overdue", None))
            else:
                paid_on = due - timedelta(days=_between(rng, 0, 10))
                append((Ids.installment(slot, n), policy_id, n + 1, due, amount, "paid", paid_on))

    def cheques(
        self,
        rng: random.Random,
        index: int,
        customer_id: int,
        policies: list[tuple[int, int, str, date]],
    ) -> None:
        today = self.today
        bank = _choice(rng, BANKS)
        first_number = _between(rng, 100_000, 999_000)
        _slot, policy_id, _line, _start = _choice(rng, policies)
        for n in range(_between(rng, 1, 4)):
            due = today + timedelta(days=_between(rng, -240, 180))
            if due >= today:
                status = "due"
            else:
                status = "bounced" if rng.random() < 0.2 else "paid"
            amount = _between(rng, 5, 200) * 1_000_000
            self.rows["cheques"].append(
                (Ids.cheque(index, n), customer_id, policy_id, f"{first_number + n}", bank, due,
                 amount, status)
            )  # fmt: skip

    def claim(
        self,
        rng: random.Random,
        index: int,
        n: int,
        customer_id: int,
        policy: tuple[int, int, str, date],
    ) -> None:
        _policy_slot, policy_id, line, policy_start = policy
        slot = Ids.claim_slot(index, n)
        claim_id = slot + 1
        final = _pick(rng, _FINAL_STAGES)
        if final == "rejected":
            stages = [*PATH[: _between(rng, 1, 4)], "rejected"]
        else:
            stages = list(PATH[: PATH.index(final) + 1])
        gaps = [timedelta(days=_between(rng, 2, 20), hours=_between(rng, 0, 9)) for _ in stages]
        gaps[0] = timedelta(0)
        span = sum(gaps, timedelta(0))
        if final in ("paid", "rejected"):
            back = span + timedelta(days=_between(rng, 1, 500))
        else:
            back = span + timedelta(days=_between(rng, 0, 10), hours=_between(rng, 0, 8))
        at = self.now - back
        if at.date() < policy_start:
            at = datetime.combine(policy_start, time(7, 0), tzinfo=UTC)
        loss_date = max(policy_start, at.date() - timedelta(days=_between(rng, 0, 7)))
        history = self.rows["claim_stage_changes"]
        for k, (stage, gap) in enumerate(zip(stages, gaps, strict=True)):
            at = at + gap
            history.append((Ids.stage_change(slot, k), claim_id, stage, at, None))
        low, high = PREMIUM_RIALS[line]
        claimed = _between(rng, low, high * 5) // 100_000 * 100_000
        approved = paid = None
        if "approved" in stages:
            approved = claimed * _between(rng, 60, 101) // 100 // 100_000 * 100_000
        if final == "paid":
            paid = approved
        adjuster = deadline = None
        if final in ("inspection", "assessment", "approved", "paid"):
            adjuster = _choice(rng, ADJUSTERS)
        if final in ("inspection", "assessment"):
            deadline = at.date() + timedelta(days=_between(rng, 5, 21))
        self.rows["claims"].append(
            (claim_id, self.codes.tracking_codes(slot), policy_id, customer_id, line, loss_date,
             final, at, claimed, approved, paid, adjuster, deadline, NEXT_STEP[final], None)
        )  # fmt: skip

    def shareholder(
        self, rng: random.Random, index: int, customer_id: int, person: names.PersonName
    ) -> None:
        shares = int(1000 * 5000 ** rng.random())
        missing = [_choice(rng, DOCUMENTS)] if rng.random() < 0.2 else []
        holder_id = Ids.shareholder(index)
        self.rows["shareholders"].append(
            (holder_id, self.codes.shareholder_numbers(index), customer_id,
             f"{person.first} {person.last}", f"{person.first_latin} {person.last_latin}",
             _choice(rng, self.pin_pool)[1], shares, missing)
        )  # fmt: skip
        for n, (year, per_share, payment_date) in enumerate(DIVIDENDS):
            paid_on = None
            if not missing and payment_date < self.today and rng.random() < 0.85:
                paid_on = payment_date + timedelta(days=_between(rng, 0, 60))
            self.rows["dividends"].append(
                (Ids.dividend(index, n), holder_id, year, per_share, shares * per_share,
                 payment_date, paid_on)
            )  # fmt: skip


def _insured_objects(rng: random.Random, line: str) -> list[dict[str, Any]]:
    if line in ("third_party_motor", "motor_hull"):
        plate = (
            f"{_between(rng, 10, 100)} {_choice(rng, PLATE_LETTERS)} {_between(rng, 100, 1000)}"
            f" - {_between(rng, 10, 100)}"
        )
        return [{"kind": "car", "model": _choice(rng, CAR_MODELS), "plate": plate}]
    if line in ("fire", "home", "engineering"):
        return [{"kind": "building", "area_m2": _between(rng, 60, 3000)}]
    if line == "travel":
        return [{"kind": "trip", "destination": _choice(rng, DESTINATIONS)}]
    if line in ("cargo", "marine_hull"):
        return [{"kind": "shipment", "route": _choice(rng, ROUTES)}]
    return [{"kind": "person", "relation": "policyholder"}]
