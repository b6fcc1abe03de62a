"""SMS providers' HTTP APIs as data (sms_profiles.yaml, plus the insurer's own file): loaded,
checked, and turned into typed profiles the one HTTP adapter (sms_http.py) follows. A mistake
in a profile is an error naming the profile and the key, at start-up, not at the first send."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from integrations.messaging.outbox import DELIVERY_STATUSES

BUILT_IN = Path(__file__).with_name("sms_profiles.yaml")
AUTHS = ("path", "bearer")
# How a profile writes the recipient: +989121234567, 989121234567, or as dialled at home
# (09121234567, what Iranian providers' `receptor` takes).
NUMBER_FORMATS = ("e164", "digits", "national")
OUR_FIELDS = frozenset({"to", "text", "sender", "reference", "ids", "line"})


class ProfileError(ValueError):
    """A profile that cannot be followed; the message names the profile and the key."""


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    fields: Mapping[str, str]
    form: bool = True
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Find:
    endpoint: Endpoint
    id: str
    missing: frozenset[int] = frozenset()
    entry_status: str | None = None
    missing_entry_status: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StatusQuery:
    endpoint: Endpoint
    entries: str
    entry_id: str
    entry_status: str
    delivery: Mapping[str, str]
    max_ids: int = 100


@dataclass(frozen=True)
class Inbox:
    endpoint: Endpoint
    entries: str
    entry: Mapping[str, str]  # id, from, to, text


@dataclass(frozen=True)
class HttpProfile:
    name: str
    auth: str  # path, bearer or header:<Name>
    send: Endpoint
    id: str
    ok: frozenset[int]
    throttled: frozenset[int] = frozenset()
    retry: frozenset[int] = frozenset()
    code: str | None = None
    find: Find | None = None
    status: StatusQuery | None = None
    inbox: Inbox | None = None
    # The provider's field names in what it posts to our webhook: report (id, status), text.
    pushed: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    number_format: str = "e164"


def dig(data: Any, path: str) -> Any:
    """The value at a dotted path (`entries.0.messageid`), or None where it is missing."""
    for step in path.split(".") if path else ():
        if isinstance(data, Mapping):
            data = data.get(step)
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        else:
            return None
    return data


class _Reader:
    """Reads one profile's mapping, naming the key when something is wrong."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, what: str) -> ProfileError:
        return ProfileError(f"SMS profile {self.name!r}, {where}: {what}")

    def mapping(self, data: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(data, Mapping):
            raise self.fail(where, "expected a mapping")
        return data

    def text(
        self, data: Mapping[str, Any], key: str, where: str, default: str | None = None
    ) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", "expected text")
        return value

    def codes(self, data: Mapping[str, Any], key: str, where: str) -> frozenset[int]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(code, int) for code in value):
            raise self.fail(f"{where}.{key}", "expected a list of whole numbers")
        return frozenset(value)

    def endpoint(self, data: Any, where: str) -> Endpoint:
        data = self.mapping(data, where)
        method = self.text(data, "method", where, "POST").upper()
        if method not in ("GET", "POST"):
            raise self.fail(f"{where}.method", f"{method!r} is not GET or POST")
        fields = {str(k): str(v) for k, v in self.mapping(data.get("fields", {}), where).items()}
        unknown = set(fields) - OUR_FIELDS
        if unknown:
            raise self.fail(f"{where}.fields", f"unknown field {sorted(unknown)[0]!r}")
        params = {str(k): str(v) for k, v in self.mapping(data.get("params", {}), where).items()}
        return Endpoint(
            method, self.text(data, "path", where), fields, bool(data.get("form", True)), params
        )

    def profile(self, data: Any) -> HttpProfile:
        data = self.mapping(data, "the profile")
        auth = self.text(data, "auth", "auth")
        if auth not in AUTHS and not auth.startswith("header:"):
            raise self.fail("auth", f"{auth!r} is not path, bearer or header:<Name>")
        find = status = inbox = None
        if "find" in data:
            raw = self.mapping(data["find"], "find")
            find = Find(
                self.endpoint(raw, "find"),
                self.text(raw, "id", "find"),
                self.codes(raw, "missing", "find"),
                raw.get("entry_status"),
                frozenset(str(code) for code in raw.get("missing_entry_status", [])),
            )
        if "status" in data:
            raw = self.mapping(data["status"], "status")
            delivery = {str(k): str(v) for k, v in self.mapping(raw["delivery"], "status").items()}
            wrong = [v for v in delivery.values() if v not in DELIVERY_STATUSES]
            if wrong:
                raise self.fail("status.delivery", f"{wrong[0]!r} is not one of ours")
            status = StatusQuery(
                self.endpoint(raw, "status"),
                self.text(raw, "entries", "status"),
                self.text(raw, "entry_id", "status"),
                self.text(raw, "entry_status", "status"),
                delivery,
                int(raw.get("max_ids", 100)),
            )
        if "inbox" in data:
            raw = self.mapping(data["inbox"], "inbox")
            entry = {str(k): str(v) for k, v in self.mapping(raw["entry"], "inbox").items()}
            if set(entry) != {"id", "from", "to", "text"}:
                raise self.fail("inbox.entry", "needs exactly id, from, to and text")
            inbox = Inbox(self.endpoint(raw, "inbox"), self.text(raw, "entries", "inbox"), entry)
        number_format = self.text(data, "number_format", "number_format", "e164")
        if number_format not in NUMBER_FORMATS:
            raise self.fail("number_format", f"{number_format!r} is not one of {NUMBER_FORMATS}")
        pushed = {
            str(kind): {str(k): str(v) for k, v in self.mapping(names, "pushed").items()}
            for kind, names in self.mapping(data.get("pushed", {}), "pushed").items()
        }
        return HttpProfile(
            name=self.name,
            auth=auth,
            send=self.endpoint(data.get("send"), "send"),
            id=self.text(data, "id", "id"),
            ok=self.codes(data, "ok", "the profile") or frozenset({200}),
            throttled=self.codes(data, "throttled", "the profile"),
            retry=self.codes(data, "retry", "the profile"),
            code=data.get("code"),
            find=find,
            status=status,
            inbox=inbox,
            pushed=pushed,
            number_format=number_format,
        )


def load(*paths: Path) -> dict[str, HttpProfile]:
    """The built-in profiles, then each file's (a name given again replaces the earlier)."""
    profiles: dict[str, HttpProfile] = {}
    for path in (BUILT_IN, *paths):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ProfileError(f"SMS profiles {path.name}: {error}") from error
        raw = document.get("profiles") if isinstance(document, Mapping) else None
        if not isinstance(raw, Mapping):
            raise ProfileError(f"SMS profiles {path.name}: expected a `profiles:` mapping")
        for name, data in raw.items():
            profiles[str(name)] = _Reader(str(name)).profile(data)
    return profiles
