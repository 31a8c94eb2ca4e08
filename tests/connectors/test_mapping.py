"""Declarative mappings: validation that names the bad key, and each named transform."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors import Close, ConfigError, ConnectorConfig, DateOrder, Refused, get_connector
from connectors._reading import read_record
from connectors.mapping import MappingError, PartnerMapping
from connectors.volunteermatch import MAPPING as VOLUNTEERMATCH
from hub.catalogue.model import CommitmentKind, EngagementType, GeoSource, MissionDraft, Remote

BASE: dict[str, Any] = {
    "protocol": "json-rest",
    "request": {"path": "/missions"},
    "records": "items",
    "paging": {"kind": "page-number"},
    "fields": {"external_id": "id", "title": "name"},
}


def mapping(**fields: Any) -> PartnerMapping:
    return PartnerMapping.parse({**BASE, "fields": {**BASE["fields"], **fields}})


def draft(record: dict[str, Any], *, order: DateOrder = DateOrder.DAY_FIRST, **fields: Any) -> Any:
    outcome = read_record({"id": "m1", "name": "Aider", **record}, mapping(**fields), order)
    assert isinstance(outcome, MissionDraft), outcome
    return outcome


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fields": {"external_id": "id", "titel": "name"}}, "unknown unified field 'titel'"),
        ({"fields": {"external_id": "id"}}, "must say where 'title' is"),
        ({"request": {"paht": "/x"}}, "request.paht: unknown key"),
        ({"paging": {"kind": "pages"}}, "paging.kind: Input should be"),
        ({"paging": {"kind": "none"}}, "paging: a json-rest mapping needs a paging kind"),
        ({"records": "items[?"}, "records: not a JMESPath expression"),
        (
            {"fields": {"external_id": "id", "title": "a.["}},
            "fields.title.path: not a JMESPath expression: 'a.['",
        ),
        (
            {"fields": {"external_id": "id", "title": {"path": "x", "transform": "upper"}}},
            "fields.title.transform.0: Input should be",
        ),
        (
            {"fields": {"external_id": "id", "title": {"path": "x", "transform": "labels"}}},
            "needs `labels:",
        ),
        ({"fields": {"external_id": "id", "title": {}}}, "needs a `path` or a constant `value`"),
        ({"protocol": "soap"}, "protocol: Input should be"),
        ({"protocol": "graphql"}, "a graphql mapping needs its query"),
        (
            {"protocol": "graphql", "request": {"document": "query { missions { id "}},
            "request.document: not a GraphQL document",
        ),
        ({"paging": {"kind": "limit-skip", "total": "meta[0].total"}}, "a plain dotted path"),
        ({"version": 3}, "version: unknown key"),
    ],
)
def test_a_bad_mapping_is_refused_naming_the_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(MappingError) as caught:
        PartnerMapping.parse({**BASE, **change})

    assert message in str(caught.value)
    assert isinstance(caught.value, ConfigError)


def test_a_mapping_is_an_object() -> None:
    with pytest.raises(MappingError, match="a mapping is an object of keys"):
        PartnerMapping.parse(["protocol", "graphql"])


def test_a_mapping_goes_to_the_connector_of_its_protocol_only() -> None:
    with pytest.raises(MappingError, match="the mapping is for protocol json-rest"):
        get_connector("graphql")(ConnectorConfig(url="https://p.example", mapping=BASE))
    with pytest.raises(ConfigError, match="reads the partner's mapping, and none is set"):
        get_connector("json-rest")(ConnectorConfig(url="https://p.example"))
    with pytest.raises(ConfigError, match="needs an api key"):
        get_connector("json-rest")(
            ConnectorConfig(
                url="https://p.example", mapping={**BASE, "auth": {"kind": "api-key-header"}}
            )
        )


def test_what_is_stored_reads_back_the_same() -> None:
    stored = VOLUNTEERMATCH.document()

    assert PartnerMapping.parse(stored) == VOLUNTEERMATCH
    assert "searchOpportunities" in stored["request"]["document"]


def test_the_first_non_empty_path_wins() -> None:
    found = draft({"summary": "", "teaser": "  ", "text": "Le texte"}, description=["summary",
                  "teaser", "text", "other"])  # fmt: skip

    assert found.description == "Le texte"


def test_dates_in_a_format_or_in_the_partner_s_order() -> None:
    found = draft(
        {"from": "31.12.2026", "to": "03/04/2027", "posted": 1_767_225_600},
        start_at={"path": "from", "transform": "date", "format": "%d.%m.%Y"},
        end_at="to",
        posted_at="posted",
    )

    assert found.start_at == datetime(2026, 12, 31, tzinfo=UTC)
    assert found.end_at == datetime(2027, 4, 3, tzinfo=UTC)  # day first, this reader's order
    assert found.posted_at == datetime(2026, 1, 1, tzinfo=UTC)  # epoch seconds
    us = draft({"to": "03/04/2027"}, order=DateOrder.MONTH_FIRST, end_at="to")
    assert us.end_at == datetime(2027, 3, 4, tzinfo=UTC)


def test_an_impossible_date_refuses_the_record_with_the_field_named() -> None:
    outcome = read_record(
        {"id": "m1", "name": "Aider", "from": "45.13.2026"},
        mapping(start_at={"path": "from", "transform": "date", "format": "%d.%m.%Y"}),
        DateOrder.DAY_FIRST,
    )

    assert outcome == Refused(
        "m1", "start_at: impossible date '45.13.2026' (expected the format '%d.%m.%Y')"
    )


def test_split_labels_booleans_and_constants() -> None:
    found = draft(
        {"skills": "Compta; Web ;", "kind": "Hybride", "minors": "Ja", "tags": ["a", "b"]},
        skills={"path": "skills", "transform": "split", "separator": ";"},
        remote={"path": "kind", "transform": "labels", "labels": {"hybride": "POSSIBLE"}},
        open_to_minors={"path": "minors", "transform": "boolean", "true": ["ja"]},
        commitment_kind={"value": "ONE_OFF", "transform": "constant"},
        tags={"path": "tags", "transform": "labels", "labels": {"a": "alpha"}},
        engagement_type={
            "path": "kind",
            "transform": "labels",
            "labels": {"benevolat": "VOLUNTEERING"},
            "unlisted": "OTHER",
        },
        reduced_mobility_accessible={"path": "absent", "value": "oui"},
    )

    assert found.skills == ["Compta", "Web"]
    assert found.remote is Remote.POSSIBLE  # labels match whatever the case
    assert found.open_to_minors is True
    assert found.commitment_kind is CommitmentKind.ONE_OFF
    assert found.tags == ["alpha", "b"]  # a label without a mapping is kept
    assert found.engagement_type is EngagementType.OTHER  # or becomes `unlisted`
    assert found.reduced_mobility_accessible is True  # the fallback value, read as a boolean


def test_an_unknown_enum_label_is_refused_with_a_hint() -> None:
    outcome = read_record(
        {"id": "m1", "name": "Aider", "kind": "hybride"},
        mapping(remote="kind"),
        DateOrder.DAY_FIRST,
    )

    assert isinstance(outcome, Refused)
    assert outcome.reason.startswith("remote: 'hybride' is not one of FULL, POSSIBLE, NONE")


def test_lon_lat_strings_become_coordinates_put_right_in_france() -> None:
    fields: dict[str, Any] = {
        "location.city": "where.town",
        "location.country": "where.country",
        "location.coordinates": {"path": "where.lonlat", "transform": "lonlat"},
    }
    found = draft(
        {"where": {"town": "Lyon", "country": "France", "lonlat": "4.835,45.764"}}, **fields
    )

    (place,) = found.locations
    assert (place.city, place.country) == ("Lyon", "FR")
    assert (place.latitude, place.longitude, place.geo_source) == (
        45.764, 4.835, GeoSource.PARTNER,
    )  # fmt: skip


def test_several_places_each_read_with_the_location_fields() -> None:
    record = {
        "id": "m1",
        "name": "Aider",
        "places": [{"zip": "1000", "town": "Bourg"}, {"town": None}, {"zip": "75011"}],
    }
    reading = PartnerMapping.parse(
        {
            **BASE,
            "locations": "places",
            "fields": {
                **BASE["fields"],
                "location.postal_code": "zip",
                "location.city": "town",
                "location.country": {"path": "country", "value": "FR"},
            },
        }
    )

    found = read_record(record, reading, DateOrder.DAY_FIRST)

    assert isinstance(found, MissionDraft)
    assert [(p.postal_code, p.city) for p in found.locations] == [
        ("01000", "Bourg"),  # the leading zero a spreadsheet ate, back for a French place
        ("75011", None),
    ]  # the empty place is left out


def test_a_close_rule_and_records_that_are_not_objects() -> None:
    closing = PartnerMapping.parse(
        {**BASE, "close": {"when": "status == 'archived' || deleted", "reason": "archived"}}
    )

    assert read_record({"id": "m1", "status": "archived"}, closing, DateOrder.DAY_FIRST) == Close(
        "m1", "archived"
    )
    assert read_record({"id": "m2", "deleted": "false", "name": "A"}, closing, DateOrder.DAY_FIRST)
    assert isinstance(
        read_record({"id": "m2", "deleted": "false", "name": "A"}, closing, DateOrder.DAY_FIRST),
        MissionDraft,
    )  # "false" says no, though a non-empty string
    assert read_record([1], closing, DateOrder.DAY_FIRST) == Refused(
        None, "the record is list, not an object"
    )
    assert read_record({"name": "A"}, closing, DateOrder.DAY_FIRST) == Refused(
        None, "missing external_id (read from id)"
    )


def test_a_path_that_cannot_read_a_record_refuses_that_record() -> None:
    outcome = read_record(
        {"id": "m1", "name": "Aider", "parts": [1, 2]},
        mapping(description="join(', ', parts)"),
        DateOrder.DAY_FIRST,
    )

    assert isinstance(outcome, Refused) and outcome.reason.startswith("description: ")


def test_volunteermatch_s_default_mapping_reads_its_commitment() -> None:
    record = {
        "id": "1",
        "title": "T",
        "availability": {"singleDayOpportunity": True, "ongoing": True},
        "virtual": True,
    }

    found = read_record(record, VOLUNTEERMATCH, DateOrder.MONTH_FIRST)
    assert isinstance(found, MissionDraft)
    assert found.commitment_kind is CommitmentKind.ONE_OFF and found.remote is Remote.FULL
    record["availability"] = {"singleDayOpportunity": False, "ongoing": False}
    found = read_record(record, VOLUNTEERMATCH, DateOrder.MONTH_FIRST)
    assert isinstance(found, MissionDraft) and found.commitment_kind is None
