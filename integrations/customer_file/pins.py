"""IVR PINs: digits only, hashed and checked by the one secret hasher (`tamas.passwords`).

Hashing costs tens of milliseconds on purpose: callers of these functions from an event loop
run them in a thread (`asyncio.to_thread`). The cost does not save a 4-digit PIN from a stolen
table (10,000 guesses); the IVR's lockout is what protects PINs (docs/security.md).
"""

from __future__ import annotations

from tamas.passwords import DEFAULT_N, DEFAULT_P, DEFAULT_R, hash_secret, verify_secret


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
    return hash_secret(pin, salt=salt, n=n, r=r, p=p)


def verify_pin(pin: str, stored: str | None) -> bool:
    """True if `pin` matches `stored`. A missing or malformed hash never matches."""
    if not pin.isascii() or not pin.isdigit():
        return False
    return verify_secret(pin, stored)
