"""The insurer's reference network, the same for every seed: postal areas with their centres,
branches and agencies spread over them, contracted medical centres, claim-payment centres and
the general meetings of shareholders. Only dates move with `today`."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from integrations.demo_data import identities
from integrations.demo_data.batch import Batch
from integrations.demo_data.places import CITIES, STREETS, City

# The showcase area (Vanak Square, Tehran) and the branches placed around it on purpose.
SHOWCASE_AREA = "19916"
SHOWCASE_AREA_CENTRE = (35.7575, 51.4100)
SHOWCASE_EXPIRED_AGENCY_CODE = "1004"

OPENING_HOURS = "Sat-Wed 08:00-16:00, Thu 08:00-12:00"
AGENCY_HOURS = "Sat-Wed 09:00-17:00, Thu 09:00-13:00"

_MEDICAL_KINDS = (
    ("hospital", "بیمارستان", "Hospital"),
    ("clinic", "درمانگاه", "Clinic"),
    ("laboratory", "آزمایشگاه", "Laboratory"),
    ("imaging", "مرکز تصویربرداری", "Imaging Centre"),
    ("pharmacy", "داروخانه", "Pharmacy"),
    ("dental", "کلینیک دندانپزشکی", "Dental Clinic"),
)
_CENTRE_NAMES = (
    ("امام رضا", "Imam Reza"), ("میلاد", "Milad"), ("پارس", "Pars"), ("آتیه", "Atieh"),
    ("کسری", "Kasra"), ("مهر", "Mehr"), ("رازی", "Razi"), ("سینا", "Sina"), ("شفا", "Shafa"),
    ("ابن سینا", "Ibn Sina"), ("بهار", "Bahar"), ("نور", "Noor"),
)  # fmt: skip


@dataclass(frozen=True)
class Area:
    prefix: str
    city: City
    latitude: float
    longitude: float


def _areas_per_city(city: City) -> int:
    return 24 if city.weight >= 30 else 6 if city.weight >= 5 else 3


def postal_areas() -> dict[str, tuple[Area, ...]]:
    """Postal areas by the city's Latin name; the first Tehran area is the showcase one."""
    rng = random.Random("postal-areas")
    taken = {SHOWCASE_AREA}
    result: dict[str, tuple[Area, ...]] = {}
    for city in CITIES:
        spread = 0.09 if city.weight >= 30 else 0.04
        areas: list[Area] = []
        if city.name_latin == "Tehran":
            areas.append(Area(SHOWCASE_AREA, city, *SHOWCASE_AREA_CENTRE))
        while len(areas) < _areas_per_city(city):
            prefix = identities.postal_area_code(rng, rng.choice(city.postal_prefixes))
            if prefix in taken:
                continue
            taken.add(prefix)
            latitude = round(city.latitude + rng.uniform(-spread, spread), 5)
            longitude = round(city.longitude + rng.uniform(-spread, spread), 5)
            areas.append(Area(prefix, city, latitude, longitude))
        result[city.name_latin] = tuple(areas)
    return result


AREAS = postal_areas()


def _branch_phone(rng: random.Random, city: City) -> str:
    # Office numbers end in 0000-0099 style blocks; drawn, not allocated (not in `phones`).
    return f"+98{city.area_code}{rng.choice('3456')}{rng.randrange(10**7):07d}"


def _address(rng: random.Random, city: City, street: str | None = None) -> tuple[str, str]:
    street = street or rng.choice(STREETS)
    number = rng.randrange(1, 400)
    return f"{city.name}، {street}، پلاک {number}", f"No. {number}, {city.name_latin}"


# The four branches placed around the showcase area: (kind, street, Latin street).
_SHOWCASE_BRANCHES = (
    ("branch", "ونک", "Vanak"),
    ("agency", "میرداماد", "Mirdamad"),
    ("branch", "ملاصدرا", "Mollasadra"),
    ("agency", "جردن", "Jordan"),  # its licence has lapsed: never offered to callers
)


def branch_ids_by_city() -> dict[str, tuple[int, ...]]:
    """Which branch ids serve each city (policies are issued by a branch of the holder's city)."""
    ids: dict[str, list[int]] = {}
    for branch_id, city_name in _branch_cities():
        ids.setdefault(city_name, []).append(branch_id)
    return {name: tuple(values) for name, values in ids.items()}


def _branch_cities() -> list[tuple[int, str]]:
    rows = []
    branch_id = 0
    for city in CITIES:
        for _ in range(_branches_per_city(city)):
            branch_id += 1
            rows.append((branch_id, city.name_latin))
    return rows


def _branches_per_city(city: City) -> int:
    return 30 if city.weight >= 30 else 2 + city.weight // 2


def reference_batch(today: date) -> Batch:
    """Postal areas, branches, medical and payment centres, general meetings."""
    rng = random.Random("network")
    batch = Batch()
    for areas in AREAS.values():
        for area in areas:
            batch.rows["postal_areas"].append(
                (area.prefix, area.city.province, area.city.name, area.latitude, area.longitude)
            )

    branch_id = 0
    for city in CITIES:
        areas = AREAS[city.name_latin]
        for n in range(_branches_per_city(city)):
            branch_id += 1
            showcase = city.name_latin == "Tehran" and n < 4
            area = areas[0] if showcase else rng.choice(areas)
            kind = "branch" if n % 3 == 0 else "agency"
            street = rng.choice(STREETS)
            street_name, street_latin = street.split(" ", 1)[1], ""
            if showcase:
                kind, street_name, street_latin = _SHOWCASE_BRANCHES[n]
                street = f"خیابان {street_name}"
            code = f"{1000 + branch_id}"
            licence_end = None
            if kind == "agency":
                licence_end = today + timedelta(days=rng.randrange(60, 1500))
                if rng.random() < 0.1 or code == SHOWCASE_EXPIRED_AGENCY_CODE:
                    licence_end = today - timedelta(days=rng.randrange(10, 400))
            if showcase:
                # Within about 1-3 km of the showcase area's centre.
                latitude = area.latitude + (0.006, -0.012, 0.018, 0.004)[n]
                longitude = area.longitude + (0.004, 0.010, -0.015, -0.006)[n]
            else:
                latitude = area.latitude + rng.uniform(-0.01, 0.01)
                longitude = area.longitude + rng.uniform(-0.01, 0.01)
            label_fa = "شعبه" if kind == "branch" else "نمایندگی"
            label_en = "Branch" if kind == "branch" else "Agency"
            address_fa, address_en = _address(rng, city, street)
            name_en = f"{city.name_latin} {street_latin or code} {label_en}"
            batch.rows["branches"].append(
                (
                    branch_id,
                    kind,
                    code,
                    f"{label_fa} {street_name} {city.name}",
                    name_en,
                    city.province,
                    city.name,
                    identities.postal_code(rng, area.prefix),
                    address_fa,
                    address_en,
                    _branch_phone(rng, city),
                    OPENING_HOURS if kind == "branch" else AGENCY_HOURS,
                    round(latitude, 6),
                    round(longitude, 6),
                    licence_end,
                )
            )

    centre_id = 0
    for city in CITIES:
        for n in range(2 + city.weight // 3):
            centre_id += 1
            kind, kind_fa, kind_en = _MEDICAL_KINDS[n % len(_MEDICAL_KINDS)]
            name_fa, name_en = rng.choice(_CENTRE_NAMES)
            area = rng.choice(AREAS[city.name_latin])
            address_fa, _ = _address(rng, city)
            batch.rows["medical_centres"].append(
                (
                    centre_id,
                    kind,
                    f"{kind_fa} {name_fa}",
                    f"{name_en} {kind_en}",
                    city.name,
                    address_fa,
                    _branch_phone(rng, city),
                    identities.postal_code(rng, area.prefix),
                    round(area.latitude + rng.uniform(-0.01, 0.01), 6),
                    round(area.longitude + rng.uniform(-0.01, 0.01), 6),
                )
            )

    for centre_id, city in enumerate(CITIES, start=1):
        area = AREAS[city.name_latin][0]
        address_fa, _ = _address(rng, city)
        batch.rows["payment_centres"].append(
            (
                centre_id,
                f"مرکز پرداخت خسارت {city.name}",
                f"{city.name_latin} Claim Payment Centre",
                city.name,
                address_fa,
                _branch_phone(rng, city),
                OPENING_HOURS,
                identities.postal_code(rng, area.prefix),
                area.latitude,
                area.longitude,
            )
        )

    _general_meetings(batch, today)
    return batch


def _general_meetings(batch: Batch, today: date) -> None:
    place_fa = "تهران، سالن همایش‌های بین‌المللی صدا و سیما"
    place_en = "IRIB International Conference Centre, Tehran"
    ten_am = time(6, 30, tzinfo=UTC)  # 10:00 in Tehran (UTC+3:30)
    meetings = (
        (
            1,
            "ordinary",
            datetime.combine(today - timedelta(days=150), ten_am),
            ["approve the financial statements of 1403", "dividend of 600 rials per share",
             "appoint the auditor"],
            "Statements approved; dividend of 600 rials per share, paid from the first of"
            " the month after next; the auditor reappointed.",
        ),
        (
            2,
            "extraordinary",
            datetime.combine(today - timedelta(days=60), ten_am),
            ["raise the capital by 20% from retained earnings"],
            "Capital raise approved.",
        ),
        (
            3,
            "ordinary",
            datetime.combine(today + timedelta(days=45), ten_am),
            ["approve the financial statements of 1404", "decide the dividend",
             "elect the board of directors"],
            None,
        ),
    )  # fmt: skip
    for meeting_id, kind, held_at, agenda, resolutions in meetings:
        invitation = (
            f"Shareholders are invited to the {kind} general meeting on"
            f" {held_at:%Y-%m-%d} at 10:00 Tehran time, {place_en}."
        )
        batch.rows["general_meetings"].append(
            (meeting_id, kind, held_at, place_fa, place_en, agenda, resolutions, invitation)
        )
