"""The checks every French organization identifier passes, whoever sends it: RNA (W and 9
characters), SIREN (9 digits) and SIRET (14 digits), both Luhn-checked, with La Poste's
exception. Connectors find identifiers in partner records with them (connectors/_identifiers.py);
the pipeline refuses a record whose stated identifier fails them (a pushed mission)."""

from __future__ import annotations

import dataclasses
import re

from hub.catalogue.model import OrganizationDraft

__all__ = [
    "RNA_PATTERN",
    "compact_identifiers",
    "identifier_problem",
    "luhn_valid",
    "valid_siren",
    "valid_siret",
]

RNA_PATTERN = re.compile(r"W[0-9A-Z]{9}")
_LA_POSTE = "356000000"
_SEPARATORS = re.compile(r"[\s.\-]")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum that every SIREN and (but La Poste's) SIRET satisfies."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def valid_siren(digits: str) -> bool:
    return len(digits) == 9 and digits.isdigit() and luhn_valid(digits)


def valid_siret(digits: str) -> bool:
    """14 digits, Luhn-valid; La Poste's establishments (SIREN 356000000) may fail Luhn, their
    digits adding up to a multiple of 5 instead (INSEE's exception)."""
    if len(digits) != 14 or not digits.isdigit():
        return False
    if digits.startswith(_LA_POSTE) and sum(map(int, digits)) % 5 == 0:
        return True
    return luhn_valid(digits)


def identifier_problem(rna: str | None, siren: str | None, siret: str | None) -> str | None:
    """Why the stated identifiers cannot be an organization's, or None when they can."""
    if rna and not RNA_PATTERN.fullmatch(rna):
        return f"organization RNA {rna[:20]!r} is not W followed by 9 characters"
    if siren and not valid_siren(siren):
        return f"organization SIREN {siren[:20]!r} is not 9 digits passing the Luhn check"
    if siret and not valid_siret(siret):
        return f"organization SIRET {siret[:20]!r} is not 14 digits passing the Luhn check"
    if siren and siret and not siret.startswith(siren):
        return f"organization SIRET {siret!r} is not an establishment of SIREN {siren!r}"
    return None


def compact_identifiers(organization: OrganizationDraft) -> OrganizationDraft:
    """The identifiers as written without separators ("123 456 789"), the RNA in capitals;
    empty ones as None."""

    def compact(value: str | None, upper: bool = False) -> str | None:
        text = _SEPARATORS.sub("", value or "")
        return (text.upper() if upper else text) or None

    return dataclasses.replace(
        organization,
        rna=compact(organization.rna, upper=True),
        siren=compact(organization.siren),
        siret=compact(organization.siret),
    )
