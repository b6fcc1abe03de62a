"""A small SMS provider on loopback for tests, the demo and bench/sms_throughput.py: it
speaks both built-in HTTP profiles (iran_rest: the key in the path, form fields, `return`
and `entries`; generic: a bearer token and JSON), keeps what it took, answers status and
delivery queries, and holds texts for the pull inbox.

Failures on demand, as real providers have them: `fail_next` (5xx answers), `throttle_over_s`
(429 past a rate), `drop_next` (the message is taken and the connection dropped before the
answer: the sender cannot know), `no_id_next` (an ok answer without the id), `delay_s` (slow
answers), `refuse_numbers` (a 4xx for those recipients)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_KEY = "local-key"
# iran_rest's delivery status codes (sms_profiles.yaml): 10 delivered, 11 undelivered.
DELIVERED, UNDELIVERED, NOT_FOUND = 10, 11, 100
DROP = -1  # taken, and the connection closed without an answer


@dataclass
class Taken:
    provider_id: str
    to: str
    text: str
    reference: str
    at: float
    status: str = "enroute"


@dataclass
class LocalSmsGateway:
    token: str = API_KEY
    delay_s: float = 0.0
    fail_next: int = 0
    drop_next: int = 0
    no_id_next: int = 0
    throttle_over_s: int | None = None
    refuse_numbers: set[str] = field(default_factory=set)
    # Numbers whose messages end undelivered (all others are delivered).
    undeliverable: set[str] = field(default_factory=set)
    taken: dict[str, Taken] = field(default_factory=dict)
    by_reference: dict[str, str] = field(default_factory=dict)
    requests_at: list[float] = field(default_factory=list)
    inbound: deque[dict[str, str]] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9_100_000))
    _recent: deque[float] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> LocalSmsGateway:
        app = web.Application()
        app.router.add_post("/v1/{key}/sms/send.json", self._iran_send)
        app.router.add_get("/v1/{key}/sms/statuslocalmessageid.json", self._iran_find)
        app.router.add_get("/v1/{key}/sms/status.json", self._iran_status)
        app.router.add_get("/v1/{key}/sms/receive.json", self._iran_inbox)
        app.router.add_post("/generic", self._generic_send)
        app.router.add_get("/generic", self._generic_find)
        app.router.add_get("/generic/status", self._generic_status)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def text_from(self, sender: str, text: str, to: str = "3000") -> str:
        """A customer texts us: held for the inbox (and pushed, where configured)."""
        provider_id = str(next(self._ids))
        self.inbound.append({"id": provider_id, "from": sender, "to": to, "text": text})
        return provider_id

    def deliver_all(self) -> None:
        """Every message taken reaches its phone (or not, for `undeliverable` numbers)."""
        for message in self.taken.values():
            if message.status == "enroute":
                message.status = "undelivered" if message.to in self.undeliverable else "delivered"

    # --- the shared behaviour ---------------------------------------------------------
    async def _take(self, to: str, text: str, reference: str) -> tuple[int, str | None]:
        """An HTTP-ish code and the id given (None: none given)."""
        now = time.time()
        self.requests_at.append(now)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_next:
            self.fail_next -= 1
            return 503, None
        if self.throttle_over_s is not None:
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.throttle_over_s:
                return 429, None
            self._recent.append(now)
        if to in self.refuse_numbers:
            return 411, None
        if reference and reference in self.by_reference:
            # A provider that keeps `localid` unique takes a message once.
            return 200, self.by_reference[reference]
        provider_id = str(next(self._ids))
        self.taken[provider_id] = Taken(provider_id, to, text, reference, now)
        if reference:
            self.by_reference[reference] = provider_id
        if self.drop_next:
            self.drop_next -= 1
            return DROP, provider_id
        if self.no_id_next:
            self.no_id_next -= 1
            return 200, None
        return 200, provider_id

    def _authorised(self, request: web.Request) -> bool:
        if "key" in request.match_info:
            return request.match_info["key"] == self.token
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    @staticmethod
    def _dropped(request: web.Request) -> web.Response:
        """The message is taken; the connection closes before any answer."""
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)

    # --- iran_rest --------------------------------------------------------------------
    @staticmethod
    def _iran(
        status: int, entries: list[dict[str, Any]] | None = None, message: str = ""
    ) -> web.Response:
        text = message or ("ok" if status == 200 else "error")
        body = {"return": {"status": status, "message": text}}
        body["entries"] = entries  # type: ignore[assignment]
        return web.json_response(body, status=status)

    async def _iran_send(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return self._iran(401)
        form = await request.post()
        code, provider_id = await self._take(
            str(form.get("receptor", "")),
            str(form.get("message", "")),
            str(form.get("localid", "")),
        )
        if code == DROP:
            return self._dropped(request)
        if code != 200:
            # As real providers do, a refusal quotes the number it refused.
            receptor = str(form.get("receptor", ""))
            return self._iran(
                code, message=f"receptor {receptor} is invalid" if code == 411 else ""
            )
        entry = {"messageid": provider_id, "status": 1} if provider_id else {"status": 1}
        return self._iran(200, [entry])

    async def _iran_find(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._iran(401)
        provider_id = self.by_reference.get(request.query.get("localid", ""))
        if provider_id is None:
            return self._iran(200, [{"localid": request.query.get("localid"), "status": 100}])
        return self._iran(200, [{"messageid": provider_id, "status": 1}])

    async def _iran_status(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._iran(401)
        codes = {"enroute": 4, "delivered": DELIVERED, "undelivered": UNDELIVERED}
        entries = []
        for provider_id in request.query.get("messageid", "").split(","):
            message = self.taken.get(provider_id)
            status = NOT_FOUND if message is None else codes[message.status]
            entries.append({"messageid": provider_id, "status": status})
        return self._iran(200, entries)

    async def _iran_inbox(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._iran(401)
        entries = []
        while self.inbound:  # isread=0: each text is given once, then marked read
            text = self.inbound.popleft()
            entries.append(
                {
                    "messageid": text["id"],
                    "sender": text["from"],
                    "receptor": text["to"],
                    "message": text["text"],
                }
            )
        return self._iran(200, entries)

    # --- generic ----------------------------------------------------------------------
    async def _generic_send(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.json_response({"error": "unauthorised"}, status=401)
        body = await request.json()
        code, provider_id = await self._take(
            str(body.get("to", "")), str(body.get("text", "")), str(body.get("reference", ""))
        )
        if code == DROP:
            return self._dropped(request)
        if code != 200:
            return web.json_response({"error": code}, status=code if code != 411 else 400)
        return web.json_response({"id": provider_id} if provider_id else {"ok": True})

    async def _generic_find(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({}, status=401)
        provider_id = self.by_reference.get(request.query.get("reference", ""))
        if provider_id is None:
            return web.json_response({}, status=404)
        return web.json_response({"id": provider_id})

    async def _generic_status(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({}, status=401)
        reports = [
            {"id": provider_id, "status": self.taken[provider_id].status}
            for provider_id in request.query.get("ids", "").split(",")
            if provider_id in self.taken
        ]
        return web.json_response({"reports": reports})


async def _serve(port: int) -> None:
    gateway = await LocalSmsGateway().start(port)
    print(f"local SMS gateway on {gateway.url} (generic profile at {gateway.url}/generic, token "
          f"{API_KEY}); Ctrl-C stops", flush=True)  # fmt: skip
    shown = 0
    try:
        while True:
            await asyncio.sleep(0.5)
            for taken in list(gateway.taken.values())[shown:]:
                print(f"-> {taken.to}: {taken.text}", flush=True)
            shown = len(gateway.taken)
            gateway.deliver_all()
    finally:
        await gateway.stop()


if __name__ == "__main__":
    # The demo's SMS provider: `python -m bench.local_sms_gateway 9090` prints every text it
    # is given to send, and reports each delivered.
    import sys

    try:
        asyncio.run(_serve(int(sys.argv[1]) if len(sys.argv) > 1 else 9090))
    except KeyboardInterrupt:
        pass
