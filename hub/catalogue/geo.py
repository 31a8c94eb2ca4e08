"""Offline geocoding from the shipped communes table (no network at run time)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from hub.catalogue.text import fold

__all__ = ["EARTH_RADIUS_KM", "Commune", "communes", "distance_km", "locate"]

EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance; SQLite calls it, PostgreSQL runs the same formula."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class Commune:
    postal_code: str
    name: str
    latitude: float
    longitude: float
    department_code: str
    region: str


@dataclass(frozen=True, slots=True)
class _Index:
    by_postal_code: dict[str, list[Commune]]
    by_name: dict[str, list[Commune]]


def _key(name: str) -> str:
    return " ".join(fold(name).replace("-", " ").replace("'", " ").split())


@cache
def _index() -> _Index:
    by_postal_code: dict[str, list[Commune]] = {}
    by_name: dict[str, list[Commune]] = {}
    source = files("hub.catalogue") / "data" / "communes-fr.csv"
    with source.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["latitude"] or not row["longitude"]:
                continue
            commune = Commune(
                postal_code=row["postal_code"],
                name=row["commune"],
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                department_code=row["department_code"],
                region=row["region"],
            )
            by_postal_code.setdefault(commune.postal_code, []).append(commune)
            key = _key(commune.name)
            by_name.setdefault(key, []).append(commune)
            base, _, number = key.rpartition(" ")
            if base and number.isdigit():  # "Paris 04" also answers to "Paris"
                by_name.setdefault(base, []).append(commune)
    return _Index(by_postal_code, by_name)


def communes() -> list[Commune]:
    """Every commune with coordinates, in the table's order."""
    return [c for group in _index().by_postal_code.values() for c in group]


def locate(postal_code: str | None = None, city: str | None = None) -> Commune | None:
    """The commune for a postal code (the one named `city` when several share it), else by name."""
    index = _index()
    candidates = index.by_postal_code.get(postal_code or "", [])
    if city and candidates:
        named = [c for c in candidates if _key(c.name) == _key(city)]
        if named:
            return named[0]
    if candidates:
        return candidates[0]
    if city:
        by_name = index.by_name.get(_key(city), [])
        if by_name:
            return by_name[0]
    return None
