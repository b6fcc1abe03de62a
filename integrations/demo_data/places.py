"""Real Iranian cities (centre coordinates, telephone area code, the leading digits of their
postal codes) and the share of customers each gets, roughly by population."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str  # Persian
    name_latin: str
    province: str  # Persian
    latitude: float
    longitude: float
    area_code: str  # without the trunk 0: "21" is dialled 021 inside Iran
    postal_prefixes: tuple[str, ...]  # leading digits of the city's postal codes
    weight: int  # relative number of customers living there


CITIES: tuple[City, ...] = (
    City("تهران", "Tehran", "تهران", 35.6892, 51.3890, "21",
         ("11", "13", "14", "15", "16", "17", "18", "19"), 30),
    City("مشهد", "Mashhad", "خراسان رضوی", 36.2605, 59.6168, "51", ("91",), 8),
    City("اصفهان", "Isfahan", "اصفهان", 32.6546, 51.6680, "31", ("81",), 6),
    City("کرج", "Karaj", "البرز", 35.8400, 50.9391, "26", ("31",), 5),
    City("شیراز", "Shiraz", "فارس", 29.5918, 52.5837, "71", ("71",), 5),
    City("تبریز", "Tabriz", "آذربایجان شرقی", 38.0800, 46.2919, "41", ("51",), 5),
    City("قم", "Qom", "قم", 34.6416, 50.8746, "25", ("37",), 3),
    City("اهواز", "Ahvaz", "خوزستان", 31.3183, 48.6706, "61", ("61",), 3),
    City("کرمانشاه", "Kermanshah", "کرمانشاه", 34.3142, 47.0650, "83", ("67",), 2),
    City("ارومیه", "Urmia", "آذربایجان غربی", 37.5527, 45.0761, "44", ("57",), 2),
    City("رشت", "Rasht", "گیلان", 37.2808, 49.5832, "13", ("41",), 2),
    City("زاهدان", "Zahedan", "سیستان و بلوچستان", 29.4963, 60.8629, "54", ("98",), 2),
    City("کرمان", "Kerman", "کرمان", 30.2839, 57.0834, "34", ("76",), 2),
    City("همدان", "Hamadan", "همدان", 34.7983, 48.5148, "81", ("65",), 2),
    City("یزد", "Yazd", "یزد", 31.8974, 54.3569, "35", ("89",), 2),
    City("اراک", "Arak", "مرکزی", 34.0954, 49.7013, "86", ("38",), 1),
    City("اردبیل", "Ardabil", "اردبیل", 38.2498, 48.2933, "45", ("56",), 1),
    City("بندرعباس", "Bandar Abbas", "هرمزگان", 27.1832, 56.2666, "76", ("79",), 1),
    City("قزوین", "Qazvin", "قزوین", 36.2797, 50.0049, "28", ("34",), 1),
    City("زنجان", "Zanjan", "زنجان", 36.6736, 48.4787, "24", ("45",), 1),
    City("ساری", "Sari", "مازندران", 36.5633, 53.0601, "11", ("48",), 1),
    City("گرگان", "Gorgan", "گلستان", 36.8456, 54.4393, "17", ("49",), 1),
    City("سنندج", "Sanandaj", "کردستان", 35.3219, 46.9862, "87", ("66",), 1),
    City("بوشهر", "Bushehr", "بوشهر", 28.9234, 50.8203, "77", ("75",), 1),
    City("خرم‌آباد", "Khorramabad", "لرستان", 33.4878, 48.3558, "66", ("68",), 1),
)  # fmt: skip

CITY_WEIGHTS: tuple[int, ...] = tuple(city.weight for city in CITIES)

# Streets that exist in most Iranian cities, for believable addresses.
STREETS: tuple[str, ...] = (
    "خیابان آزادی", "خیابان انقلاب", "خیابان امام خمینی", "بلوار کشاورز", "خیابان ولیعصر",
    "خیابان شریعتی", "خیابان طالقانی", "بلوار فردوسی", "خیابان حافظ", "خیابان سعدی",
    "خیابان مطهری", "بلوار جمهوری", "خیابان بهار", "خیابان فاطمی", "بلوار پاسداران",
)  # fmt: skip
