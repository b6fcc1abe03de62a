"""Claim status: the caller keys the claim's tracking code, proves it is theirs with the last
four digits of the policyholder's national ID (or their PIN), and hears the stage, when it
last changed, the amounts approved and paid, and the next step; by SMS on request."""

from __future__ import annotations

from customer_file.views import ClaimStatus, ClaimView, CustomerSummary
from interactions.outcomes import Outcome
from ivr.engine import Call
from ivr.services.identity import LockedOut, check_secret, identify, tehran, verified
from ivr.session import BY_PIN
from prompts.utterance import Utterance


async def _claim_and_owner(
    call: Call, code: str
) -> tuple[ClaimStatus | None, CustomerSummary | None]:
    status = await call.customers.claim_by_tracking_code(code)
    known = call.session.customer
    if status is None or (known is not None and known.customer_id == status.customer_id):
        return status, None
    return status, await call.customers.customer(status.customer_id)


async def run(call: Call) -> None:
    code = await call.ask("tracking_code")
    # Looked up while the caller keys the secret (nothing is said about a claim before the
    # secret anyway), so the caller never waits for the core system between two prompts.
    pending = call.background(_claim_and_owner(call, code))
    found: list[ClaimStatus] = []
    found_nothing: list[str] = []

    async def verify(secret: str) -> bool:
        status, _owner = await call.lookup("claim", pending)
        if status is None:
            # Answered and counted like a wrong secret: "not found" would let a caller try
            # codes one after another until one asks for the secret.
            if not found_nothing:
                found_nothing.append(code)
                call.session.looked("claim", code, found=False)
                call.not_served(Outcome.NOT_FOUND, "claim")
            return False
        found[:] = [status]
        if secret == status.national_id_last4:
            return True
        return await call.customers.verify_customer_pin(status.customer_id, secret)

    try:
        await check_secret(call, f"claim:{code}", "claim_secret", verify, "identity_not_verified")
    except LockedOut:
        return
    call.session.looked("claim", code, found=True)
    _status, owner = await call.lookup("claim", pending)
    if owner is not None:
        identify(call, owner, by=BY_PIN)
    else:
        verified(call)  # the claim is the recognised caller's own

    report = describe(call, found[0].claim)
    await call.report(report, subject="claim_status")


def describe(call: Call, claim: ClaimView) -> Utterance:
    """What the caller hears about a claim (also the SMS text)."""
    parts = [
        call.utter(f"claim_stage_{claim.stage}", "claim_last_change"),
        call.date(tehran(claim.stage_changed_at).date()),
    ]
    if claim.amount_approved_rials is not None:
        parts += [call.utter("claim_amount_approved"), call.amount(claim.amount_approved_rials)]
    if claim.amount_paid_rials:
        parts += [call.utter("claim_amount_paid"), call.amount(claim.amount_paid_rials)]
    parts.append(call.utter(f"claim_next_step_{claim.next_step or 'none'}"))
    return Utterance.join(parts)
