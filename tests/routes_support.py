"""The web app's routes as the app itself lists them, for the security sweep: each method and
path pattern, with its path parameters filled with plausible values, and which of them are
public (they check their own credential) or the agent desktop's (any logged-in agent)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from cases.web import PARTNER_API
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from popup_server.app import make_app
from popup_server.roles import Role
from tamas.bus import InProcessBus
from tamas.settings import Settings

PARAMETER = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Route:
    """One method of one resource: `pattern` is the path with `{name}` parameters (a static
    directory's prefix ends in `/`)."""

    method: str
    pattern: str
    regex: re.Pattern[str] | None
    static_dir: Path | None = None
    handler: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    @property
    def id(self) -> str:
        return f"{self.method} {self.pattern}"

    @property
    def is_static(self) -> bool:
        return self.static_dir is not None

    def path(self, values: dict[str, str] | None = None) -> str:
        """The pattern filled in: a value given for the parameter's name, else a word, else
        digits where the route only takes digits."""
        if self.static_dir is not None:
            return self.pattern
        values = values or {}

        def fill(candidate: str) -> str:
            return PARAMETER.sub(lambda m: values.get(m.group(1), candidate), self.pattern)

        for candidate in ("nosuch", "4242"):
            path = fill(candidate)
            if self.regex is None or self.regex.fullmatch(path):
                return path
        raise AssertionError(f"no plausible value fills {self.pattern}")


def routes_of(app: web.Application) -> list[Route]:
    """Every route of `app` except HEAD (aiohttp adds it to each GET, same handler)."""
    found = []
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        info: dict[str, Any] = dict(route.resource.get_info()) if route.resource else {}
        handler = route.handler
        if "directory" in info:
            found.append(Route(route.method, info["prefix"] + "/", None, Path(info["directory"])))
        elif "formatter" in info:
            found.append(Route(route.method, info["formatter"], info["pattern"], None, handler))
        else:
            found.append(Route(route.method, info["path"], None, None, handler))
    return found


def the_app(settings: Settings, database: Database) -> web.Application:
    """The app as `tamas popup-server` builds it, following calls (without AMI): the
    supervisors' actions then answer from their checks, not "this server does not follow"."""
    return make_app(
        settings, database=database, bus=InProcessBus(), customer_file=SqlCustomerFile(database)
    )


def collected_routes() -> list[Route]:
    """The routes, read at collection time from an app that is built but never started."""
    database = Database("sqlite+aiosqlite://")
    return routes_of(the_app(Settings(), database))


# --- Who may call what -------------------------------------------------------------------

# The pages' HTML shells hold no data: not logged in, they show their login form; each action
# of the page goes through its API, which checks the role.
PAGES = {"/", "/campaigns", "/supervisors/wallboard", "/supervisors/reports", "/cases", "/messages"}

# Public, each checking its own credential (the sweep asserts that without it, it refuses).
CREDENTIALED = {
    # the agent's number and password (rate-limited)
    "POST /api/login": "password",
    # the core insurance system: HMAC-SHA256 signature of timestamp.body, from allowed addresses
    "POST /api/core/events": "hmac",
    # SMS providers: the shared secret (header X-Tamas-Secret or secret= in the query)
    "GET /api/messaging/sms/{provider}/inbound": "sms_secret",
    "POST /api/messaging/sms/{provider}/inbound": "sms_secret",
    "GET /api/messaging/sms/{provider}/reports": "sms_secret",
    "POST /api/messaging/sms/{provider}/reports": "sms_secret",
}
# The partners' API: a signed partner token (`Authorization: Bearer`).
PARTNER_PREFIX = PARTNER_API + "/"

# Logging out needs nothing: it ends the session it is sent with, if any, and says ok.
LOGOUT = "POST /api/logout"

# The agent desktop: any logged-in agent (role `agent` is every account's).
DESKTOP = {
    "GET /api/me",
    "GET /ws",
    "GET /api/recent-calls",
    "GET /api/callbacks",
    "GET /api/customers",
    "POST /api/customers",
    "GET /api/customers/{customer_id}",
    "POST /api/calls/{linkedid}/disposition",
    "POST /api/calls/{linkedid}/hangup",
    "POST /api/calls/{linkedid}/transfer",
    "POST /api/originate",
}


def credential_of(route: Route) -> str | None:
    """What a public route checks instead of a session, or None for a session route."""
    if route.pattern.startswith(PARTNER_PREFIX):
        return "partner_token"
    return CREDENTIALED.get(route.id)


def is_public_shell(route: Route) -> bool:
    return route.is_static or (route.method == "GET" and route.pattern in PAGES)


def is_role_route(route: Route) -> bool:
    """A route of a role's page or API: everything that is not public, not the desktop's
    and not logging in or out. A route added later is a role route until listed otherwise."""
    if route.is_static or credential_of(route) or route.id == LOGOUT:
        return False
    if route.id in DESKTOP or (route.method == "GET" and route.pattern == "/"):
        return False
    return True


# How a handler reads its body, and the keys it reads from it.
READS_BODY = re.compile(r"read_json\(|request\.(json|post|read|text)\(|request\.content\b")
BODY_KEY = re.compile(r"""body(?:\.get\(|\[)"(\w+)"|"(\w+)" in body""")


def _source(route: Route) -> str:
    try:
        return inspect.getsource(route.handler) if route.handler else ""
    except (OSError, TypeError):
        return ""


def reads_body(route: Route) -> bool:
    """Whether the handler reads a body at all (an action like "cancel this message" does
    not, and answers whatever junk is sent with it as it would answer nothing)."""
    return bool(READS_BODY.search(_source(route)))


def body_keys(route: Route) -> set[str]:
    """The keys the handler reads from its JSON body (as written in its own source)."""
    return {a or b for a, b in BODY_KEY.findall(_source(route))}


# Which role each page's routes need, by path (longest prefix first); a role route under no
# prefix here fails the sweep until its role is written down.
ROLE_BY_PREFIX = (
    ("/api/cases/overview", Role.SUPERVISOR),  # the case load of teams, on the wallboard
    ("/api/cases/reports/", Role.SUPERVISOR),
    ("/api/cases", Role.CASE_HANDLER),
    ("/cases", Role.CASE_HANDLER),
    ("/api/campaigns", Role.CAMPAIGN_OPERATOR),
    ("/campaigns", Role.CAMPAIGN_OPERATOR),
    ("/api/wallboard", Role.SUPERVISOR),
    ("/api/supervisors/", Role.SUPERVISOR),
    ("/api/reports/", Role.SUPERVISOR),
    ("/supervisors/", Role.SUPERVISOR),
    ("/api/messages/", Role.MESSAGING_OPERATOR),
    ("/api/notices/", Role.MESSAGING_OPERATOR),
    ("/messages", Role.MESSAGING_OPERATOR),
)


def role_of(route: Route) -> Role | None:
    return next((role for prefix, role in ROLE_BY_PREFIX if route.pattern.startswith(prefix)), None)
