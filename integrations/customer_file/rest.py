"""`RestCustomerFile`: the customer file read from an insurer's core system over HTTP/JSON.

The core system (or a thin service in front of it) answers the paths below with the views'
JSON, exactly as `views.as_json` writes them; 404 means "no such record". Records Tamas keeps
itself — interactions, complaints, callback tasks — stay in our tables (the `OwnRecords`
store it holds). Select it with `customer_file_adapter =
"integrations.customer_file.rest:make"` and `customer_file_url = "https://core.example/tamas"`.

The adapter proves who it is with a bearer token (`customer_file_token`, sent as
`Authorization: Bearer ...`) and/or a client certificate for mutual TLS
(`customer_file_client_cert`, a PEM file with the certificate and its key;
`customer_file_ca_file` to trust the core system's own CA). Plain `http://` is refused unless
`customer_file_allow_http` (a test server on loopback): customers' files must not cross a
network in clear. National IDs and phone numbers never go in a URL (paths and query strings
end up in access logs and proxies' logs): they travel in a POST body.

    POST /customers/by-phone                   {"e164"} -> CustomerSummary
    POST /customers/by-national-id             {"national_id"} -> CustomerSummary (national
                                               or company ID)
    GET  /customers/by-policy/{number}         CustomerSummary
    GET  /customers/{id}                       CustomerSummary
    GET  /customers/{id}/file                  CustomerFileView (complaints, callback tasks
                                               and interactions may be left out)
    POST /customers/search                     {"q", "limit"} -> [CustomerSummary]
    POST /customers                            CustomerRegistration -> CustomerSummary
                                               (409 {"field": ...} when already on file)
    POST /customers/{id}/pin/check             {"pin"} -> {"valid": bool}
    PUT  /customers/{id}/pin                   {"pin"} -> 204 (400 for a PIN the core refuses)
    GET  /customers/{id}/debts                 DebtView
    GET  /claims/{tracking_code}               ClaimStatus
    GET  /policies/authenticity/{key}          PolicyAuthenticity
    GET  /branches/near?postal_code=&limit=    [BranchView]
    GET  /medical-centres?city=                [CentreView]
    GET  /payment-centres?city=                [CentreView]
    GET  /shareholders/{number}                ShareholderView
    POST /shareholders/{number}/pin/check      {"pin"} -> {"valid": bool}
    GET  /general-meetings/next?after=         GeneralMeetingView
"""

from __future__ import annotations

import ssl
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp

from cases.types import CaseTypes
from customer_file.identifiers import (
    ascii_digits,
    canonical_registration,
    compact_digits,
    try_normalize_phone,
    validate_national_or_company_id,
    validate_postal_code,
)
from customer_file.port import CustomerFileError, DuplicateCustomer
from customer_file.views import (
    BranchView,
    CentreView,
    ClaimStatus,
    CustomerFileView,
    CustomerRegistration,
    CustomerSummary,
    DebtView,
    GeneralMeetingView,
    PolicyAuthenticity,
    ShareholderView,
    as_json,
    from_json,
)
from integrations.customer_file.own_records import (
    OwnRecords,
    OwnRecordsMethods,
    configured_case_types,
)
from integrations.database import Database

View = TypeVar("View")
_NOT_FOUND = object()


def _segment(value: str) -> str:
    return quote(value, safe="")


class RestCustomerFile(OwnRecordsMethods):
    """Core-system data over HTTP; Tamas's own records in our tables."""

    def __init__(
        self,
        base_url: str,
        database: Database,
        region: str = "IR",
        timeout_s: float = 2.0,
        *,
        token: str = "",
        tls: ssl.SSLContext | None = None,
        allow_http: bool = False,
        cases: CaseTypes | None = None,
    ) -> None:
        if base_url.lower().startswith("http://") and not allow_http:
            raise CustomerFileError(
                "customer_file_url is plain http://: customers' files would cross the network"
                " in clear; use https:// (set customer_file_allow_http only for a test server"
                " on loopback)"
            )
        if not base_url.lower().startswith(("http://", "https://")):
            raise CustomerFileError(f"customer_file_url {base_url!r} is not an https:// URL")
        self.region = region
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.tls = tls
        self.own_records = OwnRecords(database, region, cases)
        self.own_records.customer_lookup = self.customer
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _session(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running loop, and kept: one connection pool.
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=self.timeout,
                headers=self.headers,
                connector=aiohttp.TCPConnector(ssl=self.tls if self.tls is not None else True),
            )
        return self._http

    async def _call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        """The decoded JSON answer, or _NOT_FOUND for a 404."""
        url = self.base_url + path
        try:
            async with self._session().request(method, url, params=params, json=body) as reply:
                if reply.status == 404:
                    return _NOT_FOUND
                if reply.status == 409:
                    detail = await reply.json(content_type=None)
                    raise DuplicateCustomer(str((detail or {}).get("field", "identity")))
                if reply.status >= 400:
                    raise CustomerFileError(
                        f"core system answered {reply.status} to {method} {path}"
                    )
                if reply.status == 204:
                    return None
                return await reply.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as error:
            raise CustomerFileError(
                f"core system unreachable or garbled at {method} {path}: {error!r}"
            ) from error

    async def _one(
        self, cls: type[View], path: str, *, body: dict[str, Any] | None = None, **params: Any
    ) -> View | None:
        """A GET, or with `body` a POST: a lookup by personal data (a national ID, a phone
        number) sends it in the body, never in the URL."""
        if body is None:
            data = await self._call("GET", path, params=params or None)
        else:
            data = await self._call("POST", path, body=body)
        if data is _NOT_FOUND or data is None:
            return None
        return self._decode(cls, data, path)

    async def _many(
        self, cls: type[View], path: str, *, body: dict[str, Any] | None = None, **params: Any
    ) -> list[View]:
        if body is None:
            data = await self._call("GET", path, params={k: v for k, v in params.items() if v})
        else:
            data = await self._call("POST", path, body=body)
        if data is _NOT_FOUND or data is None:
            return []
        if not isinstance(data, list):
            raise CustomerFileError(f"core system sent no list for {path}")
        return [self._decode(cls, item, path) for item in data]

    async def _pin_is_valid(self, path: str, pin: str) -> bool:
        answer = await self._call("POST", path, body={"pin": ascii_digits(pin)})
        return isinstance(answer, dict) and answer.get("valid") is True

    @staticmethod
    def _decode(cls: type[View], data: Any, path: str) -> View:
        try:
            return from_json(cls, data)
        except ValueError as error:
            raise CustomerFileError(
                f"core system's answer to {path} does not fit: {error}"
            ) from error

    # --- customers -------------------------------------------------------------------

    async def customer_by_phone(self, phone: str) -> CustomerSummary | None:
        e164 = try_normalize_phone(ascii_digits(phone), self.region)
        if e164 is None:
            return None
        return await self._one(CustomerSummary, "/customers/by-phone", body={"e164": e164})

    async def customer_by_national_id(self, national_id: str) -> CustomerSummary | None:
        key = validate_national_or_company_id(national_id)
        return await self._one(
            CustomerSummary, "/customers/by-national-id", body={"national_id": key}
        )

    async def customer_by_policy_number(self, policy_number: str) -> CustomerSummary | None:
        number = policy_number.strip()
        if not number:
            return None
        return await self._one(CustomerSummary, f"/customers/by-policy/{_segment(number)}")

    async def customer(self, customer_id: int) -> CustomerSummary | None:
        return await self._one(CustomerSummary, f"/customers/{int(customer_id)}")

    async def customer_file(self, customer_id: int) -> CustomerFileView | None:
        data = await self._call("GET", f"/customers/{int(customer_id)}/file")
        if data is _NOT_FOUND or data is None:
            return None
        if not isinstance(data, dict):
            raise CustomerFileError("core system sent no object for the customer file")
        # Complaints, callback tasks and calls are Tamas's own: from our tables.
        merged = {
            **data,
            "open_complaints": [],
            "open_callback_tasks": [],
            "recent_interactions": [],
        }
        view = self._decode(CustomerFileView, merged, "/customers/{id}/file")
        return await self.own_records.add_to_file(view)

    async def search_customers(self, text: str, limit: int = 20) -> list[CustomerSummary]:
        if not text.strip():
            return []
        body = {"q": text, "limit": limit}
        return await self._many(CustomerSummary, "/customers/search", body=body)

    async def register_customer(self, registration: CustomerRegistration) -> CustomerSummary:
        # Malformed identifiers are refused here, by name (InvalidIdentifier), before the core
        # system is asked; it receives them in their canonical forms.
        checked = canonical_registration(registration, self.region)
        data = await self._call("POST", "/customers", body=as_json(checked))
        if not isinstance(data, dict):
            raise CustomerFileError("core system did not return the registered customer")
        return self._decode(CustomerSummary, data, "/customers")

    async def verify_customer_pin(self, customer_id: int, pin: str) -> bool:
        return await self._pin_is_valid(f"/customers/{int(customer_id)}/pin/check", pin)

    async def set_customer_pin(self, customer_id: int, pin: str) -> None:
        answer = await self._call(
            "PUT", f"/customers/{int(customer_id)}/pin", body={"pin": ascii_digits(pin)}
        )
        if answer is _NOT_FOUND:
            raise CustomerFileError(f"no customer {customer_id}")

    # --- claims, policies, debts -----------------------------------------------------

    async def claim_by_tracking_code(self, tracking_code: str) -> ClaimStatus | None:
        code = compact_digits(tracking_code)
        if not code:
            return None
        return await self._one(ClaimStatus, f"/claims/{_segment(code)}")

    async def policy_for_authenticity(self, number_or_code: str) -> PolicyAuthenticity:
        key = ascii_digits(number_or_code).strip()
        if not key:
            return PolicyAuthenticity(genuine=False)
        answer = await self._one(PolicyAuthenticity, f"/policies/authenticity/{_segment(key)}")
        return answer or PolicyAuthenticity(genuine=False)

    async def debts(self, customer_id: int) -> DebtView:
        answer = await self._one(DebtView, f"/customers/{int(customer_id)}/debts")
        if answer is None:
            return DebtView(customer_id, 0, 0, (), (), ())
        return answer

    # --- places and shareholders -----------------------------------------------------

    async def branches_near(self, postal_code: str, limit: int = 3) -> list[BranchView]:
        code = validate_postal_code(postal_code)
        return await self._many(BranchView, "/branches/near", postal_code=code, limit=limit)

    async def medical_centres(self, city: str | None = None) -> list[CentreView]:
        return await self._many(CentreView, "/medical-centres", city=city)

    async def payment_centres(self, city: str | None = None) -> list[CentreView]:
        return await self._many(CentreView, "/payment-centres", city=city)

    async def shareholder(self, shareholder_number: str) -> ShareholderView | None:
        number = compact_digits(shareholder_number)
        if not number:
            return None
        return await self._one(ShareholderView, f"/shareholders/{_segment(number)}")

    async def verify_shareholder_pin(self, shareholder_number: str, pin: str) -> bool:
        number = compact_digits(shareholder_number)
        return await self._pin_is_valid(f"/shareholders/{_segment(number)}/pin/check", pin)

    async def next_general_meeting(
        self, after: datetime | None = None
    ) -> GeneralMeetingView | None:
        params: dict[str, Any] = {"after": after.isoformat()} if after is not None else {}
        return await self._one(GeneralMeetingView, "/general-meetings/next", **params)


def make(settings: Any, database: Database) -> RestCustomerFile:
    """The factory `customer_file_adapter` names: the core system at `customer_file_url`."""
    url = getattr(settings, "customer_file_url", "")
    if not url:
        raise CustomerFileError(
            "customer_file_adapter names the REST adapter but customer_file_url is empty;"
            " set it to the core system's base URL"
        )
    timeout_ms = getattr(settings, "ivr_lookup_timeout_ms", 3000)
    return RestCustomerFile(
        url,
        database,
        settings.default_region,
        timeout_ms / 1000,
        token=getattr(settings, "customer_file_token", ""),
        tls=tls_context(
            getattr(settings, "customer_file_client_cert", ""),
            getattr(settings, "customer_file_ca_file", ""),
        ),
        allow_http=getattr(settings, "customer_file_allow_http", False),
        cases=configured_case_types(settings),
    )


def tls_context(client_cert: str, ca_file: str) -> ssl.SSLContext | None:
    """The TLS context for mutual TLS and/or a private CA; None for the system's defaults."""
    if not client_cert and not ca_file:
        return None
    context = ssl.create_default_context(cafile=ca_file or None)
    if client_cert:
        try:
            context.load_cert_chain(client_cert)
        except (OSError, ssl.SSLError) as error:
            raise CustomerFileError(
                f"customer_file_client_cert {client_cert}: not a readable PEM file with the"
                f" certificate and its key ({error})"
            ) from error
    return context
