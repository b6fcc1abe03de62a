"""What the IVR says, twice: the words a human reads in the transcript, and the names of the
pre-generated sound fragments Asterisk plays one after the other to say them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Utterance:
    """`text` for the transcript; `fragments` are sound names like "fa/num/200", in order.

    A fragment name is `<lang>/<kind>/<name>`; `prompts.sounds` maps it to a file Asterisk
    plays (`tamas/fa/num/200`).
    """

    text: str
    fragments: tuple[str, ...]

    def __add__(self, other: Utterance) -> Utterance:
        return Utterance.join((self, other))

    @staticmethod
    def join(parts: Iterable[Utterance], separator: str = " ") -> Utterance:
        """One utterance saying `parts` in order; empty parts are skipped."""
        kept = [part for part in parts if part.fragments or part.text]
        return Utterance(
            text=separator.join(part.text for part in kept if part.text),
            fragments=tuple(fragment for part in kept for fragment in part.fragments),
        )

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(fragment.split("/", 1)[0] for fragment in self.fragments)
