"""Partners of the B2B API (loss adjusters, assistance providers) and their signed tokens.

A token is `<payload>.<signature>`: the payload (base64url JSON) names the partner, the key it
was signed with and when it expires; the signature is HMAC-SHA256 of the payload under that
key. Each partner has one or more keys in the partners file: to rotate, add the new key, hand
out tokens signed with it, and remove the old key once no token of it is in use; while both
are listed, tokens of either are accepted, so no partner is ever locked out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tamas.documents import Document, known_keys, mapping, nonempty_text

PARTNER_ID = re.compile(r"^[a-z0-9_-]{1,14}$")
# A key shorter than this is refused on load: guessable secrets forge every partner's tokens.
MIN_KEY_BYTES = 32


class TokenRefused(Exception):
    """A token that does not let its bearer in; the reason goes to the audit log, not to
    the caller (who gets 401)."""


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    keys: dict[str, bytes]
    may_open: frozenset[str]


@dataclass(frozen=True)
class Partners:
    by_id: dict[str, Partner]

    def issue(self, partner_id: str, key_id: str, expires_at: datetime) -> str:
        partner = self.by_id.get(partner_id)
        if partner is None or key_id not in partner.keys:
            raise KeyError(f"no key {key_id!r} for partner {partner_id!r}")
        payload = _b64(
            json.dumps(
                {"p": partner_id, "k": key_id, "exp": int(expires_at.timestamp())},
                separators=(",", ":"),
            ).encode()
        )
        return f"{payload}.{_sign(partner.keys[key_id], payload)}"

    def verify(self, token: str, now: datetime) -> Partner:
        payload, _, signature = token.strip().partition(".")
        try:
            claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
            partner_id, key_id, expires = str(claims["p"]), str(claims["k"]), int(claims["exp"])
        except (ValueError, KeyError, TypeError) as error:
            raise TokenRefused("malformed token") from error
        partner = self.by_id.get(partner_id)
        key = partner.keys.get(key_id) if partner else None
        if partner is None or key is None:
            raise TokenRefused(f"unknown partner or retired key ({partner_id}/{key_id})")
        if not hmac.compare_digest(_sign(key, payload), signature):
            raise TokenRefused(f"bad signature ({partner_id}/{key_id})")
        if expires <= now.timestamp():
            raise TokenRefused(f"expired ({partner_id}/{key_id})")
        return partner


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def new_key() -> str:
    """A fresh key for the partners file (hex, 32 random bytes)."""
    return secrets.token_hex(MIN_KEY_BYTES)


def parse(text: str, path: Path) -> Partners:
    doc = Document(path, text)
    data = mapping(doc, doc.data, "")
    known_keys(doc, data, "(top)", ("partners",))
    partners = {}
    for partner_id, raw in mapping(doc, data.get("partners", {}), "partners").items():
        where = f"partners.{partner_id}"
        if not PARTNER_ID.match(partner_id):
            # The audit log names a partner "p:<id>" in 16 characters: longer ids would meet.
            raise doc.error(where, "a partner id is 1-14 of a-z, 0-9, _ and -")
        spec = mapping(doc, raw, where)
        known_keys(doc, spec, where, ("name", "keys", "may_open"))
        keys = {}
        for key_id, secret in mapping(doc, spec.get("keys"), f"{where}.keys").items():
            try:
                key = bytes.fromhex(str(secret))
            except ValueError:
                raise doc.error(f"{where}.keys.{key_id}", "a key is hex") from None
            if len(key) < MIN_KEY_BYTES:
                raise doc.error(f"{where}.keys.{key_id}", f"at least {MIN_KEY_BYTES} bytes")
            keys[str(key_id)] = key
        if not keys:
            raise doc.error(f"{where}.keys", "a partner needs at least one key")
        may_open = spec.get("may_open", [])
        if not isinstance(may_open, list):
            raise doc.error(f"{where}.may_open", "a list of case types")
        name = nonempty_text(doc, spec.get("name", partner_id), f"{where}.name")
        partners[partner_id] = Partner(partner_id, name, keys, frozenset(map(str, may_open)))
    return Partners(partners)


def load(path: str) -> Partners:
    """The partners file, or no partners when none is configured (every token refused)."""
    if not path:
        return Partners({})
    file = Path(path)
    return parse(file.read_text(encoding="utf-8"), file)


DEFAULT_TOKEN_LIFETIME = timedelta(days=90)
