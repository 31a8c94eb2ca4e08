"""Reading partner values: the rules of DESIGN.md (Dates, Lists) and the usual drift."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors._identifiers import rna, siren_siret
from connectors._parse import (
    DateOrder,
    Malformed,
    country_code,
    parse_bool,
    parse_datetime,
    parse_float,
    parse_int,
    parse_lonlat,
    place_point,
    postal_code,
    texts,
)
from hub.catalogue.model import GeoSource

MONTH, DAY = DateOrder.MONTH_FIRST, DateOrder.DAY_FIRST


@pytest.mark.parametrize(
    ("value", "order", "expected"),
    [
        ("2025-11-01", MONTH, datetime(2025, 11, 1, tzinfo=UTC)),
        ("2025-11-01T10:00:00.000Z", DAY, datetime(2025, 11, 1, 10, tzinfo=UTC)),
        ("2025-11-01T10:00:00+02:00", DAY, datetime(2025, 11, 1, 8, tzinfo=UTC)),
        ("2025-11-01 10:00:00", DAY, datetime(2025, 11, 1, 10, tzinfo=UTC)),  # naive: UTC
        ("11/01/2025", MONTH, datetime(2025, 11, 1, tzinfo=UTC)),
        ("11/01/2025", DAY, datetime(2025, 1, 11, tzinfo=UTC)),
        ("25/12/2025", MONTH, datetime(2025, 12, 25, tzinfo=UTC)),  # a part above 12 settles
        ("12/25/2025", DAY, datetime(2025, 12, 25, tzinfo=UTC)),
        ("1/2/2025 14h30", DAY, datetime(2025, 2, 1, 14, 30, tzinfo=UTC)),
        (1_767_225_600, DAY, datetime(2026, 1, 1, tzinfo=UTC)),
        (1_767_225_600_000, DAY, datetime(2026, 1, 1, tzinfo=UTC)),  # milliseconds
        ("", DAY, None),
        (None, DAY, None),
    ],
)
def test_dates(value: object, order: DateOrder, expected: datetime | None) -> None:
    assert parse_datetime(value, order) == expected


@pytest.mark.parametrize("value", ["31/31/2025", "30/02/2025", "2025-13-45", "bientôt", ["x"]])
def test_an_impossible_date_is_malformed(value: object) -> None:
    with pytest.raises(Malformed):
        parse_datetime(value, DAY)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", True), ("Oui", True), ("true", True), ("1", True), (1, True), (True, True),
        ("no", False), ("NON", False), ("false", False), ("0", False), (False, False),
        ("peut-être", None), ("", None), (None, None),
    ],
)  # fmt: skip
def test_booleans(value: object, expected: bool | None) -> None:
    assert parse_bool(value) is expected


def test_lists_split_on_commas_only_for_list_fields() -> None:
    assert texts("a, b,,a", split_commas=True) == ["a", "b"]
    assert texts("Animation, Valorisation") == ["Animation, Valorisation"]
    assert texts({"value": ["Écoute, patience", "Rigueur"]}, split_commas=True) == [
        "Écoute, patience",
        "Rigueur",
    ]
    assert texts({"value": "seule"}) == ["seule"]
    assert texts(["x", None, " y "]) == ["x", "y"]
    assert texts(None) == []


def test_numbers() -> None:
    assert parse_float("48,8566") == 48.8566  # a French decimal comma
    assert parse_float("nan") is None and parse_float(True) is None
    assert parse_int("3") == 3 and parse_int(3.0) == 3
    assert parse_int("2.5") is None and parse_int("beaucoup") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.3522,48.8566", (48.8566, 2.3522)),
        ("2.3522, 48.8566", (48.8566, 2.3522)),
        ("2.3522;48.8566", (48.8566, 2.3522)),
        ("2,3522,48,8566", (48.8566, 2.3522)),  # decimal commas too
        ("2,3522 48,8566", (48.8566, 2.3522)),
        ([2.3522, 48.8566], (48.8566, 2.3522)),  # GeoJSON order
        ("48.8566", None),
        ("", None),
    ],
)
def test_lonlat(value: object, expected: tuple[float, float] | None) -> None:
    assert parse_lonlat(value) == expected


def test_swapped_coordinates_are_put_right_in_france_only() -> None:
    assert place_point(48.85, 2.35, in_france=True) == (48.85, 2.35, GeoSource.PARTNER)
    assert place_point(2.35, 48.85, in_france=True) == (48.85, 2.35, GeoSource.PARTNER_SWAPPED)
    assert place_point(-21.1, 55.5, in_france=True) == (-21.1, 55.5, GeoSource.PARTNER)  # Réunion
    assert place_point(-73.99, 40.75, in_france=False) == (-73.99, 40.75, GeoSource.PARTNER)
    assert place_point(0.0, 0.0, in_france=True) is None  # a placeholder, not a place
    assert place_point(None, 2.35, in_france=True) is None


def test_french_postal_codes_and_identifiers() -> None:
    assert postal_code("1000", french=True) == "01000"
    assert postal_code(1000, french=True) == "01000"
    assert postal_code("75 004", french=True) == "75004"
    assert postal_code("1000", french=False) == "1000"
    assert rna("w922000733") == "W922000733"
    assert rna("922000733") is None and rna("W92") is None
    assert siren_siret("332 737 394", None) == ("332737394", None)
    assert siren_siret(None, "332.737.394.00012") == ("332737394", "33273739400012")
    assert siren_siret("33273739400012", None) == ("332737394", "33273739400012")
    assert siren_siret("12-3456", "abc") == (None, None)


def test_country_codes() -> None:
    assert country_code("France") == "FR" and country_code("fr") == "FR"
    assert country_code("Belgique") == "BE" and country_code("Narnia") is None
