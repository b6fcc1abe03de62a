"""Nearest branch or agency: the caller keys a 10-digit postal code and hears the closest one
to three (by distance from the postal area) with address and phone; by SMS on request."""

from __future__ import annotations

from customer_file.identifiers import is_valid_postal_code
from customer_file.views import BranchView
from interactions.outcomes import Outcome
from ivr.engine import Call
from prompts.utterance import Utterance


async def run(call: Call) -> None:
    postal_code = await call.ask("postal_code", accept=is_valid_postal_code)
    branches = await call.lookup("branches", call.customers.branches_near(postal_code, 3))
    call.session.looked("postal_code", postal_code, found=len(branches))
    if not branches:
        call.not_served(Outcome.NOT_FOUND, "branch")
        await call.say("branch_none")
        return
    for branch in branches:
        call.session.looked("branch", branch.code)
    described = [await describe(call, branch) for branch in branches]
    report = Utterance.join([call.utter("branch_nearest"), *described])
    await call.report(report, subject="branches")


async def describe(call: Call, branch: BranchView) -> Utterance:
    latin = call.language != "fa"
    name = branch.name_en if latin and branch.name_en else branch.name_fa
    address = branch.address_en if latin and branch.address_en else branch.address_fa
    return Utterance.join(
        [
            call.utter(f"branch_kind_{branch.kind}"),
            await call.spoken(name),
            call.utter("branch_address"),
            await call.spoken(address),
            call.utter("branch_phone"),
            call.phone(branch.phone),
        ]
    )
