"""The SMS adapter for any HTTP provider, following its profile (sms_profiles.py): send,
the status query by our reference, the delivery-status query, the pull inbox.

What an answer means decides what the outbox does with the row: a refused connection or a
"retry" code says the provider did not take it (pending, sent next round); a "throttled" code
is waited out and sent again (the rate limit should have prevented it); any other non-ok code
is the provider refusing this message (failed for good); a timeout, a dropped connection or an
ok answer without an id leaves it unknown (uncertain: never sent again until the status query
says the provider never got it). Every request first takes its place in the provider's
sending rate (rates.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import phonenumbers

from integrations.messaging.http_json import without_recipient
from integrations.messaging.outbox import DELIVERY_STATUSES
from integrations.messaging.port import GatewayError, Outgoing
from integrations.messaging.rates import SendingRate
from integrations.messaging.sms_profiles import Endpoint, HttpProfile, dig

log = logging.getLogger(__name__)
# A throttled send is waited out this many times before it is left for the next round.
THROTTLED_TRIES = 3


@dataclass(frozen=True)
class DeliveryReport:
    provider_id: str
    status: str  # enroute, delivered, undelivered, expired, rejected
    error: str | None = None


@dataclass(frozen=True)
class InboundText:
    provider_id: str
    from_number: str
    to_number: str | None
    text: str


class ProfileGateway:
    """One provider account: its profile, base URL, key, sender line and sending rate."""

    def __init__(
        self,
        profile: HttpProfile,
        base_url: str,
        api_key: str,
        *,
        sender: str = "",
        rate: SendingRate | None = None,
        timeout_s: float = 10.0,
        provider: str | None = None,
    ) -> None:
        self.profile = profile
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.sender = sender
        self.rate = rate
        # The name delivery reports are matched under (outbox.provider): the profile's,
        # unless two accounts of one profile are used.
        self.provider = provider or profile.name
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    # --- HTTP ---------------------------------------------------------------------------
    def _url(self, endpoint: Endpoint) -> str:
        path = endpoint.path
        if self.profile.auth == "path":
            path = path.replace("{api_key}", self.api_key)
        return self.base_url + path

    def _headers(self) -> dict[str, str]:
        auth = self.profile.auth
        if auth == "bearer":
            return {"Authorization": f"Bearer {self.api_key}"}
        if auth.startswith("header:"):
            return {auth.split(":", 1)[1]: self.api_key}
        return {}

    async def _request(self, endpoint: Endpoint, values: Mapping[str, str]) -> tuple[int, Any]:
        """The HTTP status and the JSON body (None when not JSON)."""
        if self._session is None:
            # Made on first use: a ClientSession belongs to the running event loop.
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        named = {
            endpoint.fields[key]: value for key, value in values.items() if key in endpoint.fields
        }
        named.update(endpoint.params)
        request: dict[str, Any] = {"headers": self._headers()}
        if endpoint.method == "GET":
            request["params"] = named
        elif endpoint.form:
            request["data"] = named
        else:
            request["json"] = named
        async with self._session.request(endpoint.method, self._url(endpoint), **request) as answer:
            try:
                body = await answer.json(content_type=None)
            except ValueError:
                body = None
            return answer.status, body

    async def _send_request(self, values: Mapping[str, str]) -> tuple[int, Any]:
        """The send, holding its place in the provider's rate until it is answered."""
        if self.rate is None:
            return await self._request(self.profile.send, values)
        async with self.rate.request():
            return await self._request(self.profile.send, values)

    def _code(self, status: int, body: Any) -> int:
        """The provider's result code: in the body where the profile says, else HTTP's."""
        if self.profile.code is not None:
            code = dig(body, self.profile.code)
            if isinstance(code, int) or (isinstance(code, str) and code.isdigit()):
                return int(code)
        return status

    # --- sending ------------------------------------------------------------------------
    async def send(self, message: Outgoing) -> str:
        values = {
            "to": recipient(message.to, self.profile.number_format),
            "text": message.body,
            "reference": message.reference,
        }
        if self.sender:
            values["sender"] = self.sender
        for _ in range(THROTTLED_TRIES):
            try:
                status, body = await self._send_request(values)
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as error:
                # Never connected: the provider cannot have the message.
                raise GatewayError(
                    f"{self.provider} unreachable: {type(error).__name__}", permanent=False
                ) from error
            except (aiohttp.ClientError, TimeoutError) as error:
                raise GatewayError(
                    f"no answer from {self.provider}: {type(error).__name__}",
                    permanent=False,
                    uncertain=True,
                ) from error
            code = self._code(status, body)
            if code in self.profile.throttled:
                log.warning("%s throttled a send; waiting a second", self.provider)
                await asyncio.sleep(1.0)
                continue
            return self._taken(code, body, message)
        raise GatewayError(f"{self.provider} kept throttling", permanent=False)

    def _taken(self, code: int, body: Any, message: Outgoing) -> str:
        if code in self.profile.ok:
            provider_id = dig(body, self.profile.id)
            if provider_id in (None, ""):
                raise GatewayError(
                    f"{self.provider} answered without an id", permanent=False, uncertain=True
                )
            return str(provider_id)
        if code in self.profile.retry:
            raise GatewayError(f"{self.provider} answered {code}: later", permanent=False)
        detail = str(dig(body, "return.message") or body)[:200]
        for written in (message.to, recipient(message.to, self.profile.number_format)):
            detail = without_recipient(detail, written)
        raise GatewayError(f"{self.provider} refused ({code}): {detail}", permanent=True)

    async def find(self, reference: str) -> str | None:
        """The provider's id of the message sent with `reference`, None if it never got it."""
        find = self.profile.find
        if find is None:
            raise GatewayError(f"{self.provider} has no status query", permanent=False)
        try:
            status, body = await self._request(find.endpoint, {"reference": reference})
        except (aiohttp.ClientError, TimeoutError) as error:
            raise GatewayError(
                f"status query failed: {type(error).__name__}", permanent=False
            ) from error
        code = self._code(status, body)
        if code in find.missing:
            return None
        if find.entry_status is not None:
            entry_status = dig(body, find.entry_status)
            if entry_status is None or str(entry_status) in find.missing_entry_status:
                return None
        if code not in self.profile.ok:
            raise GatewayError(f"status query answered {code}", permanent=False)
        provider_id = dig(body, find.id)
        if provider_id in (None, ""):
            raise GatewayError("status query answered without an id", permanent=False)
        return str(provider_id)

    # --- delivery reports and the inbox -------------------------------------------------
    async def delivery_reports(self, provider_ids: list[str]) -> list[DeliveryReport]:
        """The delivery status of each message asked about that the provider knows."""
        query = self.profile.status
        if query is None or not provider_ids:
            return []
        reports: list[DeliveryReport] = []
        for start in range(0, len(provider_ids), query.max_ids):
            batch = provider_ids[start : start + query.max_ids]
            try:
                status, body = await self._request(query.endpoint, {"ids": ",".join(batch)})
            except (aiohttp.ClientError, TimeoutError) as error:
                raise GatewayError(
                    f"delivery query failed: {type(error).__name__}", permanent=False
                ) from error
            if self._code(status, body) not in self.profile.ok:
                raise GatewayError(f"delivery query answered {status}", permanent=False)
            for entry in dig(body, query.entries) or []:
                report = self.report(entry, query.entry_id, query.entry_status)
                if report is not None:
                    reports.append(report)
        return reports

    def report(self, entry: Any, id_field: str, status_field: str) -> DeliveryReport | None:
        return read_report(self.profile, entry, id_field, status_field)

    async def inbox(self, line: str = "") -> list[InboundText]:
        """Texts customers sent that the provider holds for us (read once: the provider
        marks them read, so the caller keeps them before acting on them)."""
        inbox = self.profile.inbox
        if inbox is None:
            return []
        try:
            status, body = await self._request(inbox.endpoint, {"line": line or self.sender})
        except (aiohttp.ClientError, TimeoutError) as error:
            raise GatewayError(
                f"inbox read failed: {type(error).__name__}", permanent=False
            ) from error
        if self._code(status, body) not in self.profile.ok:
            raise GatewayError(f"inbox answered {status}", permanent=False)
        texts = []
        for entry in dig(body, inbox.entries) or []:
            text = read_text(entry, inbox.entry)
            if text is not None:
                texts.append(text)
        return texts

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self.rate is not None:
            await self.rate.close()


def read_report(
    profile: HttpProfile, entry: Any, id_field: str, status_field: str
) -> DeliveryReport | None:
    """One report (polled or pushed) in our terms; None for a status the profile does not
    map (or an entry without an id)."""
    query = profile.status
    provider_id = dig(entry, id_field)
    raw = dig(entry, status_field)
    if provider_id in (None, "") or raw is None:
        return None
    if query is not None:
        mapped = query.delivery.get(str(raw))
    else:
        mapped = str(raw) if str(raw) in DELIVERY_STATUSES else None  # our own words
    if mapped is None:
        return None
    return DeliveryReport(str(provider_id), mapped, None if mapped == "delivered" else str(raw))


def read_text(entry: Any, names: Mapping[str, str]) -> InboundText | None:
    """One text from a customer (pulled or pushed) in our terms; None when it lacks an id or
    a sender."""
    provider_id, sender = dig(entry, names["id"]), dig(entry, names["from"])
    if provider_id in (None, "") or not sender:
        return None
    receiver = dig(entry, names["to"])
    return InboundText(
        str(provider_id),
        str(sender),
        None if receiver is None else str(receiver),
        str(dig(entry, names["text"]) or ""),
    )


def recipient(e164: str, number_format: str) -> str:
    """The number as the profile writes it (e164, digits, or national as dialled at home)."""
    if number_format == "digits":
        return e164.lstrip("+")
    if number_format == "national":
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            return e164
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(
            " ", ""
        )
    return e164
