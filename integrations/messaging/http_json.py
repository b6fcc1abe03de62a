"""The HTTP side shared by the SMS and fax gateways: one JSON message per `POST <url>` with a
bearer token, answered `2xx {"id": "..."}`. A subclass only says what the JSON looks like.

A 4xx answer means the provider refused this message (bad number, banned text): permanent.
Anything else that is not a 2xx with an id may pass: not permanent. Of those, a refused
connection or a 5xx says the provider did not take it (the message waits for the next round),
while a timeout, a dropped connection or a 2xx without an id leaves it unknown (`uncertain`):
the sender then asks `GET <url>?reference=<outbox id>` (answered `200 {"id": "..."}` when the
provider has the message, 404 when it never got it) before sending it again."""

from __future__ import annotations

import aiohttp

from integrations.messaging.port import GatewayError, Outgoing


class JsonGateway:
    # What the provider calls the thing it refused or failed to take, for the log lines.
    what = "message"

    def __init__(self, url: str, token: str, timeout_s: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def payload(self, message: Outgoing) -> dict[str, str]:
        raise NotImplementedError

    async def send(self, message: Outgoing) -> str:
        if self._session is None:
            # Made on first use: a ClientSession belongs to the running event loop.
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with self._session.post(
                self.url, json=self.payload(message), headers=headers
            ) as response:
                if 400 <= response.status < 500:
                    detail = without_recipient((await response.text())[:200], message.to)
                    raise GatewayError(
                        f"{self.what} refused ({response.status}): {detail}", permanent=True
                    )
                if response.status >= 300:
                    raise GatewayError(f"gateway answered {response.status}", permanent=False)
                body = await response.json(content_type=None)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as error:
            # Never connected: the provider cannot have the message.
            raise GatewayError(
                f"gateway unreachable: {type(error).__name__}", permanent=False
            ) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise GatewayError(
                f"no answer from the gateway: {type(error).__name__}",
                permanent=False,
                uncertain=True,
            ) from error
        except ValueError as error:  # the body was not JSON
            raise GatewayError(
                "gateway answered without a JSON body", permanent=False, uncertain=True
            ) from error
        if not isinstance(body, dict) or not body.get("id"):
            raise GatewayError(
                f"gateway answered without an id: {str(body)[:100]}",
                permanent=False,
                uncertain=True,
            )
        return str(body["id"])

    async def find(self, reference: str) -> str | None:
        """The provider's id for the message sent with `reference`, None if it has none."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with self._session.get(
                self.url, params={"reference": reference}, headers=headers
            ) as response:
                if response.status == 404:
                    return None
                if response.status != 200:
                    raise GatewayError(f"status query answered {response.status}", permanent=False)
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise GatewayError(
                f"status query failed: {type(error).__name__}", permanent=False
            ) from error
        if not isinstance(body, dict) or not body.get("id"):
            raise GatewayError("status query answered without an id", permanent=False)
        return str(body["id"])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def without_recipient(detail: str, to: str) -> str:
    """Providers like to echo the refused number; the log must not carry it."""
    # The full form first, or "+<recipient>" would be left behind.
    for form in (to, to.lstrip("+")):
        if form:
            detail = detail.replace(form, "<recipient>")
    return detail
