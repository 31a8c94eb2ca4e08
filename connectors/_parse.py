"""Reading partner values: dates, booleans, lists, numbers, coordinates (French identifiers:
connectors._identifiers).

Every connector reads the same kinds of drift (a slash date, "oui", a comma-separated list, a
"lon,lat" string, a 4-digit postal code), so the rules live here once. Helpers return None for
an absent or unusable optional value and raise `Malformed` only where DESIGN.md makes the value
a reason to refuse the record (an impossible date, a missing id or title).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from hub.catalogue.model import GeoSource

__all__ = [
    "DateOrder",
    "Fields",
    "Malformed",
    "country_code",
    "parse_bool",
    "parse_datetime",
    "parse_float",
    "parse_int",
    "parse_lonlat",
    "place_point",
    "postal_code",
    "texts",
]


class Malformed(ValueError):
    """A record that cannot become a mission; the message is the refusal's reason."""


class DateOrder(enum.StrEnum):
    """How a partner writes slash dates; a part above 12 overrides it (DESIGN.md, Dates)."""

    MONTH_FIRST = "MONTH_FIRST"  # 11/01/2025 is 1 November (API Engagement's own importer)
    DAY_FIRST = "DAY_FIRST"  # 11/01/2025 is 11 January (what most French partners mean)


_SLASH_DATE = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2})[:h](\d{2})(?::(\d{2}))?)?$", re.IGNORECASE
)
_TRUE = frozenset({"yes", "oui", "true", "1", "y", "o", "vrai"})
_FALSE = frozenset({"no", "non", "false", "0", "n", "faux"})
_COUNTRIES = {
    "france": "FR",
    "belgique": "BE",
    "belgium": "BE",
    "suisse": "CH",
    "switzerland": "CH",
    "luxembourg": "LU",
    "allemagne": "DE",
    "germany": "DE",
    "espagne": "ES",
    "spain": "ES",
    "italie": "IT",
    "italy": "IT",
    "royaume-uni": "GB",
    "united kingdom": "GB",
    "uk": "GB",
    "canada": "CA",
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "etats-unis": "US",
    "états-unis": "US",
}
# Metropolitan France; a point that fits only once swapped was written (lon, lat).
_FR_LAT = (41.0, 51.5)
_FR_LON = (-5.5, 10.0)


# French identifiers: an RNA is W and 9 characters (the department's 3, then 6 digits).
def _type_name(value: object) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "text" if isinstance(value, str) else type(value).__name__


def scalar_text(value: object) -> str | None:
    """A scalar as stripped text; None for absent, empty or structured values."""
    if type(value) is str:  # the most of them, asked first
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float):
        return None if isinstance(value, float) and not math.isfinite(value) else str(value)
    return None


def parse_datetime(value: object, order: DateOrder = DateOrder.DAY_FIRST) -> datetime | None:
    """ISO 8601, a slash date in `order`, or epoch seconds; aware, in UTC.

    Naive values are taken as UTC: partners rarely say, and a date-only value then keeps its
    calendar day wherever it is shown in UTC. An impossible date raises `Malformed`.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value) / (1000 if abs(value) > 1e11 else 1)  # milliseconds are common
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise Malformed(f"impossible date {value!r}") from exc
    if not isinstance(value, str):
        raise Malformed(f"a date is {_type_name(value)}, not text")
    text = value.strip()
    match = _SLASH_DATE.match(text)
    if match:
        return _slash_date(text, match, order)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Malformed(f"impossible date {text!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _slash_date(text: str, match: re.Match[str], order: DateOrder) -> datetime:
    first, second, year = int(match[1]), int(match[2]), int(match[3])
    month, day = (first, second) if order is DateOrder.MONTH_FIRST else (second, first)
    if month > 12 and day <= 12:  # a part above 12 settles it
        month, day = day, month
    hour, minute, sec = (int(match[4] or 0), int(match[5] or 0), int(match[6] or 0))
    try:
        return datetime(year, month, day, hour, minute, sec, tzinfo=UTC)
    except ValueError as exc:
        raise Malformed(f"impossible date {text!r}") from exc


def parse_bool(value: object) -> bool | None:
    """yes/no, oui/non, true/false, 1/0; None when absent or unrecognised."""
    if isinstance(value, bool):
        return value
    text = scalar_text(value)
    if text is None:
        return None
    folded = text.lower()
    return True if folded in _TRUE else False if folded in _FALSE else None


def parse_float(value: object) -> float | None:
    """A finite number; a French decimal comma ("48,85") is read as a point."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    text = scalar_text(value)
    if text is None:
        return None
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_int(value: object) -> int | None:
    """A whole number, from a number or digits; None for anything else ("beaucoup", 2.5)."""
    number = parse_float(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def parse_lonlat(value: object) -> tuple[float, float] | None:
    """A "lon,lat" string (or a [lon, lat] pair, GeoJSON order) as (latitude, longitude)."""
    if isinstance(value, list | tuple):
        parts: list[object] = list(value)
    else:
        text = scalar_text(value)
        parts = list(_lonlat_parts(text)) if text is not None else []
    if len(parts) != 2:
        return None
    lon, lat = parse_float(parts[0]), parse_float(parts[1])
    return None if lon is None or lat is None else (lat, lon)


def _lonlat_parts(text: str) -> list[str]:
    if ";" in text:
        parts = text.split(";")
    elif "." in text:  # decimal points: commas and spaces separate
        parts = re.split(r"[,\s]+", text)
    elif re.search(r"\s", text):  # "2,35 48,85": decimal commas, a space between
        parts = text.split()
    else:  # "2,35,48,85" is two numbers with decimal commas; "2,48" two whole ones
        pieces = text.split(",")
        parts = pieces if len(pieces) == 2 else []
        if len(pieces) == 4:
            parts = [f"{pieces[0]}.{pieces[1]}", f"{pieces[2]}.{pieces[3]}"]
    return [part for part in parts if part.strip()]


def place_point(
    latitude: float | None, longitude: float | None, *, in_france: bool
) -> tuple[float, float, GeoSource] | None:
    """A partner's point, put right when it was given swapped; None when unusable.

    (0, 0) is a placeholder, not a place. Swaps are detected for metropolitan France only,
    where the latitude and longitude windows do not overlap; elsewhere the point is kept as
    given and the pipeline checks its ranges.
    """
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        return None
    if in_france and not _in_france(latitude, longitude) and _in_france(longitude, latitude):
        return longitude, latitude, GeoSource.PARTNER_SWAPPED
    return latitude, longitude, GeoSource.PARTNER


def _in_france(latitude: float, longitude: float) -> bool:
    return _FR_LAT[0] <= latitude <= _FR_LAT[1] and _FR_LON[0] <= longitude <= _FR_LON[1]


def country_code(value: object) -> str | None:
    """ISO 3166-1 alpha-2 from a code or a common name; None when unknown."""
    text = scalar_text(value)
    if text is None:
        return None
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return _COUNTRIES.get(text.lower())


def postal_code(value: object, *, french: bool) -> str | None:
    """A postal code without spaces; a French one that lost its leading zero gets it back."""
    text = scalar_text(value)
    if text is None:
        return None
    text = text.replace(" ", "")
    if french and len(text) == 4 and text.isdigit():  # "1000" for 01000: a spreadsheet ate it
        return "0" + text
    return text


def texts(value: object, *, split_commas: bool = False) -> list[str]:
    """A list field as text items, without blanks or repeats.

    Items come as a JSON list, as XML `<value>` children (a mapping of child tags), or as one
    string; one string is split on commas only for list fields (DESIGN.md, Lists), so that an
    `activity` such as "Animation, Valorisation" stays one value.
    """
    if isinstance(value, str) and split_commas:
        items: Iterable[object] = value.split(",")
    else:
        items = _flatten(value)
    out: list[str] = []
    for item in items:
        text = scalar_text(item)
        if text is not None and text not in out:
            out.append(text)
    return out


def _flatten(value: object) -> Iterator[object]:
    if type(value) is str:  # a leaf, the most of them (before the ABC checks below)
        yield value
    elif isinstance(value, Mapping):
        for child in value.values():
            yield from _flatten(child)
    elif isinstance(value, list | tuple):
        for child in value:
            yield from _flatten(child)
    elif value is not None:
        yield value


class Fields:
    """One partner record read field by field, each field under any of its known names."""

    __slots__ = ("_raw",)

    def __init__(self, raw: object, what: str = "record") -> None:
        if type(raw) is not dict and not isinstance(raw, Mapping):
            raise Malformed(f"{what} is {_type_name(raw)}, not an object")
        self._raw: Mapping[str, Any] = raw

    @property
    def raw(self) -> Mapping[str, Any]:
        return self._raw

    def get(self, *names: str) -> Any:
        """The first of `names` that is present and not null (drift: organizationRna...)."""
        for name in names:
            value = self._raw.get(name)
            if value is not None and value != "":
                return value
        return None

    def text(self, *names: str) -> str | None:
        """Text, or None: an optional field that arrives structured is as good as absent."""
        return scalar_text(self.get(*names))

    def required(self, *names: str) -> str:
        value = self.get(*names)
        text = scalar_text(value)
        if text is None:
            shape = "" if value is None else f" (it is {_type_name(value)}, not text)"
            raise Malformed(f"missing {names[0]}{shape}")
        return text

    def sub(self, *names: str) -> Fields | None:
        value = self.get(*names)
        return Fields(value) if isinstance(value, Mapping) else None

    def subs(self, *names: str, items: tuple[str, ...] = ()) -> list[Fields]:
        """Nested objects: a JSON list, or an XML container whose children are named `items`."""
        return [Fields(found) for found in _objects(self.get(*names), items)]

    def texts(self, *names: str, split_commas: bool = False) -> list[str]:
        return texts(self.get(*names), split_commas=split_commas)

    def flag(self, *names: str) -> bool | None:
        return parse_bool(self.get(*names))

    def integer(self, *names: str) -> int | None:
        return parse_int(self.get(*names))

    def number(self, *names: str) -> float | None:
        return parse_float(self.get(*names))

    def date(self, *names: str, order: DateOrder) -> datetime | None:
        try:
            return parse_datetime(self.get(*names), order)
        except Malformed as exc:
            raise Malformed(f"{names[0]}: {exc}") from exc


def _objects(value: object, items: tuple[str, ...]) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _objects(item, items)
    elif isinstance(value, Mapping):
        inner = next((value[name] for name in items if name in value), None)
        if inner is None:
            yield value
        else:
            yield from _objects(inner, items)
