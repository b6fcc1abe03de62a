"""The showcase customers' rows (values in `showcase.SHOWCASE`), dated relative to the plan's
`today` so the overdue installment is overdue and the open claim recent whenever it is run."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from integrations.customer_file import pins
from integrations.demo_data.batch import Batch, Ids
from integrations.demo_data.portfolio import DIVIDENDS, Plan
from integrations.demo_data.showcase import (
    SHOWCASE,
    SHOWCASE_AUTHENTICITY_CODES,
    SHOWCASE_POLICY_NUMBERS,
)

S = SHOWCASE
_TEHRAN = ("تهران", "تهران")  # province, city


@cache
def _pin_hash(pin: str) -> str:
    # Full production cost, and a salt fixed by the PIN so the same run gives the same rows.
    salt = hashlib.sha256(f"showcase-pin:{pin}".encode()).digest()[:16]
    return pins.hash_pin(pin, salt=salt)


def showcase_batch(plan: Plan) -> Batch:
    batch = Batch()
    today = plan.today
    now = datetime.combine(today, time(9, 0), tzinfo=UTC)
    policy_n = iter(range(len(SHOWCASE_POLICY_NUMBERS)))

    def policy(index: int, n: int, line: str, start: date, days: int, premium: int) -> int:
        k = next(policy_n)
        slot = Ids.policy_slot(index, n)
        objects = [{"kind": "car", "model": "Peugeot Pars", "plate": "22 ب 365 - 11"}]
        if line not in ("motor_hull", "third_party_motor"):
            objects = [{"kind": "person", "relation": "policyholder"}]
        end = start + timedelta(days=days)
        batch.add(
            "policies", id=slot + 1, number=SHOWCASE_POLICY_NUMBERS[k],
            authenticity_code=SHOWCASE_AUTHENTICITY_CODES[k], customer_id=Ids.customer(index),
            line=line, status="active" if end >= today else "expired", start_date=start,
            end_date=end, premium_rials=premium, sum_insured_rials=premium * 40,
            insured_objects=objects, branch_id=1,
        )  # fmt: skip
        return slot

    def claim(
        index: int, n: int, code: str, policy_slot: int, line: str, stages: list[tuple[str, int]],
        claimed: int, approved: int | None = None, paid: int | None = None,
        adjuster: str | None = None, deadline: date | None = None, next_step: str = "none",
        note: str | None = None,
    ) -> None:  # fmt: skip
        slot = Ids.claim_slot(index, n)
        for k, (stage, days_ago) in enumerate(stages):
            batch.add(
                "claim_stage_changes", id=Ids.stage_change(slot, k), claim_id=slot + 1,
                stage=stage, at=now - timedelta(days=days_ago),
                note=note if k == len(stages) - 1 else None,
            )  # fmt: skip
        last_stage, last_days = stages[-1]
        batch.add(
            "claims", id=slot + 1, tracking_code=code, policy_id=policy_slot + 1,
            customer_id=Ids.customer(index), line=line,
            loss_date=today - timedelta(days=stages[0][1] + 2), stage=last_stage,
            stage_changed_at=now - timedelta(days=last_days), amount_claimed_rials=claimed,
            amount_approved_rials=approved, amount_paid_rials=paid, adjuster_name=adjuster,
            adjuster_deadline=deadline, next_step=next_step, next_step_note=note,
        )  # fmt: skip

    def person(
        index: int, national_id: str, given: tuple[str, str], family: tuple[str, str],
        gender: str, birth: date, language: str, tier: str, pin: str | None, phone: str,
    ) -> None:  # fmt: skip
        batch.add(
            "customers", id=Ids.customer(index), kind="person", national_id=national_id,
            given_name_fa=given[0], family_name_fa=family[0], given_name_latin=given[1],
            family_name_latin=family[1], gender=gender, birth_date=birth, language=language,
            tier=tier, pin_hash=None if pin is None else _pin_hash(pin),
        )  # fmt: skip
        batch.add(
            "phones", id=Ids.phone(index, 0), customer_id=Ids.customer(index), e164=phone,
            kind="mobile", is_primary=True,
        )  # fmt: skip

    def address(index: int, postal_code: str, line: str) -> None:
        batch.add(
            "addresses", id=Ids.address(index, 0), customer_id=Ids.customer(index), kind="home",
            postal_code=postal_code, province=_TEHRAN[0], city=_TEHRAN[1], line=line,
        )  # fmt: skip

    # 0: the gold customer.
    person(0, S.gold_national_id, ("علی", "Ali"), ("رضایی", "Rezaei"), "male", date(1980, 5, 12),
           "fa", "gold", S.gold_pin, S.gold_caller)  # fmt: skip
    batch.add("phones", id=Ids.phone(0, 1), customer_id=1, e164="+982122334455",
              kind="landline", is_primary=False)  # fmt: skip
    batch.add("emails", id=Ids.email(0, 0), customer_id=1, address="ali.rezaei@example.com",
              is_primary=True)  # fmt: skip
    address(0, S.postal_code_near_branches, "تهران، خیابان ونک، کوچه سوم، پلاک ۱۲")
    hull_start = today - timedelta(days=160)
    hull = policy(0, 0, "motor_hull", hull_start, 365, 4 * S.overdue_installment_rials)
    third_party = policy(0, 1, "third_party_motor", today - timedelta(days=220), 365, 98_000_000)
    for n in range(4):
        due = hull_start + timedelta(days=90 * n)
        status, paid_on = (
            ("paid", due) if n == 0 else ("overdue", None) if n == 1 else ("due", None)
        )
        batch.add("installments", id=Ids.installment(hull, n), policy_id=hull + 1, sequence=n + 1,
                  due_date=due, amount_rials=S.overdue_installment_rials, status=status,
                  paid_on=paid_on)  # fmt: skip
    batch.add("cheques", id=Ids.cheque(0, 0), customer_id=1, policy_id=hull + 1,
              number=S.bounced_cheque_number, bank="بانک ملت", due_date=today - timedelta(days=30),
              amount_rials=S.bounced_cheque_rials, status="bounced")  # fmt: skip
    batch.add("cheques", id=Ids.cheque(0, 1), customer_id=1, policy_id=hull + 1,
              number="553123", bank="بانک ملت", due_date=today + timedelta(days=20),
              amount_rials=S.overdue_installment_rials, status="due")  # fmt: skip
    claim(0, 0, S.claim_in_assessment, hull, "motor_hull",
          [("registered", 20), ("inspection", 15), ("assessment", 5)], 450_000_000,
          adjuster="مهندس کاظمی", deadline=today + timedelta(days=7),
          next_step="await_assessment")  # fmt: skip
    claim(0, 1, S.claim_rejected, third_party, "third_party_motor",
          [("registered", 200), ("inspection", 190), ("rejected", 180)], 60_000_000,
          adjuster="مهندس رستمی", note="خسارت خارج از تعهدات بیمه‌نامه")  # fmt: skip

    # 1: the VIP customer, who is also the showcase shareholder.
    person(1, S.vip_national_id, ("سارا", "Sara"), ("احمدی", "Ahmadi"), "female",
           date(1975, 3, 2), "fa", "vip", S.vip_pin, S.vip_caller)  # fmt: skip
    address(1, "1991644418", "تهران، خیابان ملاصدرا، پلاک ۸")
    policy(1, 0, "life", today - timedelta(days=900), 365 * 15, 240_000_000)
    health = policy(1, 1, "health", today - timedelta(days=100), 365, 160_000_000)
    claim(1, 0, S.claim_paid, health, "health",
          [("registered", 60), ("inspection", 55), ("assessment", 45), ("approved", 30),
           ("paid", 20)], 80_000_000, 72_000_000, 72_000_000, adjuster="دکتر صالحی")  # fmt: skip
    shares = 250_000
    batch.add("shareholders", id=Ids.shareholder(1), shareholder_number=S.shareholder_number,
              customer_id=2, name_fa="سارا احمدی", name_latin="Sara Ahmadi",
              pin_hash=_pin_hash(S.shareholder_pin), shares=shares,
              missing_documents=["bank_account_number"])  # fmt: skip
    for n, (year, per_share, payment_date) in enumerate(DIVIDENDS):
        paid_on = payment_date + timedelta(days=12) if n < len(DIVIDENDS) - 1 else None
        batch.add("dividends", id=Ids.dividend(1, n), shareholder_id=Ids.shareholder(1),
                  fiscal_year=year, per_share_rials=per_share,
                  amount_due_rials=shares * per_share, payment_date=payment_date,
                  paid_on=paid_on)  # fmt: skip

    # 2: the Russian-speaking customer.
    person(2, S.russian_national_id, ("Анна", "Anna"), ("Иванова", "Ivanova"), "female",
           date(1988, 9, 14), "ru", "silver", S.russian_pin, S.russian_caller)  # fmt: skip
    address(2, "1991677741", "تهران، خیابان ونک، پلاک ۴۰")
    policy(2, 0, "travel", today - timedelta(days=10), 92, 18_000_000)
    russian_health = policy(2, 1, "health", today - timedelta(days=50), 365, 95_000_000)
    claim(2, 0, S.claim_registered, russian_health, "health", [("registered", 2)], 35_000_000,
          next_step="submit_documents")  # fmt: skip

    # 3: the English-speaking customer, no PIN yet.
    person(3, S.english_national_id, ("John", "John"), ("Smith", "Smith"), "male",
           date(1979, 11, 30), "en", "regular", None, S.english_caller)  # fmt: skip
    policy(3, 0, "third_party_motor", today - timedelta(days=300), 365, 87_000_000)

    # 4: the company.
    batch.add("customers", id=Ids.customer(4), kind="company", company_id=S.company_id,
              given_name_fa="", family_name_fa="شرکت حمل و نقل البرز", given_name_latin="",
              family_name_latin=S.company_name_latin, language="fa", tier="silver")  # fmt: skip
    batch.add("phones", id=Ids.phone(4, 0), customer_id=5, e164=S.company_caller, kind="work",
              is_primary=True)  # fmt: skip
    policy(4, 0, "cargo", today - timedelta(days=40), 365, 1_200_000_000)
    return batch
