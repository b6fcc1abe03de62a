"""A customer's debt, derived from installments and cheques (pure: no I/O).

The balance is what is unpaid on installments plus what bounced cheques failed to pay.
Cheques still due are shown but not added: they were given to pay installments already
counted, and adding both would bill the customer twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from customer_file.views import ChequeView, DebtView, InstallmentView


def effective_status(installment: InstallmentView, today: date) -> str:
    """An unpaid installment past its due date is overdue, whatever the stored status."""
    if installment.status == "paid":
        return "paid"
    if installment.status == "overdue" or installment.due_date < today:
        return "overdue"
    return "due"


def summarize_debt(
    customer_id: int,
    installments: Iterable[InstallmentView],
    cheques: Iterable[ChequeView],
    today: date,
) -> DebtView:
    unpaid = sorted(
        (
            replace(item, status=effective_status(item, today))
            for item in installments
            if item.status != "paid"
        ),
        key=lambda item: (item.due_date, item.policy_number, item.sequence),
    )
    cheque_list = sorted(cheques, key=lambda cheque: (cheque.due_date, cheque.number))
    due = tuple(cheque for cheque in cheque_list if cheque.status == "due")
    bounced = tuple(cheque for cheque in cheque_list if cheque.status == "bounced")
    bounced_rials = sum(cheque.amount_rials for cheque in bounced)
    overdue_rials = sum(item.amount_rials for item in unpaid if item.status == "overdue")
    return DebtView(
        customer_id=customer_id,
        balance_rials=sum(item.amount_rials for item in unpaid) + bounced_rials,
        overdue_rials=overdue_rials + bounced_rials,
        next_installments=tuple(unpaid),
        cheques_due=due,
        cheques_bounced=bounced,
    )
