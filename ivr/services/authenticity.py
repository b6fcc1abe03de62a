"""Policy authenticity: anyone can key a policy number or its authenticity code and hear
whether it is genuine, its line, the holder's masked name and its validity dates."""

from __future__ import annotations

from customer_file.views import PolicyAuthenticity
from interactions.outcomes import Outcome
from ivr.engine import Call
from prompts.utterance import Utterance


async def run(call: Call) -> None:
    number = await call.ask("authenticity_code")
    answer = await call.lookup("authenticity", call.customers.policy_for_authenticity(number))
    call.session.looked("policy_authenticity", number, genuine=answer.genuine)
    if not answer.genuine:
        # No such policy (or a mistyped number): the caller learnt nothing about a policy.
        call.not_served(Outcome.NOT_FOUND, "policy")
    await call.say(describe(call, answer))


def describe(call: Call, answer: PolicyAuthenticity) -> Utterance:
    if not answer.genuine:
        return call.utter("policy_not_found")
    parts = [call.utter("policy_genuine", "policy_line", f"policy_line_{answer.line}")]
    if call.language == "fa":
        holder = answer.holder_name_masked_fa or answer.holder_name_masked_latin
    else:
        holder = answer.holder_name_masked_latin or answer.holder_name_masked_fa
    if holder:
        parts += [call.utter("policy_holder"), call.text(holder)]
    if answer.start_date and answer.end_date:
        parts += [
            call.utter("policy_valid_from"),
            call.date(answer.start_date),
            call.utter("policy_valid_until"),
            call.date(answer.end_date),
        ]
    if answer.status:
        parts.append(call.utter(f"policy_status_{answer.status}"))
    return Utterance.join(parts)
