"""What the customer is told about their case, at the steps that matter: received (with the
tracking number to give by phone or text), assigned to a person, resolved, and afterwards the
satisfaction question (a reply of 1-5, then 0-10). By the channel the customer prefers (SMS by
default, email when they gave an address and asked for it, nothing when they said so), in their
language, through the outbox: its caps hold for cases as for everything else, and a refused
message never stops the case's step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from customer_file.identifiers import mask_digits
from integrations.messaging.outbox import MessageRefused, Outbox

log = logging.getLogger(__name__)


class Step(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    SURVEY = "survey"


class NotifyBy(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    NONE = "none"


TEXTS: dict[Step, dict[str, str]] = {
    Step.RECEIVED: {
        "fa": "درخواست شما ثبت شد. کد پیگیری: {number}",
        "en": "We have your request. Tracking number: {number}",
        "ru": "Ваше обращение зарегистрировано. Номер для справок: {number}",
    },
    Step.ASSIGNED: {
        "fa": "درخواست {number} به کارشناس ما سپرده شد و در حال رسیدگی است.",
        "en": "Your request {number} is now with one of our staff.",
        "ru": "Вашим обращением {number} занимается наш сотрудник.",
    },
    Step.RESOLVED: {
        "fa": "رسیدگی به درخواست {number} به پایان رسید.",
        "en": "Your request {number} has been resolved.",
        "ru": "Ваше обращение {number} рассмотрено.",
    },
    Step.SURVEY: {
        "fa": "از رسیدگی به درخواست {number} چقدر راضی بودید؟ عددی از ۱ تا ۵ بفرستید.",
        "en": "How satisfied were you with how we handled {number}? Reply with 1 to 5.",
        "ru": "Насколько вы довольны рассмотрением обращения {number}? Ответьте цифрой от 1 до 5.",
    },
}


@dataclass(frozen=True)
class Contact:
    """Where the customer wants to hear about the case (kept on the case's opening entry)."""

    notify_by: NotifyBy
    phone: str | None
    email: str | None
    language: str
    customer_id: int | None = None


class CaseNotices:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def tell(self, contact: Contact, tracking_number: str, step: Step) -> int | None:
        """Queue the step's message; its outbox id, or None when there is nowhere to send it
        or the outbox refused it (logged; the case goes on)."""
        kind, to = self._where(contact)
        if to is None:
            return None
        language = contact.language if contact.language in TEXTS[step] else "fa"
        body = TEXTS[step][language].format(number=tracking_number)
        try:
            return await self.outbox.put(
                kind,
                to=to,
                subject=f"case_{step.value}",
                body=body,
                language=language,
                customer_id=contact.customer_id,
            )
        except MessageRefused as refused:
            log.warning(
                "case %s: %s notice to %s refused: %s",
                tracking_number,
                step.value,
                mask_digits(to),
                refused.reason,
            )
            return None

    @staticmethod
    def _where(contact: Contact) -> tuple[str, str | None]:
        if contact.notify_by is NotifyBy.EMAIL and contact.email:
            return "email", contact.email
        if contact.notify_by is NotifyBy.NONE:
            return "sms", None
        return "sms", contact.phone
