"""A small customer file for the campaign operators' tests: customers whose policies end soon
(one renewed, one far off, one cancelled), overdue and paid installments, a bounced cheque, a
settled claim, a shareholder with a meeting ahead, a new policyholder, a number on the
do-not-call list and a customer with no number. `NOW` is the day the rules look from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from dialer.do_not_call import DoNotCallList
from integrations.customer_file.claims import Claim
from integrations.customer_file.customers import Customer, Phone
from integrations.customer_file.payments import Cheque, Installment
from integrations.customer_file.policies import Policy
from integrations.customer_file.shareholders import GeneralMeeting, Shareholder
from integrations.database import Database

# 12:30 in Tehran on 1 December 2026 (10 Azar 1405).
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)


@dataclass
class FileBuilder:
    rows: list[object] = field(default_factory=list)
    next_id: int = 1

    def customer(
        self,
        given: str,
        family: str,
        phone: str | None,
        language: str = "fa",
        birth_date: date | None = None,
    ) -> int:
        customer_id = self.next_id
        self.next_id += 1
        self.rows.append(
            Customer(
                id=customer_id,
                kind="person",
                national_id=f"{customer_id:010d}",
                given_name_fa=given,
                family_name_fa=family,
                given_name_latin="",
                family_name_latin="",
                language=language,
                birth_date=birth_date,
            )
        )
        if phone is not None:
            self.rows.append(Phone(customer_id=customer_id, e164=phone, is_primary=True))
        return customer_id

    def policy(
        self,
        customer_id: int,
        number: str,
        start: date,
        end: date,
        *,
        line: str = "third_party_motor",
        status: str = "active",
        premium_rials: int = 48_000_000,
    ) -> Policy:
        policy = Policy(
            number=number,
            authenticity_code=f"A-{number}",
            customer_id=customer_id,
            line=line,
            status=status,
            start_date=start,
            end_date=end,
            premium_rials=premium_rials,
        )
        self.rows.append(policy)
        return policy


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


async def customer_file(database: Database) -> dict[str, int]:
    """Writes the file; customer ids by first name."""
    f = FileBuilder()
    ali = f.customer("علی", "رضایی", "+989121000001", birth_date=date(1990, 12, 1))
    sara = f.customer("سارا", "محمدی", "+989121000002")
    reza = f.customer("رضا", "کریمی", "+989121000003")
    olga = f.customer(
        "Ольга", "Петрова", "+79161234567", language="ru", birth_date=date(1988, 12, 3)
    )
    barred = f.customer("مریم", "احمدی", "+989121000005")
    no_phone = f.customer("حسن", "نوری", None)
    cancelled = f.customer("Kate", "Brown", "+989121000007", language="en")
    neda = f.customer("ندا", "صادقی", "+989121000008")

    # Renewals: Ali's two policies end within 30 days (the sooner is his target); Sara renewed.
    f.policy(ali, "P-ALI-1", days(-345), days(19))
    ali_fire = f.policy(ali, "P-ALI-2", days(-356), days(9), line="fire", premium_rials=9_000_000)
    f.policy(sara, "P-SARA-1", days(-351), days(14))
    sara_renewal = f.policy(sara, "P-SARA-2", days(-2), days(379))
    reza_policy = f.policy(reza, "P-REZA-1", days(-303), days(62))
    f.policy(olga, "P-OLGA-1", days(-361), days(4), premium_rials=61_000_000)
    f.policy(barred, "P-MARYAM-1", days(-358), days(7))
    f.policy(no_phone, "P-HASAN-1", days(-357), days(8))
    f.policy(cancelled, "P-KATE-1", days(-355), days(10), status="cancelled")
    f.policy(neda, "P-NEDA-1", days(-1), days(364))
    async with database.session() as session:
        session.add_all(f.rows)
        await session.flush()
        session.add_all(
            [
                # Ali: 11 and 3 days overdue; the older is what the call says.
                Installment(policy_id=ali_fire.id, sequence=1, due_date=days(-11),
                            amount_rials=5_000_000, status="overdue"),
                Installment(policy_id=ali_fire.id, sequence=2, due_date=days(-3),
                            amount_rials=5_000_000, status="due"),
                Installment(policy_id=ali_fire.id, sequence=3, due_date=days(27),
                            amount_rials=5_000_000, status="due"),
                # Sara paid yesterday: thanked, never reminded.
                Installment(policy_id=sara_renewal.id, sequence=1, due_date=days(-1),
                            amount_rials=12_000_000, status="paid", paid_on=days(-1)),
                Cheque(customer_id=olga, number="884422", bank="ملت", due_date=days(-6),
                       amount_rials=7_000_000, status="bounced"),
                Cheque(customer_id=reza, number="112233", bank="ملی", due_date=days(-200),
                       amount_rials=3_000_000, status="bounced"),
                Claim(tracking_code="700100200", policy_id=reza_policy.id, customer_id=reza,
                      line="third_party_motor", loss_date=days(-40), stage="paid",
                      stage_changed_at=NOW - timedelta(hours=12),
                      amount_claimed_rials=100_000_000, amount_approved_rials=90_000_000,
                      amount_paid_rials=90_000_000),
                Shareholder(shareholder_number="5550123", customer_id=reza, name_fa="رضا کریمی",
                            shares=500),
                GeneralMeeting(held_at=datetime(2027, 1, 10, 6, 30, tzinfo=UTC),
                               place_fa="تهران، سالن همایش"),
            ]
        )  # fmt: skip
        await session.commit()
    await DoNotCallList(database).add("+989121000005", "operator", NOW)
    return {
        "ali": ali,
        "sara": sara,
        "reza": reza,
        "olga": olga,
        "maryam": barred,
        "hasan": no_phone,
        "kate": cancelled,
        "neda": neda,
    }
