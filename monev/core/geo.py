"""Distances on the earth and how a visit photo's distance is told (no database, no I/O).

A photo's distance is the great-circle (haversine) distance between the position its device
reported and the visit's coordinates, in whole metres."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import format_decimal
from flask_babel import gettext as _

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
FAR_DEFAULT_M = 500


def distance_m(lat1, lon1, lat2, lon2) -> int:
    """The haversine distance between two points in degrees, rounded to whole metres."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp = p2 - p1
    dl = math.radians(float(lon2) - float(lon1))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h))))


def format_distance(metres: int) -> str:
    """ "120 m" below a kilometre, "1,2 km" (one decimal) from one kilometre on."""
    if metres < 1000:
        return f"{format_decimal(metres, '#,##0')} m"
    km = (Decimal(metres) / 1000).quantize(Decimal("0.1"))
    return f"{format_decimal(km, '#,##0.0')} km"


@dataclass(frozen=True)
class PhotoPlace:
    """How a photo's place reads: ``text`` for people, and ``warning`` when the photo was
    taken farther from the KIM than the organiser allows."""

    text: str
    warning: str | None = None

    @property
    def full(self) -> str:
        return f"{self.text} · {self.warning}" if self.warning else self.text


def photo_place(
    distance: int | None, *, has_position: bool, visit_located: bool, far_m: int
) -> PhotoPlace:
    """ "taken 120 m from the KIM's location" (with a warning beyond ``far_m``), or why there
    is no distance: the photo carries no position, or the visit has no coordinates."""
    if not has_position:
        return PhotoPlace(_("no position"))
    if not visit_located or distance is None:
        return PhotoPlace(_("the KIM's location is not set"))
    return PhotoPlace(
        _("taken %(distance)s from the KIM's location", distance=format_distance(distance)),
        _("far from the KIM's location") if distance > far_m else None,
    )
