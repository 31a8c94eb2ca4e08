"""pipeline.prepare: the one place that decides what a valid mission is."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from hub.catalogue.model import EngagementType, GeoSource, Location, MissionDraft
from hub.ingest.pipeline import MAX_DESCRIPTION, Prepared, Refusal, prepare

GOOD = MissionDraft(
    external_id="X1",
    title="  Aide   aux devoirs ",
    application_url="https://partner.example/x1",
)


def ok(draft: MissionDraft) -> Prepared:
    outcome = prepare(draft)
    assert isinstance(outcome, Prepared), outcome
    return outcome


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"external_id": " "}, "missing id"),
        ({"title": ""}, "missing title"),
        ({"application_url": None}, "missing application URL"),
        ({"application_url": "javascript:alert(1)"}, "not an http(s) URL"),
        ({"description_html": "x" * (MAX_DESCRIPTION + 1)}, "over 20000 characters"),
        ({"places_total": 0}, "places must be above 0"),
        ({"places_remaining": -1}, "must not be negative"),
        (
            {
                "start_at": datetime(2027, 1, 2, tzinfo=UTC),
                "end_at": datetime(2027, 1, 1, tzinfo=UTC),
            },
            "end date before start date",
        ),
        ({"hours_per_week_min": 200}, "hours per week out of range"),
        ({"locations": [Location(latitude=95, longitude=2)]}, "latitude out of range"),
    ],
)
def test_refusals_carry_their_reason(changes: dict[str, object], reason: str) -> None:
    outcome = prepare(replace(GOOD, **changes))  # type: ignore[arg-type]
    assert isinstance(outcome, Refusal)
    assert reason in outcome.reason


def test_html_is_sanitised_and_text_derived() -> None:
    prepared = ok(
        replace(
            GOOD,
            description_html=(
                '<p onclick="steal()">Bonjour <b>à tous</b></p><script>alert(1)</script>'
                '<style>p{}</style><ul><li>Un</li><li><a href="https://a.org" onmouseover="x">'
                'lien</a></li></ul><a href="javascript:alert(1)">mauvais</a>'
            ),
        )
    )
    html = prepared.draft.description_html or ""
    for forbidden in ("onclick", "<script", "alert(1)", "<style", "onmouseover", "javascript:"):
        assert forbidden not in html
    assert "<ul><li>Un</li>" in html
    assert 'href="https://a.org"' in html and "noopener" in html
    assert prepared.draft.description == "Bonjour à tous\nUn\nlien\nmauvais"


def test_whitespace_in_title_is_collapsed() -> None:
    assert ok(GOOD).draft.title == "Aide aux devoirs"


def test_taxonomy_mapping_keeps_raw_labels_and_unmapped_ones() -> None:
    prepared = ok(
        replace(
            GOOD,
            causes=["Mémoire et citoyenneté", "poverty", "chess"],
            skills=["Développeur Web", "juggling"],
        )
    )
    assert prepared.causes == ["memoire-et-citoyennete", "solidarite-insertion"]
    assert prepared.skills == ["developpement-web"]
    assert prepared.raw["unmapped_causes"] == ["chess"]
    assert prepared.raw["unmapped_skills"] == ["juggling"]
    assert prepared.raw["skills"] == ["Développeur Web", "juggling"]


def test_skills_domain_makes_it_skills_volunteering() -> None:
    prepared = ok(replace(GOOD, causes=["benevolat-competences"]))
    assert prepared.draft.engagement_type is EngagementType.SKILLS_VOLUNTEERING


@pytest.mark.parametrize(
    ("location", "source", "department"),
    [
        (Location(postal_code="35000"), GeoSource.POSTAL_CODE, "35"),
        (Location(city="Orléans"), GeoSource.CITY, "45"),
        (Location(city="Paris"), GeoSource.CITY, "75"),
        (Location(latitude=43.6, longitude=1.44), GeoSource.PARTNER, None),  # partner's point kept
        (Location(postal_code="00000"), GeoSource.NONE, None),
    ],
)
def test_offline_geocoding(location: Location, source: GeoSource, department: str | None) -> None:
    [located] = ok(replace(GOOD, locations=[location])).draft.locations
    assert located.geo_source is source
    assert located.department_code == department
    if source is not GeoSource.NONE:
        assert located.latitude is not None and 41 < located.latitude < 52


def test_hash_is_stable_and_changes_with_content() -> None:
    assert ok(GOOD).content_hash == ok(replace(GOOD)).content_hash
    assert ok(GOOD).content_hash != ok(replace(GOOD, title="Autre titre")).content_hash


def test_hours_per_week_come_from_the_schedule_text_when_not_given() -> None:
    prepared = ok(replace(GOOD, schedule_label="2 à 4 heures par semaine"))
    assert (prepared.draft.hours_per_week_min, prepared.draft.hours_per_week_max) == (2.0, 4.0)
    given = ok(replace(GOOD, schedule_label="2h/semaine", hours_per_week_min=5))
    assert given.draft.hours_per_week_min == 5


@pytest.mark.parametrize(
    ("label", "hours"),
    [
        ("3 h à 5 h par semaine", (3.0, 5.0)),
        ("entre 2 et 4 h par semaine", (2.0, 4.0)),
        ("2-4 hours a week", (2.0, 4.0)),
        ("3 h par semaine", (3.0, 3.0)),
        ("entre 2 et 4 h", (2.0, 4.0)),  # hours alone: the schedule field implies the week
        ("3 jours", (None, None)),  # days alone state a length, not a rhythm: no guess
    ],
)
def test_an_hour_range_in_the_schedule_sets_both_ends(
    label: str, hours: tuple[float | None, float | None]
) -> None:
    draft = ok(replace(GOOD, schedule_label=label)).draft
    assert (draft.hours_per_week_min, draft.hours_per_week_max) == hours


def test_hours_stated_only_in_the_description_are_read_from_it() -> None:
    text = "Accompagner des jeunes dans leur recherche d'emploi, 2 à 3 heures par semaine."
    draft = ok(replace(GOOD, schedule_label=None, description=text)).draft
    assert (draft.hours_per_week_min, draft.hours_per_week_max) == (2.0, 3.0)
    # The schedule wins over the description; no period in the description, no guess.
    both = ok(replace(GOOD, schedule_label="1 h par semaine", description=text)).draft
    assert (both.hours_per_week_min, both.hours_per_week_max) == (1.0, 1.0)
    vague = ok(replace(GOOD, schedule_label=None, description="Une fois par semaine.")).draft
    assert (vague.hours_per_week_min, vague.hours_per_week_max) == (None, None)


def test_four_digit_postal_codes_are_repaired_and_geocoded() -> None:
    [located] = ok(replace(GOOD, locations=[Location(postal_code="6000")])).draft.locations
    assert located.postal_code == "06000"
    assert located.department_code == "06"  # Nice


def test_swapped_coordinates_are_put_right_for_france() -> None:
    [located] = ok(
        replace(GOOD, locations=[Location(latitude=2.35, longitude=48.85)])
    ).draft.locations
    assert (located.latitude, located.longitude) == (48.85, 2.35)
    assert located.geo_source is GeoSource.PARTNER_SWAPPED
    [abroad] = ok(
        replace(GOOD, locations=[Location(latitude=2.35, longitude=48.85, country="KE")])
    ).draft.locations
    assert (abroad.latitude, abroad.longitude) == (2.35, 48.85)  # plausible outside France
