"""The civil registry check of a national ID, where the insurer has access to one: `GET
<url>/persons/<national_id>` with a bearer token, answered 200 (the person exists; `alive`
says whether they are living) or 404 (no such person). The check digit is verified before
(`customer_file.identifiers`), so the registry only ever sees well-formed numbers.

The registry decides only what it can: an ID it does not know refuses the case; a registry
that does not answer does not keep a customer from being served: the case opens, and its
timeline says the identity was not verified.
"""

from __future__ import annotations

import dataclasses

import aiohttp

from cases.types import CaseFieldError


class UnknownPerson(CaseFieldError):
    """The civil registry has no person with this national ID."""

    def __init__(self) -> None:
        super().__init__("national_id", "the civil registry has no such person")


@dataclasses.dataclass(frozen=True)
class RegistryAnswer:
    verified: bool  # False: the registry did not answer, nothing is known
    alive: bool | None = None
    reason: str = ""


class CivilRegistry:
    def __init__(self, base_url: str, token: str, timeout_s: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def check(self, national_id: str) -> RegistryAnswer:
        """Raises UnknownPerson when the registry says there is no such person."""
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as session,
                session.get(f"{self.base_url}/persons/{national_id}", headers=headers) as reply,
            ):
                status = reply.status
                body = await reply.json(content_type=None) if status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            return RegistryAnswer(False, reason=f"registry unreachable: {type(error).__name__}")
        if status == 404:
            raise UnknownPerson()
        if status != 200:
            return RegistryAnswer(False, reason=f"registry answered {status}")
        alive = body.get("alive") if isinstance(body, dict) else None
        return RegistryAnswer(True, alive if isinstance(alive, bool) else None)


def from_settings(url: str, token: str) -> CivilRegistry | None:
    """The registry the settings name, or None (check digits only) when none is set."""
    return CivilRegistry(url, token) if url else None
