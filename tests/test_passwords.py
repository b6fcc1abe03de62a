"""The one hasher of secrets people choose (agents' passwords, callers' PINs): hashes written
by either of the two older hashers keep verifying, and each user's hashes verify through the
other's functions."""

from __future__ import annotations

import pytest

from integrations.customer_file.pins import hash_pin, verify_pin
from popup_server import agents
from tamas.passwords import hash_secret, verify_secret

# Written by the agents' hasher before it was merged: base64 with its "=" padding.
OLD_AGENT_HASH = (
    "scrypt$1024$8$1$AAECAwQFBgcICQoLDA0ODw==$hKGWL22WtdGfIbxEPAZ06BS2bWyYKuZIKvypfAlYOWlWZG"
    "ASdBfWD07Zr74Tyn8DIkjcXCYorjYkYnmjaC6QTg=="
)
# Written by the PINs' hasher: the same scheme without the padding.
OLD_PIN_HASH = (
    "scrypt$1024$8$1$AAECAwQFBgcICQoLDA0ODw$SadmVQpZytfpVBGbeYC1ee6GQgxOvA5/D3dhrXq9bPxI7XwWL5"
    "Vwp09d/Fkx5KLtXn5Ob/0IhQxpYA5O7+PABQ"
)


def test_stored_agent_passwords_and_pins_keep_verifying() -> None:
    assert verify_secret("correct horse battery", OLD_AGENT_HASH)
    assert not verify_secret("correct horse batterY", OLD_AGENT_HASH)
    assert verify_pin("2580", OLD_PIN_HASH)
    assert not verify_pin("2581", OLD_PIN_HASH)


def test_a_pin_hash_and_a_password_hash_are_one_format() -> None:
    # Before there was one hasher, the desktop could not read a PIN's hash (no padding).
    assert verify_secret("2580", OLD_PIN_HASH)
    assert verify_pin("2580", hash_secret("2580", n=2**8))
    assert verify_secret("2580", hash_pin("2580", n=2**8))


def test_the_agents_module_has_no_hasher_of_its_own() -> None:
    assert not hasattr(agents, "hash_password") and not hasattr(agents, "verify_password")


@pytest.mark.parametrize(
    "stored", [None, "", "plain", "scrypt$x$8$1$a$b", "scrypt$1024$8$1$!!!$@@@", "md5$1$2$3$4$5"]
)
def test_a_missing_or_malformed_hash_never_matches(stored: str | None) -> None:
    assert not verify_secret("anything", stored)
