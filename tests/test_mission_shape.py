"""One mission shape: `MissionDraft` (hub.catalogue.model) is the declaration; the table, the
record, the push input, the GraphQL type and the match state follow it. This test walks the
draft's fields and says where one is missing, so that adding a field is a checklist, not a hunt.

Every exception is listed here, with why.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import connectors
from hub.catalogue.match_state import MatchState
from hub.catalogue.model import Location, MissionDraft, OrganizationDraft, Refusal
from hub.catalogue.records import (
    Commitment,
    LocationRecord,
    MissionRecord,
    OrganizationRecord,
    Places,
)
from hub.ingest import pipeline
from hub.storage.tables import (
    mission_causes,
    mission_locations,
    mission_skills,
    missions,
    organizations,
)
from hub.storage.writer import DRAFT_NOT_COLUMNS
from schema import types
from schema.push import LocationInput, MissionInput, OrganizationInput

DRAFT_FIELDS = [f.name for f in dataclasses.fields(MissionDraft)]

# Where a draft field is stored when it is not a `missions` column of its own name.
STORED_ELSEWHERE: dict[str, Any] = {
    "locations": mission_locations.c.mission_pk,  # one row per location
    "causes": mission_causes.c.cause,  # canonical slugs; the raw labels in `raw`
    "skills": mission_skills.c.skill,  # canonical slugs; the raw labels in `raw`
    "organization": missions.c.organization_pk,  # merged across partners in `organizations`
    "raw_causes": missions.c.raw,  # {"causes": [...]}
    "raw_skills": missions.c.raw,  # {"skills": [...]}
}

# Where the record (and the GraphQL type, which reads the record) nests a draft field.
NESTED = {
    "hours_per_week_min": ("commitment", "hours_per_week_min"),
    "hours_per_week_max": ("commitment", "hours_per_week_max"),
    "total_hours": ("commitment", "total_hours"),
    "commitment_kind": ("commitment", "kind"),
    "schedule_label": ("commitment", "schedule_label"),
    "places_total": ("places", "total"),
    "places_remaining": ("places", "remaining"),
}
# Kept in `MissionRecord.raw` and read from there by the GraphQL type's resolvers.
IN_RAW = {"raw_causes", "raw_skills"}
# Not in the push input: the hub keeps the partner's raw labels itself (`causes` and `skills`
# take the partner's own labels, mapped by the pipeline).
NOT_PUSHED = {"raw_causes", "raw_skills"}
# Location fields a partner does not send: the pipeline says how the point was found.
LOCATION_NOT_PUSHED = {"geo_source"}


def _strawberry_fields(cls: Any) -> set[str]:
    return {f.python_name for f in cls.__strawberry_definition__.fields}


def _record_fields(cls: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("name", DRAFT_FIELDS)
def test_every_draft_field_is_stored(name: str) -> None:
    if name in STORED_ELSEWHERE:
        assert name in DRAFT_NOT_COLUMNS, f"the writer would write {name} to a column"
        assert STORED_ELSEWHERE[name] is not None
    else:
        assert name in missions.c, f"missions has no column {name!r}: add it and a migration"
        # external_id is the key: written once, at creation, never updated.
        assert name not in DRAFT_NOT_COLUMNS or name == "external_id"


@pytest.mark.parametrize("name", DRAFT_FIELDS)
def test_every_draft_field_is_in_the_record_and_the_graphql_type(name: str) -> None:
    record, graphql = _record_fields(MissionRecord), _strawberry_fields(types.Mission)
    if name in IN_RAW:
        assert "raw" in record and name in graphql  # a resolver over record.raw
    elif name in NESTED:
        parent, child = NESTED[name]
        nested_record = {"commitment": Commitment, "places": Places}[parent]
        nested_type = {"commitment": types.Commitment, "places": types.Places}[parent]
        assert parent in record and parent in graphql, name
        assert child in _record_fields(nested_record), name
        assert child in _strawberry_fields(nested_type), name
    else:
        assert name in record, f"MissionRecord has no {name!r}"
        assert name in graphql, f"the GraphQL Mission type has no {name!r}"


@pytest.mark.parametrize("name", DRAFT_FIELDS)
def test_every_draft_field_can_be_pushed(name: str) -> None:
    pushed = {f.name for f in dataclasses.fields(MissionInput)}
    assert (name in pushed) is (name not in NOT_PUSHED), name


def test_locations_and_organizations_have_one_shape() -> None:
    for name in (f.name for f in dataclasses.fields(Location)):
        assert name in mission_locations.c, name
        assert name in _record_fields(LocationRecord), name
        assert name in _strawberry_fields(types.Location), name
        pushed = {f.name for f in dataclasses.fields(LocationInput)}
        assert (name in pushed) is (name not in LOCATION_NOT_PUSHED), name
    for name in (f.name for f in dataclasses.fields(OrganizationDraft)):
        assert name in organizations.c, name
        assert name in _record_fields(OrganizationRecord), name
        assert name in _strawberry_fields(types.Organization), name
        assert name in {f.name for f in dataclasses.fields(OrganizationInput)}, name


def test_the_record_reads_every_other_field_from_its_column() -> None:
    """MissionRecord.from_row reads each field not built otherwise from the column of its name."""
    from hub.catalogue.records import _NOT_COLUMNS

    for f in dataclasses.fields(MissionRecord):
        assert f.name in _NOT_COLUMNS or f.name in missions.c, f.name


def test_the_match_state_is_named_as_the_mission() -> None:
    """What the state copies by name exists on the draft or as a column, so `derive` finds it
    on a draft and on a stored row alike."""
    given = {"partner", "organization_pk", "causes", "skills", "locations", "search_text"}
    for f in dataclasses.fields(MatchState):
        if f.name in given:
            continue
        assert f.name in missions.c, f.name
        assert f.name in DRAFT_FIELDS or f.name in {"status", "updated_at"}, f.name


def test_one_refusal_type_from_connectors_to_pipeline() -> None:
    assert connectors.Refused is Refusal
    assert pipeline.Refusal is Refusal
    refused = pipeline.prepare(MissionDraft(external_id="x", title=""))
    assert isinstance(refused, connectors.Refused) and refused.reason == "missing title"


def _sample(name: str, hint: str) -> Any:
    """A value of a draft field's type, read from its annotation ("float | None": 1.5)."""
    for kind, value in (("list", [name]), ("bool", True), ("float", 1.5), ("int", 3)):
        if hint.startswith(kind):
            return value
    return f"https://p.example/{name}" if name.endswith("url") else name


def test_a_push_carries_every_field_to_the_draft() -> None:
    """Every input field reaches the draft: the plain ones (filled here from their types, so a
    new field is covered as it comes) by name, the others converted."""
    from schema.push import _CONVERTED, to_draft

    draft_hints = {f.name: str(f.type) for f in dataclasses.fields(MissionDraft)}
    plain = {
        f.name: _sample(f.name, draft_hints[f.name])
        for f in dataclasses.fields(MissionInput)
        if f.name not in _CONVERTED
    }
    item = MissionInput(
        **plain,
        engagement_type="civic_service",
        remote="possible",
        locations=[LocationInput(street="1 rue", postal_code="69001", city="Lyon", latitude=45.7)],
        start_at="2026-12-01",
        end_at="2026-12-31T10:00:00+01:00",
        posted_at="2026-11-01T00:00:00Z",
        commitment_kind="recurring",
        organization=OrganizationInput(name="Les Amis", rna="W123456789", logo="https://l"),
    )
    draft = to_draft(item)
    assert isinstance(draft, MissionDraft)
    for name, value in plain.items():
        assert getattr(draft, name) == value, name
    for name in _CONVERTED:
        assert getattr(draft, name) not in (None, []), name
    assert draft.locations[0] == Location(street="1 rue", postal_code="69001", city="Lyon",
                                          latitude=45.7)  # fmt: skip
    assert draft.organization == OrganizationDraft(name="Les Amis", rna="W123456789",
                                                   logo="https://l")  # fmt: skip
    assert (draft.remote, draft.commitment_kind) == ("POSSIBLE", "RECURRING")
    assert draft.end_at is not None and draft.end_at.hour == 9
