"""What an email carries besides its text: the documents its subject calls for, drawn as PDF
from the customer's file in their language (messaging/documents.py). An email about debts
carries the debt statement; one about a policy, each active policy's schedule. Subjects
that call for no document carry none."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

from customer_file.port import CustomerFile
from customer_file.views import CustomerSummary
from messaging import documents

log = logging.getLogger(__name__)

PDF = "application/pdf"
# Outbox subjects (integrations/messaging/subjects.py keys) that call for a document.
DEBT_SUBJECTS = frozenset({"debts", "debt_statement", "installment_due", "installment_overdue"})
POLICY_SUBJECTS = frozenset({"policy_schedule", "policy_issued"})

FILENAMES = {
    "debt": {"fa": "صورت‌حساب-بدهی.pdf", "en": "statement.pdf", "ru": "vypiska.pdf"},
    "policy": {
        "fa": "بیمه‌نامه-{number}.pdf",
        "en": "policy-{number}.pdf",
        "ru": "polis-{number}.pdf",
    },
}


@dataclasses.dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = PDF


# Given the outbox row's subject, customer and language: the documents to attach.
AttachmentSource = Callable[[str, int | None, str], Awaitable[Sequence[Attachment]]]


def _filename(kind: str, language: str, **values: str) -> str:
    names = FILENAMES[kind]
    return (names.get(language) or names["en"]).format(**values)


class StatementAttachments:
    """Debt statements and policy schedules from the customer file, as an AttachmentSource."""

    def __init__(
        self,
        customer_file: CustomerFile,
        fonts: documents.Fonts,
        *,
        header: str = "",
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.customer_file = customer_file
        self.fonts = fonts
        self.header = header
        self.today = today

    async def __call__(
        self, subject: str, customer_id: int | None, language: str
    ) -> Sequence[Attachment]:
        if customer_id is None or subject not in DEBT_SUBJECTS | POLICY_SUBJECTS:
            return ()
        # A customer file that fails (down, slow) raises: the message waits for the next
        # round rather than going without its document (integrations/messaging/mail.py).
        customer = await self.customer_file.customer(customer_id)
        if customer is None:
            return ()
        if language:  # the message's language wins over the file's
            customer = _in_language(customer, language)
        if subject in DEBT_SUBJECTS:
            debt = await self.customer_file.debts(customer_id)
            drawn = [
                (
                    _filename("debt", customer.language),
                    documents.debt_statement(customer, debt, self.today(), header=self.header),
                )
            ]
        else:
            whole = await self.customer_file.customer_file(customer_id)
            policies = [p for p in (whole.policies if whole else ()) if p.status == "active"]
            drawn = [
                (
                    _filename("policy", customer.language, number=policy.number),
                    documents.policy_schedule(customer, policy, header=self.header),
                )
                for policy in policies
            ]
        rendered = []
        for filename, document in drawn:
            pdf = await asyncio.to_thread(documents.render_pdf, document, self.fonts)
            rendered.append(Attachment(filename, pdf))
        return rendered


def _in_language(customer: CustomerSummary, language: str) -> CustomerSummary:
    return dataclasses.replace(customer, language=language)
