"""Identifiers for demo customers: national IDs and company IDs with correct check digits,
postal codes Iran Post could have issued, and Iranian and Russian phone numbers.

Identifiers that must be unique (national IDs, company IDs, mobile numbers) are not drawn at
random, where a million draws would collide: each is a fixed bijection (`Shuffle`) of the
customer's index, so they are unique by construction and still look scattered. Showcase
records use values outside every range the bijections produce (see `showcase.py`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from customer_file.identifiers import company_id_check_digit

# Multipliers for `Shuffle`: primes well above every domain size, so each is coprime with it.
_MULTIPLIERS = (1_000_000_007, 998_244_353, 1_000_000_009, 2_147_483_647, 1_610_612_741)


@dataclass(frozen=True)
class Shuffle:
    """A bijection of range(size): index -> (multiplier * index + offset) mod size."""

    size: int
    multiplier: int
    offset: int

    @classmethod
    def keyed(cls, size: int, key: str) -> Shuffle:
        rng = random.Random(key)
        multiplier = next(m for m in rng.sample(_MULTIPLIERS, 5) if math.gcd(m, size) == 1)
        return cls(size, multiplier, rng.randrange(size))

    def __call__(self, index: int) -> int:
        if not 0 <= index < self.size:
            raise ValueError(f"index {index} outside 0..{self.size - 1}")
        return (self.multiplier * index + self.offset) % self.size


class Codes:
    """Unique digit codes (claim tracking codes, policy numbers, shareholder numbers) of a
    fixed length, one per slot. Codes named in `reserved` (the showcase's) are never handed
    out: the one slot the shuffle maps onto a reserved code gets a spare code instead, taken
    from the top of the range the shuffle never reaches."""

    def __init__(self, key: str, digits: int, reserved: tuple[str, ...] = (), start: int = 0):
        self._digits = digits
        self._start = start
        self._spare_base = 10**digits - start - len(reserved)
        self._shuffle = Shuffle.keyed(self._spare_base, key)
        self._reserved = {int(code) - start: n for n, code in enumerate(reserved)}

    @property
    def capacity(self) -> int:
        return self._shuffle.size

    def __call__(self, slot: int) -> str:
        value = self._shuffle(slot)
        spare = self._reserved.get(value)
        if spare is not None:
            value = self._spare_base + spare
        return f"{self._start + value:0{self._digits}d}"


def _group_sums(weights: tuple[int, int, int]) -> tuple[int, ...]:
    return tuple(
        weights[0] * (g // 100) + weights[1] * (g // 10 % 10) + weights[2] * (g % 10)
        for g in range(1000)
    )


# The national ID's weighted digit sum (weights 10..2) three digits at a time: a million IDs
# are checked-digited in a blink. `national_id_check_digit` stays the reference (tests).
_GROUP_SUMS = (_group_sums((10, 9, 8)), _group_sums((7, 6, 5)), _group_sums((4, 3, 2)))


def _fast_check_digit(first_nine: int) -> int:
    high, rest = divmod(first_nine, 10**6)
    middle, low = divmod(rest, 1000)
    remainder = (_GROUP_SUMS[0][high] + _GROUP_SUMS[1][middle] + _GROUP_SUMS[2][low]) % 11
    return remainder if remainder < 2 else 11 - remainder


class NationalIds:
    """Unique 10-digit national IDs. Generated ones start with 1-9 and their second digit
    differs from the first (so never `1111111111`); IDs starting with 0 are left to showcase
    records."""

    def __init__(self, seed: int) -> None:
        # first digit (9) x second digit unlike the first (9) x seven free digits
        self._shuffle = Shuffle.keyed(81 * 10**7, f"national-id:{seed}")

    def __call__(self, index: int) -> str:
        value = self._shuffle(index)
        head, tail = divmod(value, 10**7)
        first = 1 + head // 9
        second = head % 9
        second = second if second < first else second + 1
        body = (first * 10 + second) * 10**7 + tail
        return f"{body:09d}{_fast_check_digit(body)}"


class CompanyIds:
    """Unique 11-digit company national IDs in the `10…` series the registry issues."""

    def __init__(self, seed: int) -> None:
        # Registration serial 1..: the digits after `10` are never all zero.
        self._shuffle = Shuffle.keyed(10**8 - 1, f"company-id:{seed}")

    def __call__(self, index: int) -> str:
        first_ten = f"10{self._shuffle(index) + 1:08d}"
        return first_ten + str(company_id_check_digit(first_ten))


# Iranian mobile prefixes (MCI 091x and 0990-0994, Irancell 093x, Rightel 092x, 090x).
IRAN_MOBILE_PREFIXES = (
    "910", "911", "912", "913", "914", "915", "916", "917", "918", "919",
    "990", "991", "992", "993", "930", "933", "935", "936", "937", "938", "939",
    "901", "902", "903", "920", "921", "922",
)  # fmt: skip
# Russian mobile codes of the big three operators.
RUSSIAN_MOBILE_PREFIXES = (
    "903", "905", "906", "909", "910", "915", "916", "917", "919", "925", "926", "929",
    "962", "965", "977", "985", "999",
)  # fmt: skip
# Generated subscriber numbers start with 2-9; showcase numbers start with 1.
_SUBSCRIBERS_PER_PREFIX = 8 * 10**6


class MobileNumbers:
    """Unique mobile numbers in E.164, one per `slot` (a customer's index times the number of
    mobiles a customer may have, plus which one)."""

    def __init__(self, seed: int, country_code: str, prefixes: tuple[str, ...]) -> None:
        self._country_code = country_code
        self._prefixes = prefixes
        size = len(prefixes) * _SUBSCRIBERS_PER_PREFIX
        self._shuffle = Shuffle.keyed(size, f"mobile:{country_code}:{seed}")

    def __call__(self, slot: int) -> str:
        prefix, subscriber = divmod(self._shuffle(slot), _SUBSCRIBERS_PER_PREFIX)
        return f"+{self._country_code}{self._prefixes[prefix]}{2 * 10**6 + subscriber:07d}"


def iran_mobiles(seed: int) -> MobileNumbers:
    return MobileNumbers(seed, "98", IRAN_MOBILE_PREFIXES)


def russian_mobiles(seed: int) -> MobileNumbers:
    return MobileNumbers(seed, "7", RUSSIAN_MOBILE_PREFIXES)


class Landlines:
    """Unique 8-digit landline numbers behind one Iranian area code, one per slot.

    Tehran's local numbers start with 3-8 here and other cities' with 3; Tehran numbers
    starting with 2 are left to showcase records."""

    def __init__(self, seed: int, area_code: str) -> None:
        self._area_code = area_code
        self._first_digits = "345678" if area_code == "21" else "3"
        size = len(self._first_digits) * 10**7
        self._shuffle = Shuffle.keyed(size, f"landline:{area_code}:{seed}")

    def __call__(self, slot: int) -> str:
        first, rest = divmod(self._shuffle(slot), 10**7)
        return f"+98{self._area_code}{self._first_digits[first]}{rest:07d}"


_AREA_DIGITS = "13456789"
_AREA_FIFTH_DIGITS = "1346789"
_BUILDING_DIGITS = "013456789"


def postal_area_code(rng: random.Random, city_prefix: str) -> str:
    """The first five digits of a postal code in a city whose codes start with `city_prefix`."""
    while True:
        middle = "".join(rng.choice(_AREA_DIGITS) for _ in range(4 - len(city_prefix)))
        area = city_prefix + middle + rng.choice(_AREA_FIFTH_DIGITS)
        if len(set(area[:4])) > 1:
            return area


_BUILDINGS: list[str] = []


def postal_code(rng: random.Random, area_code: str) -> str:
    """A full 10-digit postal code: the area's five digits and a building number."""
    if not _BUILDINGS:
        digits = _BUILDING_DIGITS
        _BUILDINGS.extend(a + b + c + d + e for a in digits for b in digits for c in digits
                          for d in digits for e in digits)  # fmt: skip
    return area_code + _BUILDINGS[int(rng.random() * len(_BUILDINGS))]
