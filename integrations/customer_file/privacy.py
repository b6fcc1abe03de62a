"""Showing just enough of a person to the public: masked names for the policy authenticity
menu, which anyone may call."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """`علی محمدی` -> `ع*** م***`: the initials, never the length of each word."""
    return " ".join(word[0] + "***" for word in name.split() if word)
