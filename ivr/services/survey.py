"""The satisfaction survey after an agent call, for callers who accepted it: a score from 1 to
5 and the Net Promoter question from 0 to 10, stored on the call's interaction record."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.engine import Call


@dataclass(frozen=True)
class SurveyAnswers:
    score: int
    nps: int


async def run(call: Call) -> SurveyAnswers:
    call.session.enter("survey")
    score = await call.ask("survey_score", accept=lambda d: 1 <= int(d) <= 5, allow_agent=False)
    nps = await call.ask("survey_nps", accept=lambda d: 0 <= int(d) <= 10, allow_agent=False)
    await call.say("survey_thanks")
    return SurveyAnswers(int(score), int(nps))
