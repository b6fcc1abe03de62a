"""`PlaceRecords`: where callers can go, on Tamas's own tables — branches and agencies near a
postal code, medical centres, claim-payment centres — part of the insurer's core records.
"""

from __future__ import annotations

from datetime import date
from math import cos, radians
from typing import Any

from sqlalchemy import literal_column, or_, select

from customer_file.identifiers import validate_postal_code
from customer_file.views import BranchView, CentreView
from integrations.customer_file.places import (
    Branch,
    MedicalCentre,
    PaymentCentre,
    PostalArea,
    distance_km,
)
from integrations.customer_file.rows import branch_view
from integrations.customer_file.stores import Store

# Search radii for branches_near, widened until enough branches are found; None: anywhere.
_BRANCH_RADII_KM = (25.0, 100.0, 400.0, None)
_KM_PER_DEGREE = 111.2


class PlaceRecords(Store):
    """Branches, agencies, medical and payment centres, and the postal areas locating them."""

    async def _postal_area(self, postal_code: str) -> tuple[float, float] | None:
        """Where a postal code is: its area's centre (five-digit prefix), else the first area
        sharing a shorter prefix. Raises InvalidIdentifier for a malformed postal code."""
        prefix = validate_postal_code(postal_code)[:5]
        centre = select(PostalArea.latitude, PostalArea.longitude)
        async with self._reading() as connection:
            area = (await connection.execute(centre.where(PostalArea.prefix == prefix))).first()
            # An area not on file yet: fall back to the district (3 digits), then the
            # region (2 digits), which still points at the right city.
            for length in (3, 2):
                if area is not None:
                    break
                area = (
                    await connection.execute(
                        centre.where(PostalArea.prefix.startswith(prefix[:length]))
                        .order_by(PostalArea.prefix)
                        .limit(1)
                    )
                ).first()
        return None if area is None else (area.latitude, area.longitude)

    async def branches_near(self, postal_code: str, limit: int = 3) -> list[BranchView]:
        area = await self._postal_area(postal_code)
        if area is None:
            return []
        latitude, longitude = area
        today = date.today()
        async with self._reading() as connection:
            for radius in _BRANCH_RADII_KM:
                statement = select(Branch.__table__).where(
                    or_(Branch.licence_end.is_(None), Branch.licence_end >= today)
                )
                if radius is not None:
                    # A box around the caller that the (latitude, longitude) index narrows.
                    d_lat = radius / _KM_PER_DEGREE
                    d_lon = radius / (_KM_PER_DEGREE * max(0.1, cos(radians(latitude))))
                    statement = statement.where(
                        Branch.latitude.between(latitude - d_lat, latitude + d_lat),
                        Branch.longitude.between(longitude - d_lon, longitude + d_lon),
                    )
                branches = (await connection.execute(statement)).all()
                ranked = sorted(
                    (
                        (distance_km(latitude, longitude, b.latitude, b.longitude), b.id, b)
                        for b in branches
                    ),
                    key=lambda item: (item[0], item[1]),
                )
                within = [item for item in ranked if radius is None or item[0] <= radius]
                if len(within) >= limit or radius is None:
                    return [branch_view(branch, distance) for distance, _, branch in within[:limit]]
        return []

    async def medical_centres(self, city: str | None = None) -> list[CentreView]:
        no_hours: Any = literal_column("''")
        return await self._centres(MedicalCentre, MedicalCentre.kind, no_hours, city)

    async def payment_centres(self, city: str | None = None) -> list[CentreView]:
        kind: Any = literal_column("'payment'")
        return await self._centres(PaymentCentre, kind, PaymentCentre.opening_hours, city)

    async def _centres(
        self,
        table: type[MedicalCentre] | type[PaymentCentre],
        kind: Any,
        opening_hours: Any,
        city: str | None,
    ) -> list[CentreView]:
        """Centres in CentreView's field order, by city then name."""
        statement = select(
            table.id,
            kind,
            table.name_fa,
            table.name_en,
            table.city,
            table.address_fa,
            table.phone,
            opening_hours,
        ).order_by(table.city, table.name_fa)
        if city:
            statement = statement.where(table.city == city)
        async with self._reading() as connection:
            rows = (await connection.execute(statement)).all()
        return [CentreView(*row) for row in rows]
