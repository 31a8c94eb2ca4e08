"""French organization identifiers in partner records: RNA (W + 9 characters), SIREN (9 digits)
and SIRET (14 digits, Luhn-checked, La Poste's exception), found in any identifier-like field
whatever its name."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors._parse import _flatten, scalar_text
from hub.catalogue.identifiers import RNA_PATTERN, luhn_valid, valid_siren, valid_siret

__all__ = [
    "Identifiers",
    "identifiers",
    "luhn_valid",
    "rna",
    "siren_siret",
    "valid_siren",
    "valid_siret",
]

_RNA_NAMED = RNA_PATTERN
_RNA = re.compile(r"W\d[0-9A-Z]\d{7}")
_ID_SEPARATORS = re.compile(r"[\s.\-]")
_NAME_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# Words of a field name that say it holds an official identifier, or just some id.
_ID_WORDS = frozenset(
    {
        "rna", "siren", "siret", "waldec", "government", "gouvernement", "gov", "identifier",
        "identifiers", "identifiant", "identifiants", "registration", "immatriculation",
        "legal", "juridique", "official", "officiel",
    }
)  # fmt: skip
_PLAIN_ID_WORDS = frozenset({"id", "ids", "number", "numero", "num", "no", "code", "ref"})
_ORG_WORDS = frozenset({"organization", "organisation", "org", "association", "asso", "structure"})


def rna(value: object) -> str | None:
    """An RNA number (W and 9 characters), or None: a bad id is dropped, not refused."""
    text = scalar_text(value)
    if text is None:
        return None
    text = text.replace(" ", "").upper()
    return text if _RNA_NAMED.fullmatch(text) else None


def siren_siret(siren: object, siret: object) -> tuple[str | None, str | None]:
    """(SIREN, SIRET) with spaces and dots removed; a SIRET given as SIREN is moved over; a
    number that fails its checksum is dropped (the record is not refused for it)."""
    digits = [_compact(scalar_text(v) or "") for v in (siren, siret)]
    found_siren = digits[0] if valid_siren(digits[0]) else None
    found_siret = next((d for d in (digits[1], digits[0]) if valid_siret(d)), None)
    if found_siren is None and found_siret is not None:
        found_siren = found_siret[:9]
    return found_siren, found_siret


def _compact(text: str) -> str:
    return _ID_SEPARATORS.sub("", text).upper()


@dataclass(frozen=True, slots=True)
class Identifiers:
    """An organization's French identifiers, as found in a partner record."""

    rna: str | None = None
    siren: str | None = None
    siret: str | None = None


def identifiers(
    organization: Mapping[str, Any] | None = None,
    record: Mapping[str, Any] | None = None,
    *,
    business: bool = True,
) -> Identifiers:
    """RNA, SIREN and SIRET from any identifier-like field, whatever the partner named it.

    In `organization` (an organization's own object) a field counts when its name says it is an
    identifier (rna, siren, siret, government id, identifier, registration number...) or is a
    plain id, number or code; in `record` (a flat mission record) a plain id counts only when
    its name starts with the organization's (organizationClientId), the mission's own id never.
    A value is known by its shape, spaces, dots and dashes removed: W and 9 characters is an RNA
    (only W, a digit, a character and 7 digits outside a field named rna, so that a word is
    never one); 14 digits passing the checksum a SIRET, 9 a SIREN. Plain ids give an RNA only
    (an internal number could pass a checksum by chance), and `business=False` (a foreign
    organization, whose tax number may look like a SIREN) reads no SIREN or SIRET. What fails
    is dropped; a field named for its kind wins over a generic one.
    """
    found: dict[str, list[tuple[bool, str]]] = {"rna": [], "siren": [], "siret": []}
    scopes = ((organization, True), (record, False))
    for fields, own in scopes:
        for key, value in (fields or {}).items():
            named, plain, hint = _role(str(key), own)
            if not named and not plain:
                continue
            for item in _flatten(value):
                text = scalar_text(item)
                kind = _kind(_compact(text), hint) if text is not None else None
                if kind is None or (kind != "rna" and (not named or not business)):
                    continue
                found[kind].append((hint == kind, _compact(text or "")))
    best = {kind: _best(values) for kind, values in found.items()}
    siret = best["siret"]
    siren = best["siren"] or (siret[:9] if siret else None)
    return Identifiers(rna=best["rna"], siren=siren, siret=siret)


@functools.lru_cache(maxsize=4096)
def _role(key: str, own: bool) -> tuple[bool, bool, str | None]:
    """What a field's name says: (names an identifier, is a plain id that counts, the kind it
    names); cached, as a feed repeats the same field names in every record."""
    words = _words(key)
    named = bool(words & _ID_WORDS)
    plain = bool(words & _PLAIN_ID_WORDS) and (own or _owned(key))
    hint = next((kind for kind in ("rna", "siren", "siret") if kind in words), None)
    return named, plain, hint


@functools.lru_cache(maxsize=4096)
def _words(name: str) -> frozenset[str]:
    """organizationRNA -> {organization, rna}; registration_number -> {registration, number}.
    Cached: a feed repeats the same few field names in every record."""
    return frozenset(word.lower() for word in _NAME_WORDS.findall(name))


@functools.lru_cache(maxsize=4096)
def _owned(name: str) -> bool:
    first = _NAME_WORDS.findall(name)[:1]
    return bool(first) and first[0].lower() in _ORG_WORDS


def _kind(compact: str, hint: str | None) -> str | None:
    if _RNA.fullmatch(compact) or (hint == "rna" and _RNA_NAMED.fullmatch(compact)):
        return "rna"
    if valid_siret(compact):
        return "siret"
    if valid_siren(compact):
        return "siren"
    return None


def _best(values: list[tuple[bool, str]]) -> str | None:
    ranked = [value for by_name, value in values if by_name] + [value for _, value in values]
    return ranked[0] if ranked else None
