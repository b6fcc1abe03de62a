"""Demo records with well-known values, so the README, the tests and a person trying Tamas
by phone name the same caller, claim, shareholder and policy.

Everything a caller keys on a phone keypad (claim tracking codes, shareholder numbers,
policy numbers, authenticity codes, PINs) is digits only. Generated data never produces
these values: each generator keeps them out of its range (see `identities.Codes`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Showcase:
    # A Persian gold-tier customer with a claim under assessment, an overdue installment and
    # a bounced cheque.
    gold_caller: str = "+989121234567"
    gold_pin: str = "1234"
    gold_national_id: str = "0012345679"
    gold_name_fa: str = "علی رضایی"
    gold_name_latin: str = "Ali Rezaei"
    claim_in_assessment: str = "140312345"
    claim_rejected: str = "140311111"
    overdue_installment_rials: int = 75_000_000
    bounced_cheque_number: str = "553122"
    bounced_cheque_rials: int = 120_000_000
    # The gold customer's motor-hull policy: genuine, checkable by number or by code.
    policy_number: str = "1000012345"
    authenticity_code: str = "482913570615"
    # Neither exists: the authenticity menu must say "not genuine".
    fake_policy_number: str = "1000099999"
    fake_authenticity_code: str = "999999999999"

    # A VIP customer, also a shareholder, whose claim was paid.
    vip_caller: str = "+989351112233"
    vip_pin: str = "2468"
    vip_national_id: str = "0023456787"
    vip_name_latin: str = "Sara Ahmadi"
    claim_paid: str = "140354321"
    shareholder_number: str = "10001001"
    shareholder_pin: str = "4321"

    # A Russian-speaking customer (language ru) with a claim just registered.
    russian_caller: str = "+79161234567"
    russian_pin: str = "5555"
    russian_national_id: str = "0034567895"
    russian_name_latin: str = "Anna Ivanova"
    claim_registered: str = "140377777"

    # An English-speaking customer without a PIN yet (the IVR offers to set one).
    english_caller: str = "+989121112222"
    english_national_id: str = "0045678911"
    english_name_latin: str = "John Smith"

    # A company calling from its Tehran switchboard.
    company_caller: str = "+982122223333"
    company_id: str = "14000012340"
    company_name_latin: str = "Alborz Transport Co."

    # Vanak, Tehran: three open branches/agencies within 2 km, and one agency nearby whose
    # licence has lapsed (never offered).
    postal_code_near_branches: str = "1991633357"
    nearby_branch_codes: tuple[str, ...] = ("1001", "1002", "1003")
    expired_agency_code: str = "1004"
    invalid_postal_code: str = "1234512345"  # contains 2 and 0: Iran Post never issues it

    @property
    def reserved_policy_numbers(self) -> tuple[str, ...]:
        return (*SHOWCASE_POLICY_NUMBERS, self.fake_policy_number)

    @property
    def reserved_authenticity_codes(self) -> tuple[str, ...]:
        return (*SHOWCASE_AUTHENTICITY_CODES, self.fake_authenticity_code)

    @property
    def reserved_tracking_codes(self) -> tuple[str, ...]:
        return (
            self.claim_in_assessment,
            self.claim_rejected,
            self.claim_paid,
            self.claim_registered,
        )

    @property
    def reserved_shareholder_numbers(self) -> tuple[str, ...]:
        return (self.shareholder_number,)


SHOWCASE = Showcase()

# Customer indexes 0..SHOWCASE_CUSTOMERS-1 hold the showcase customers (ids 1..5): gold,
# VIP, Russian, English, company.
SHOWCASE_CUSTOMERS = 5
# Every policy of the showcase customers, in the order showcase_records creates them.
SHOWCASE_POLICY_NUMBERS = (
    "1000012345", "1000012346", "1000012347", "1000012348", "1000012349", "1000012350",
    "1000012351", "1000012352",
)  # fmt: skip
SHOWCASE_AUTHENTICITY_CODES = (
    "482913570615", "482913570616", "482913570617", "482913570618", "482913570619",
    "482913570620", "482913570621", "482913570622",
)  # fmt: skip
