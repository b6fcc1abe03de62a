"""Cases: complaints, callbacks and service requests, for agents and supervisors.

Mounted in the one aiohttp app by `popup_server.app` (see `AppParts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from popup_server.app import AppParts


def add_routes(app: web.Application, parts: AppParts) -> None:
    """No pages yet."""
