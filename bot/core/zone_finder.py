"""A shared location -> its IANA time zone, offline (timezonefinder's polygons and index).

Only the zone leaves this module: the coordinates are neither stored nor logged. The data are
read from their files as needed: ``in_memory=True`` would add about 30 MB to the process for
no measurable gain (a lookup takes about 2 µs either way; ``bench/zone_lookup.py``). Importing
and opening them takes about 0.3 s once; ``warm_up`` lets a transport pay that at start-up
instead of on the first user's tap.
"""

from __future__ import annotations

import math
from functools import cache

from timezonefinder import TimezoneFinder

from bot.core.schedule import current_zone, is_zone

__all__ = ["warm_up", "zone_at"]


@cache
def _finder() -> TimezoneFinder:
    return TimezoneFinder(in_memory=False)


def warm_up() -> None:
    """Load the zone polygons now."""
    _finder()


def zone_at(latitude: float, longitude: float) -> str | None:
    """The IANA zone at a point on land (or in territorial waters), or None.

    None too for impossible coordinates and for the open sea, whose "Etc/GMT+n" zones are no
    place a user would pick.
    """
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    found = _finder().timezone_at(lat=latitude, lng=longitude)
    if found is None or found.startswith("Etc/"):
        return None
    zone = current_zone(found)
    return zone if is_zone(zone) else None
