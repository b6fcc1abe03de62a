"""Claims reported by email become cases: the letter is read (email_claims.py), a case opened
through the cases package (channel email, its line of business, the sender's phone and policy,
the first attachment), a task put in the queue of the experts for that line, the letter kept
as an interaction (its attachments on disk, named in the record), and the sender told the
case's tracking number by email through the outbox.

One case per letter, however often it is delivered: the record's key is the letter's
Message-ID; a letter whose case was opened is not opened again, and one whose case could not
be opened (the database was down) is opened when the mail server delivers it again."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from cases.store import CaseChannel, CaseError, CaseRequest, CaseStore
from cases.tasks import CaseTasks
from customer_file.identifiers import normalize_phone
from customer_file.port import CustomerFile, CustomerFileError
from customer_file.views import CustomerSummary
from integrations.messaging.outbox import MessageRefused, Outbox
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords, MessagePart
from messaging.email_claims import ClaimRules, ReportedClaim, read_claim

log = logging.getLogger(__name__)

ACKNOWLEDGEMENT = {
    "fa": (
        "گزارش خسارت شما دریافت شد.\nشماره پیگیری: {tracking}\nکارشناس خسارت با شما تماس می‌گیرد."
    ),
    "en": (
        "We have received your claim.\nTracking number: {tracking}\n"
        "A claims expert will contact you."
    ),
    "ru": (
        "Ваше заявление об убытке получено.\nНомер для отслеживания: {tracking}\n"
        "С вами свяжется эксперт."
    ),
}


class IntakeUnavailable(Exception):
    """The case could not be opened now (the database, the customer file): try again later.
    The SMTP endpoint answers 451, so the mail server delivers the letter again."""


@dataclass(frozen=True)
class Intake:
    tracking_number: str
    team: str
    line: str | None
    duplicate: bool = False


def record_key(claim: ReportedClaim) -> str:
    """`email-in:<Message-ID>`; a Message-ID too long for the key column is hashed, so two
    long ones sharing a beginning stay two letters."""
    message_id = claim.message_id.strip("<>")
    if len(message_id) > 55:
        message_id = hashlib.sha256(message_id.encode()).hexdigest()[:40]
    return f"email-in:{message_id}"


class ClaimsByEmail:
    def __init__(
        self,
        cases: CaseStore,
        tasks: CaseTasks,
        records: InteractionRecords,
        rules: ClaimRules,
        attachments_dir: Path,
        *,
        customer_file: CustomerFile | None = None,
        outbox: Outbox | None = None,
        region: str = "IR",
    ) -> None:
        self.cases = cases
        self.tasks = tasks
        self.records = records
        self.rules = rules
        self.attachments_dir = attachments_dir
        self.customer_file = customer_file
        self.outbox = outbox
        self.region = region

    async def take(self, letter: EmailMessage) -> Intake:
        claim = read_claim(letter, self.rules)
        if not claim.message_id:
            raise ValueError("the letter has no Message-ID")
        key = record_key(claim)
        seen = await self.records.load(key)
        if seen is not None and seen.outcome == Outcome.CALLBACK_REQUESTED:
            tracking, _, team = (seen.outcome_detail or "").partition(" ")
            return Intake(tracking, team, claim.line, duplicate=True)
        customer = await self._customer(claim)
        line = claim.line or await self._policy_line(customer, claim)
        team = self.rules.team_for(line)
        saved = self._keep_attachments(claim, key)
        if seen is None:
            await self.records.save_message(
                MessagePart(
                    key=key,
                    channel="email",
                    direction="inbound",
                    address=claim.sender,
                    outcome=Outcome.MESSAGE_QUEUED,
                    customer_id=customer.id if customer else None,
                    language=customer.language if customer else None,
                    text=claim.summary,
                    documents=saved,
                )
            )
        phone = self._phone(claim)
        try:
            case = await self.cases.open_case(
                CaseRequest(
                    type=self.rules.case_type,
                    channel=CaseChannel.EMAIL,
                    actor="email",
                    summary=claim.summary,
                    fields={"reason": self.rules.reason, **({"phone": phone} if phone else {})},
                    phone=phone,
                    customer_id=customer.id if customer else None,
                    line=line,
                    tier=customer.tier if customer else None,
                    language=customer.language if customer else None,
                    attachment=str(saved[0]["document"]) if saved else None,
                )
            )
            await self.tasks.add(
                case.tracking_number,
                _task_title(claim, line),
                case.opened_at + self.rules.first_response,
                team=team,
            )
        except CaseError as error:
            # The case types do not take this request (a settings matter): not the sender's
            # fault, and delivering again will not help until it is fixed.
            log.error("email claim %s: no case opened: %s", key, error)
            raise IntakeUnavailable(f"case not opened: {error}") from error
        except Exception as error:
            log.warning("email claim %s: case not opened now: %s", key, type(error).__name__)
            raise IntakeUnavailable(type(error).__name__) from error
        await self.records.settle_message(
            key, Outcome.CALLBACK_REQUESTED, detail=f"{case.tracking_number} {team}"
        )
        await self._acknowledge(claim, customer, case.tracking_number, team)
        log.info("email claim %s: case %s, task for %s", key, case.tracking_number, team)
        return Intake(case.tracking_number, team, line)

    async def _customer(self, claim: ReportedClaim) -> CustomerSummary | None:
        if self.customer_file is None:
            return None
        try:
            if claim.policy_number:
                found = await self.customer_file.customer_by_policy_number(claim.policy_number)
                if found is not None:
                    return found
            phone = self._phone(claim)
            return await self.customer_file.customer_by_phone(phone) if phone else None
        except CustomerFileError as error:
            log.warning("email claim: sender not looked up: %s", error)
            return None

    async def _policy_line(
        self, customer: CustomerSummary | None, claim: ReportedClaim
    ) -> str | None:
        """The line of the policy the letter names, when its words did not tell."""
        if self.customer_file is None or customer is None or not claim.policy_number:
            return None
        try:
            whole = await self.customer_file.customer_file(customer.id)
        except CustomerFileError:
            return None
        for policy in whole.policies if whole else ():
            if policy.number == claim.policy_number:
                return policy.line
        return None

    def _phone(self, claim: ReportedClaim) -> str | None:
        if not claim.phone:
            return None
        try:
            return normalize_phone(claim.phone, self.region)
        except ValueError:
            return None

    def _keep_attachments(self, claim: ReportedClaim, key: str) -> list[dict[str, object]]:
        if not claim.attachments:
            return []
        folder = self.attachments_dir / _folder_name(key)
        folder.mkdir(parents=True, exist_ok=True)
        kept: list[dict[str, object]] = []
        for attached in claim.attachments:
            path = folder / attached.filename
            path.write_bytes(attached.content)
            kept.append(
                {
                    "document": str(path.relative_to(self.attachments_dir)),
                    "type": attached.mime_type,
                    "bytes": len(attached.content),
                }
            )
        return kept

    async def _acknowledge(
        self, claim: ReportedClaim, customer: CustomerSummary | None, tracking: str, team: str
    ) -> None:
        if self.outbox is None or not claim.sender:
            return
        language = customer.language if customer else "fa"
        body = ACKNOWLEDGEMENT.get(language, ACKNOWLEDGEMENT["fa"]).format(tracking=tracking)
        try:
            await self.outbox.put(
                "email",
                to=claim.sender,
                subject="claim_received",
                body=body,
                language=language,
                customer_id=customer.id if customer else None,
            )
        except MessageRefused as error:
            # Past the per-recipient cap (a mail loop, a flood): the case stands, unanswered.
            log.warning("email claim: acknowledgement refused: %s", error.reason)


def _task_title(claim: ReportedClaim, line: str | None) -> str:
    what = line or "unknown line"
    policy = f", policy {claim.policy_number}" if claim.policy_number else ""
    return f"Claim reported by email ({what}{policy})"


def _folder_name(key: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)[:80]
