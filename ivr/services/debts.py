"""Debts and due dates: the caller identifies with national ID and PIN (or policy number and
PIN) and hears the balance, the next installments, cheques due and bounced cheques."""

from __future__ import annotations

from collections.abc import Sequence

from customer_file.identifiers import is_valid_company_id, is_valid_national_id
from customer_file.views import ChequeView, CustomerSummary, DebtView, InstallmentView
from ivr.engine import Call
from ivr.services.identity import LockedOut, check_secret, identify
from ivr.session import BY_PIN
from prompts.utterance import Utterance

SHOWN = 3  # installments and cheques read out; the SMS and the agent's popup have the rest


def _valid_id(digits: str) -> bool:
    return is_valid_national_id(digits) or is_valid_company_id(digits)


async def run(call: Call) -> None:
    how = await call.choose(("1", "2"), "identify_menu", field="identify_by")
    customer: CustomerSummary | None
    if how == "1":
        national_id = await call.ask("national_id", accept=_valid_id)
        customer = await call.lookup(
            "customer", call.customers.customer_by_national_id(national_id)
        )
        identity = f"national_id:{national_id}"
    else:
        number = await call.ask("policy_number")
        customer = await call.lookup("customer", call.customers.customer_by_policy_number(number))
        identity = f"policy:{number}"

    async def verify(pin: str) -> bool:
        # An unknown identity is checked like a wrong PIN, so callers cannot probe who is on file.
        return customer is not None and await call.customers.verify_customer_pin(customer.id, pin)

    try:
        await check_secret(call, identity, "pin", verify)
    except LockedOut:
        return
    assert customer is not None
    identify(call, customer, by=BY_PIN)
    debt = await call.lookup("debts", call.customers.debts(customer.id))
    call.session.looked("debts", str(customer.id), balance_rials=debt.balance_rials)
    report = describe(call, debt)
    await call.report(report, subject="debts")


def describe(call: Call, debt: DebtView) -> Utterance:
    if debt.balance_rials == 0 and not debt.cheques_due:
        return call.utter("no_debt")
    parts = [call.utter("debt_balance"), call.amount(debt.balance_rials)]
    # What is already late first, as late, then what comes next: "next" for an installment
    # past its date would tell the caller they still have time.
    overdue = [item for item in debt.next_installments if item.status == "overdue"]
    upcoming = [item for item in debt.next_installments if item.status != "overdue"]
    for prompt, installments in (
        ("overdue_installments", overdue),
        ("next_installments", upcoming),
    ):
        if not installments:
            continue
        parts.append(call.utter(prompt))
        parts += _due(call, installments)
    for prompt, cheques in (
        ("cheques_due", debt.cheques_due),
        ("cheques_bounced", debt.cheques_bounced),
    ):
        if not cheques:
            continue
        parts += [call.utter(prompt), call.number(len(cheques))]
        parts += _due(call, cheques)
    return Utterance.join(parts)


def _due(call: Call, items: Sequence[InstallmentView | ChequeView]) -> list[Utterance]:
    """The first SHOWN installments or cheques, each as its due date and amount."""
    parts: list[Utterance] = []
    for item in items[:SHOWN]:
        parts += [
            call.utter("installment_due_on"),
            call.date(item.due_date),
            call.utter("installment_amount"),
            call.amount(item.amount_rials),
        ]
    return parts
