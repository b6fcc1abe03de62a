"""IVR PINs, stored as salted scrypt hashes in a self-describing string
(`scrypt$n$r$p$salt$hash`), so the cost can be raised later without breaking stored PINs.

Hashing costs tens of milliseconds on purpose: callers of these functions from an event loop
run them in a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt cost: 16 MiB of memory and ~30 ms per check on one core: cheap for one caller,
# ruinous for anyone trying all 10,000 four-digit PINs against a stolen table.
DEFAULT_N = 2**14
DEFAULT_R = 8
DEFAULT_P = 1
_SALT_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_pin(
    pin: str,
    *,
    salt: bytes | None = None,
    n: int = DEFAULT_N,
    r: int = DEFAULT_R,
    p: int = DEFAULT_P,
) -> str:
    """A storable hash of `pin`. Demo data may pass a smaller `n`; production keeps the default."""
    if not pin.isascii() or not pin.isdigit():
        raise ValueError("a PIN is digits only")
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_pin(pin: str, stored: str | None) -> bool:
    """True if `pin` matches `stored`. A missing or malformed hash never matches."""
    if not stored or not pin.isascii() or not pin.isdigit():
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            pin.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=256 * 1024 * 1024,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
