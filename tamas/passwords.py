"""Hashing secrets people choose: agents' passwords and callers' PINs, as salted scrypt in a
self-describing string (`scrypt$n$r$p$salt$hash`), so the cost can be raised later without
breaking what is stored.

Hashing costs tens of milliseconds on purpose: callers on an event loop run these functions
in a thread (`asyncio.to_thread`), after releasing any database connection they hold.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

# scrypt cost: 16 MiB of memory and ~30 ms per check on one core: cheap for one login, and
# ruinous for anyone trying a dictionary of passwords against a stolen table. (A 4-digit PIN
# is another matter: 10,000 guesses take minutes at any cost; the lockout is what protects it.)
DEFAULT_N = 2**14
DEFAULT_R = 8
DEFAULT_P = 1
_SALT_BYTES = 16
# Room for n up to 2**17 with r=8 (128 * r * n bytes), so a raised cost still verifies.
_MAX_MEMORY = 256 * 1024 * 1024


def hash_secret(
    secret: str,
    *,
    salt: bytes | None = None,
    n: int = DEFAULT_N,
    r: int = DEFAULT_R,
    p: int = DEFAULT_P,
) -> str:
    """A storable hash of `secret`. Tests and demo data may pass a smaller `n`."""
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str | None) -> bool:
    """True if `secret` matches `stored`. A missing or malformed hash never matches."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            secret.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAX_MEMORY,
            dklen=len(expected),
        )
    except (ValueError, TypeError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    # Hashes written before this module kept base64's "=" padding (agents' passwords) or
    # dropped it (PINs): both read back the same.
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
