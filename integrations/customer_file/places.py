"""Where customers can go: branches and agencies, medical centres, claim-payment centres, and
the postal areas that turn a caller's postal code into a point on the map."""

from __future__ import annotations

from datetime import date
from math import asin, cos, radians, sin, sqrt

from sqlalchemy import Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base

BRANCH_KINDS = ("branch", "agency")
MEDICAL_KINDS = ("hospital", "clinic", "laboratory", "imaging", "pharmacy", "dental")


class Branch(Base):
    """A branch of the insurer or a licensed agency selling its policies."""

    __tablename__ = "branches"
    # branches_near() first narrows by a box around the caller, then sorts by distance.
    __table_args__ = (Index("ix_branches_latitude_longitude", "latitude", "longitude"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), default="branch")
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_fa: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    province: Mapped[str] = mapped_column(String(64), default="")
    city: Mapped[str] = mapped_column(String(64), default="")
    postal_code: Mapped[str] = mapped_column(String(10))
    address_fa: Mapped[str] = mapped_column(String(300), default="")
    address_en: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(16))  # E.164
    # As people say it: "Sat-Wed 08:00-16:00, Thu 08:00-12:00".
    opening_hours: Mapped[str] = mapped_column(String(100), default="")
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    # Agencies only: the regulator's licence lapses on this date.
    licence_end: Mapped[date | None] = mapped_column(Date)


class MedicalCentre(Base):
    """A hospital, clinic or laboratory under contract for health policies."""

    __tablename__ = "medical_centres"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="hospital")
    name_fa: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(64), default="", index=True)
    address_fa: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(16), default="")
    postal_code: Mapped[str | None] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class PaymentCentre(Base):
    """Where a claimant collects a claim payment or files documents (often a branch office)."""

    __tablename__ = "payment_centres"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_fa: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(64), default="", index=True)
    address_fa: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(16), default="")
    opening_hours: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str | None] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class PostalArea(Base):
    """The area part of Iranian postal codes (their first five digits) and its centre."""

    __tablename__ = "postal_areas"

    prefix: Mapped[str] = mapped_column(String(5), primary_key=True)
    province: Mapped[str] = mapped_column(String(64), default="")
    city: Mapped[str] = mapped_column(String(64), default="")
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


EARTH_RADIUS_KM = 6371.0088


def distance_km(latitude1: float, longitude1: float, latitude2: float, longitude2: float) -> float:
    """Great-circle (haversine) distance: plenty for "which branch is nearest"."""
    phi1, phi2 = radians(latitude1), radians(latitude2)
    d_phi = phi2 - phi1
    d_lambda = radians(longitude2 - longitude1)
    h = sin(d_phi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))
