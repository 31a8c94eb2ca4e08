"""French identifiers wherever a partner puts them: RNA, SIREN and SIRET by shape and checksum."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from connectors import ConnectorConfig, get_connector
from connectors._identifiers import Identifiers, identifiers, valid_siren, valid_siret
from hub.catalogue.model import MissionDraft, OrganizationDraft
from hub.storage.tables import organizations
from tests.conftest import Store, run

LA_POSTE_SIRET = "35600000049837"  # fails Luhn, its digits add up to 45: INSEE's exception


@pytest.mark.parametrize(
    ("digits", "siren", "siret"),
    [
        ("332737394", True, False),
        ("332737395", False, False),  # one digit off: the checksum fails
        ("33273739400012", False, True),
        ("33273739400013", False, False),
        ("356000000", True, False),  # La Poste's SIREN passes Luhn
        (LA_POSTE_SIRET, False, True),
        ("35600000049838", False, False),
        ("12345678", False, False),
    ],
)
def test_checksums(digits: str, siren: bool, siret: bool) -> None:
    assert (valid_siren(digits), valid_siret(digits)) == (siren, siret)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"government_id": "W751234567"}, Identifiers(rna="W751234567")),
        ({"identifier": " w 751 234 567 "}, Identifiers(rna="W751234567")),
        ({"governmentId": "W751234567"}, Identifiers(rna="W751234567")),
        (
            {"registration_number": "332 737 394 00012"},
            Identifiers(siren="332737394", siret="33273739400012"),
        ),
        ({"siret": "332.737.394.00012"}, Identifiers(siren="332737394", siret="33273739400012")),
        ({"SIREN": "332737394"}, Identifiers(siren="332737394")),
        ({"rna": "W9M1000123"}, Identifiers(rna="W9M1000123")),  # Mayotte: a letter in it
        ({"siret": LA_POSTE_SIRET}, Identifiers(siren="356000000", siret=LA_POSTE_SIRET)),
        # A number failing its checksum is not used as one.
        ({"siret": "33273739400013"}, Identifiers()),
        ({"identifier": "332737395"}, Identifiers()),
        # Several ids, in a list of typed objects.
        (
            {"identifiers": [{"type": "SIRET", "value": "33273739400012"}, "W922000733"]},
            Identifiers(rna="W922000733", siren="332737394", siret="33273739400012"),
        ),
        # A field named for its kind wins over a generic one.
        (
            {"identifier": "W111111111", "organizationRNA": "W922000733"},
            Identifiers(rna="W922000733"),
        ),
        # The mission's own ids and text fields are never read as identifiers...
        ({"clientId": "W751234567", "title": "W751234567"}, Identifiers()),
        # ...but the organization's own plain id may be its RNA (never a SIREN: an internal
        # number can pass a checksum by chance).
        ({"organizationClientId": "W751234567"}, Identifiers(rna="W751234567")),
        ({"organizationId": "332737394"}, Identifiers()),
        # Words are not RNA numbers, even ten letters long starting with W.
        ({"identifier": "WORKSHOP12"}, Identifiers()),
    ],
)
def test_identifiers_in_a_flat_record(fields: dict[str, Any], expected: Identifiers) -> None:
    assert identifiers(None, fields) == expected


def test_an_organizations_own_object_and_foreign_tax_numbers() -> None:
    org = {"id": "W751079364", "name": "Asso", "governmentId": "332737394"}
    assert identifiers(org) == Identifiers(rna="W751079364", siren="332737394")
    # Outside France a 9-digit government id is a tax number such as an EIN, not a SIREN.
    assert identifiers(org, business=False) == Identifiers(rna="W751079364")


def api_engagement(record: dict[str, Any]) -> MissionDraft:
    connector = get_connector("api-engagement-api")(
        ConnectorConfig(url="https://api.example", api_key="k")
    )
    outcome = connector.normalise(
        {"_id": "m1", "title": "Mission", "applicationUrl": "https://p.example/m1", **record}
    )
    assert isinstance(outcome, MissionDraft), outcome
    return outcome


def test_api_engagement_reads_a_generic_identifier_and_keeps_a_bad_record() -> None:
    draft = api_engagement({"organizationName": "Asso", "government_id": "W751234567"})
    assert draft.organization == OrganizationDraft("Asso", rna="W751234567")
    nested = api_engagement(
        {
            "organizationName": "Asso",
            "organization": {"registration_number": "33273739400012", "siren": "123456789"},
        }
    )
    # The SIREN fails its checksum and is dropped; the SIRET gives the SIREN it holds.
    assert nested.organization == OrganizationDraft(
        "Asso", siren="332737394", siret="33273739400012"
    )
    bad = api_engagement({"organizationName": "Asso", "siret": "33273739400013"})
    assert bad.organization == OrganizationDraft("Asso")  # not refused for it


def test_idealist_reads_an_rna_in_any_org_field_and_a_siret_in_france_only() -> None:
    connector = get_connector("idealist-json")(
        ConnectorConfig(url="https://idealist.example/api/v1", api_key="k")
    )

    def org_of(country: str, org: dict[str, Any]) -> OrganizationDraft | None:
        outcome = connector.normalise(
            {
                "id": "F1",
                "name": "Mentorat",
                "applyUrl": "https://idealist.example/f1",
                "address": {"city": "Lyon", "country": country},
                "org": {"name": "Asso", **org},
            }
        )
        assert isinstance(outcome, MissionDraft), outcome
        return outcome.organization

    assert org_of("FR", {"identifier": "W691055287"}) == OrganizationDraft("Asso", rna="W691055287")
    assert org_of("FR", {"governmentId": LA_POSTE_SIRET}) == OrganizationDraft(
        "Asso", siren="356000000", siret=LA_POSTE_SIRET
    )
    assert org_of("US", {"governmentId": "332737394"}) == OrganizationDraft("Asso")


def test_an_rna_in_a_generic_field_matches_the_organization_across_partners(
    store: Store, settings: Any
) -> None:
    named = api_engagement({"organizationName": "Les Restos", "organizationRNA": "W751079364"})
    generic = api_engagement(
        {"_id": "m2", "organizationName": "Restaurants du Cœur", "identifier": "W751079364"}
    )
    store.ingest("one", [named])
    store.ingest("two", [generic])

    async def count() -> int:
        from hub.storage.db import make_engine

        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                query = select(func.count()).select_from(organizations)
                return int((await conn.execute(query)).scalar_one())
        finally:
            await engine.dispose()

    assert run(count()) == 1  # two names, one RNA: one organization
