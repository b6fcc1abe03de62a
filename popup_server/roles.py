"""What a user of the web app may do: the roles on an agent's account, and their names. The one
check every page and action of a role goes through is `popup_server.auth.require_role`.

Roles are stored on the account (`tamas popup-server add-agent --roles agent,supervisor`); a
request without the role gets 403 and nothing else, whatever page or API it came from.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    CAMPAIGN_OPERATOR = "campaign_operator"
    MESSAGING_OPERATOR = "messaging_operator"
    CASE_HANDLER = "case_handler"


def parse_roles(text: str) -> frozenset[Role]:
    """Roles from `agent,supervisor`; an unknown name is a ValueError naming it."""
    roles = set()
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            known = ", ".join(role.value for role in Role)
            raise ValueError(f"unknown role {name!r} (known: {known})") from None
    return frozenset(roles)
