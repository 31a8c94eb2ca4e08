"""Tests for the canonical cause and skill taxonomies and the label mappers."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from hub.catalogue import taxonomy
from hub.catalogue.taxonomy import (
    CAUSE_SLUGS,
    CAUSES,
    PARTNER_LISTS,
    SKILL_SLUGS,
    SKILLS,
    cause_label,
    map_cause,
    map_skill,
    skill_label,
)
from tests.conftest import require

KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

API_ENGAGEMENT_DOMAINS = [
    "animaux",
    "autre",
    "batiment-industrie-logistique",
    "benevolat-competences",
    "communication",
    "culture-loisirs",
    "education",
    "emploi",
    "environnement",
    "gestion-finance-droit",
    "humanitaire",
    "memoire-et-citoyennete",
    "numerique",
    "prevention-protection",
    "recherche",
    "sante",
    "service-public-defense-securite",
    "sport",
    "solidarite-insertion",
    "vivre-ensemble",
]


# --- causes -------------------------------------------------------------------------------


def test_causes_are_the_20_api_engagement_domains_in_order() -> None:
    assert [cause.slug for cause in CAUSES] == API_ENGAGEMENT_DOMAINS
    assert frozenset(API_ENGAGEMENT_DOMAINS) == CAUSE_SLUGS
    assert len(CAUSES) == 20


@pytest.mark.parametrize("cause", CAUSES, ids=lambda c: c.slug)
def test_every_cause_name_maps_back_to_its_cause(cause: taxonomy.Cause) -> None:
    assert KEBAB.match(cause.slug)
    assert cause.label and cause.label == cause.label.strip()
    assert cause_label(cause.slug) == cause.label
    for name in (cause.slug, cause.label, *cause.aliases):
        assert map_cause(name) == cause.slug, name


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("Mémoire et citoyenneté", "memoire-et-citoyennete"),
        ("mémoire et citoyenneté", "memoire-et-citoyennete"),
        ("MEMOIRE ET CITOYENNETE", "memoire-et-citoyennete"),
        ("Mémoire & Citoyenneté", "memoire-et-citoyennete"),
        ("Bâtiment, industrie, logistique", "batiment-industrie-logistique"),
        ("batiment industrie logistique", "batiment-industrie-logistique"),
        ("Solidarité et insertion", "solidarite-insertion"),
        ("  solidarite   et  insertion ", "solidarite-insertion"),
        ("santé", "sante"),
        ("SANTE", "sante"),
        ("Culture et loisirs", "culture-loisirs"),
        ("culture_loisirs", "culture-loisirs"),
        ("Éducation pour tous", "education"),
        ("Protection de la nature", "environnement"),
        ("Service public, défense, sécurité", "service-public-defense-securite"),
    ],
)
def test_map_cause_is_case_accent_and_punctuation_insensitive(label: str, slug: str) -> None:
    assert map_cause(label) == slug


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("health", "sante"),
        ("Health & Medicine", "sante"),
        ("environment", "environnement"),
        ("education", "education"),
        ("Animals", "animaux"),
        ("sports", "sport"),
        ("Digital", "numerique"),
        ("Human Rights", "humanitaire"),
        ("Disaster Relief", "humanitaire"),
        ("hunger", "solidarite-insertion"),
        ("Poverty", "solidarite-insertion"),
        ("Arts & Culture", "culture-loisirs"),
        # "and" is a word, not punctuation: "arts and culture" maps only as the enum spelling
        # ARTS_AND_CULTURE of a published list (partner_labels.json); other orders stay raw.
        ("arts and culture", "culture-loisirs"),
        ("culture and arts", None),
        ("Community", "vivre-ensemble"),
        ("Seniors", "solidarite-insertion"),
        ("Children & Youth", "education"),
        ("children and youth", "education"),
        ("youth and children", None),
    ],
)
def test_map_cause_english_labels(label: str, slug: str | None) -> None:
    assert map_cause(label) == slug


@pytest.mark.parametrize("label", ["", "   ", "---", "astrophysique quantique", "sante mentale!!x"])
def test_map_cause_unknown_returns_none(label: str) -> None:
    assert map_cause(label) is None


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("educationLiteracy", "education"),
        ("emergencySafety", "prevention-protection"),
        ("justiceLegal", "gestion-finance-droit"),
        ("homelessHousing", "solidarite-insertion"),
        ("healthMedicine", "sante"),
        ("sportsRecreation", "sport"),
        ("jobTraining", "emploi"),
        ("astroPhysique", None),
    ],
)
def test_map_cause_reads_camel_case_enums_as_their_spaced_form(
    label: str, slug: str | None
) -> None:
    assert map_cause(label) == slug


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("Droit et justice", "gestion-finance-droit"),
        ("Emploi et insertion professionnelle", "emploi"),
        ("Secourisme et prévention", "prevention-protection"),
        ("JOB_TRAINING_AND_EMPLOYMENT", "emploi"),
        ("Job Training & Employment", "emploi"),
        ("LAW_AND_LEGAL_ASSISTANCE", "gestion-finance-droit"),
        ("Law & Legal Assistance", "gestion-finance-droit"),
        ("EMERGENCY_AND_SAFETY", "prevention-protection"),
        ("justice et droit", None),
    ],
)
def test_map_cause_french_sector_labels_and_compound_enums(label: str, slug: str | None) -> None:
    assert map_cause(label) == slug


def test_map_cause_has_no_plural_fallback() -> None:
    # Only skills get the stemmed fallback; causes list their variants explicitly.
    assert map_cause("animal") == "animaux"
    assert map_cause("humanitaires") is None


def test_cause_label_rejects_unknown_slug() -> None:
    assert cause_label("memoire-et-citoyennete") == "Mémoire et citoyenneté"
    with pytest.raises(KeyError):
        cause_label("Mémoire et citoyenneté")


# --- skills -------------------------------------------------------------------------------


def test_skill_count_is_within_range() -> None:
    assert 50 <= len(SKILLS) <= 70
    assert len(SKILL_SLUGS) == len(SKILLS)


def test_skill_slugs_are_unique_kebab_case_ascii() -> None:
    slugs = [skill.slug for skill in SKILLS]
    assert len(slugs) == len(set(slugs))
    for slug in slugs:
        assert slug.isascii() and KEBAB.match(slug), slug


def test_skill_labels_are_unique() -> None:
    labels = [skill.label for skill in SKILLS]
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize("skill", SKILLS, ids=lambda s: s.slug)
def test_every_skill_name_maps_back_to_its_skill(skill: taxonomy.Skill) -> None:
    assert 5 <= len(skill.synonyms) <= 12
    assert skill_label(skill.slug) == skill.label
    for name in (skill.slug, skill.label, *skill.synonyms):
        assert map_skill(name) == skill.slug, name


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("Développeur Web", "developpement-web"),
        ("developpeur-web", "developpement-web"),
        ("DÉVELOPPEUR  WEB", "developpement-web"),
        ("développement web", "developpement-web"),
        ("Front-End", "developpement-web"),
        ("front end", "developpement-web"),
        ("Comptable", "comptabilite"),
        ("COMPTABILITÉ", "comptabilite"),
        ("Graphiste", "design-graphique"),
        ("RH", "ressources-humaines"),
        ("Ressources Humaines", "ressources-humaines"),
        ("Chef de projet", "gestion-de-projet"),
        ("UX/UI", "ux-design"),
        ("ui-ux", "ux-design"),
        ("Juriste", "conseil-juridique"),
        ("Traduction", "traduction"),
        ("Entraîneur", "encadrement-sportif"),
        ("Langue des Signes Française", "langue-des-signes"),
    ],
)
def test_map_skill_is_case_accent_and_punctuation_insensitive(label: str, slug: str) -> None:
    assert map_skill(label) == slug


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("web developer", "developpement-web"),
        ("Accounting", "comptabilite"),
        ("bookkeeping", "comptabilite"),
        ("Graphic Design", "design-graphique"),
        ("Human Resources", "ressources-humaines"),
        ("Project Manager", "gestion-de-projet"),
        ("SEO", "marketing"),
        ("excel", "analyse-de-donnees"),
        ("Lawyer", "conseil-juridique"),
        ("translator", "traduction"),
        ("First Aid", "premiers-secours"),
        ("Public Speaking", "prise-de-parole"),
        ("Sign Language", "langue-des-signes"),
    ],
)
def test_map_skill_english_labels(label: str, slug: str) -> None:
    assert map_skill(label) == slug


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("comptables", "comptabilite"),
        ("Comptables", "comptabilite"),
        ("développeurs web", "developpement-web"),
        ("Graphistes", "design-graphique"),
        ("juristes", "conseil-juridique"),
        ("infirmières", "sante-soins"),
        ("Chefs de projets", "gestion-de-projet"),
        ("traducteurs", "traduction"),
    ],
)
def test_map_skill_tolerates_french_plurals(label: str, slug: str) -> None:
    assert map_skill(label) == slug


@pytest.mark.parametrize(
    "label",
    ["", "  ", "!!!", "astronaute", "développement", "web", "développeur de talents", "care"],
)
def test_map_skill_unknown_returns_none(label: str) -> None:
    assert map_skill(label) is None


def test_skill_label_rejects_unknown_slug() -> None:
    assert skill_label("developpement-web") == "Développement web"
    with pytest.raises(KeyError):
        skill_label("Développement web")


# --- index construction -------------------------------------------------------------------


def test_build_index_rejects_a_name_claimed_by_two_slugs() -> None:
    entries = [("alpha", ["Comptable", "bookkeeping"]), ("beta", ["COMPTABLE"])]
    with pytest.raises(ValueError, match=r"alpha.*beta"):
        taxonomy._build_index(entries)


def test_build_index_rejects_a_stem_claimed_by_two_slugs() -> None:
    entries = [("alpha", ["comptable"]), ("beta", ["comptables"])]
    assert taxonomy._build_index(entries) == {"comptable": "alpha", "comptables": "beta"}
    with pytest.raises(ValueError, match=r"alpha.*beta"):
        taxonomy._build_index(entries, taxonomy._stem_key)


def test_build_index_allows_repeats_within_one_slug() -> None:
    index = taxonomy._build_index([("alpha", ["Santé", "sante", "SANTÉ"])])
    assert index == {"sante": "alpha"}


def test_build_index_rejects_an_empty_name() -> None:
    with pytest.raises(ValueError, match="empty key"):
        taxonomy._build_index([("alpha", ["--"])])


def test_real_indexes_have_no_cross_entry_conflicts() -> None:
    # Rebuilding proves the import-time check passed on the shipped data.
    causes = taxonomy._build_index((c.slug, (c.slug, c.label, *c.aliases)) for c in CAUSES)
    skills = taxonomy._build_index((s.slug, (s.slug, s.label, *s.synonyms)) for s in SKILLS)
    assert set(causes.values()) == CAUSE_SLUGS
    assert set(skills.values()) == SKILL_SLUGS


# --- published partner vocabularies (data/partner_labels.json) ------------------------------

# The published samples beside the repository (../shared/formats, see its README).
OPENAPI = Path(__file__).resolve().parents[2] / "shared/formats/api-engagement/openapi.yaml"


def _openapi_values(field: str) -> list[str]:
    """The backquoted values API Engagement's OpenAPI lists for `field` ("Valeurs possibles")."""
    text = OPENAPI.read_text(encoding="utf-8")
    start = text.index(f"        {field}:\n")
    block = text[start : text.index("Une demande d'ajout", start)]
    return re.findall(r"`([^`]+)`", block.split("Valeurs possibles", 1)[1])


def _list(name: str) -> taxonomy.PartnerList:
    return next(partner_list for partner_list in PARTNER_LISTS if partner_list.name == name)


def _mapper(kind: str) -> Callable[[str], str | None]:
    return map_cause if kind == "cause" else map_skill


def test_the_openapi_lists_every_domain_and_each_is_a_hub_cause() -> None:
    require(OPENAPI.exists(), "the published samples (shared/formats) are not beside the checkout")
    domains = _openapi_values("domain")
    assert domains == API_ENGAGEMENT_DOMAINS
    for slug in domains:
        assert map_cause(slug) == slug


def test_every_api_engagement_activity_maps_to_a_skill_or_is_left_with_a_reason() -> None:
    require(OPENAPI.exists(), "the published samples (shared/formats) are not beside the checkout")
    activities = _list("api-engagement-activities")
    published = _openapi_values("activities")
    assert len(published) == 50
    for value in published:
        if value in activities.left_unmapped:
            assert map_skill(value) is None, value
        else:
            assert map_skill(value) == activities.labels[value], value


@pytest.mark.parametrize("partner_list", PARTNER_LISTS, ids=lambda p: p.name)
def test_every_published_value_maps_to_the_slug_its_list_says(
    partner_list: taxonomy.PartnerList,
) -> None:
    assert partner_list.kind in taxonomy.KINDS
    assert partner_list.source, "each list says where it comes from"
    slugs = CAUSE_SLUGS if partner_list.kind == "cause" else SKILL_SLUGS
    mapper = _mapper(partner_list.kind)
    for label, slug in partner_list.labels.items():
        assert slug in slugs, (label, slug)
        assert mapper(label) == slug, label
    for label, reason in partner_list.left_unmapped.items():
        assert reason and mapper(label) is None, label


def test_every_api_engagement_domain_slug_and_french_label_maps() -> None:
    domains = _list("api-engagement-domains").labels
    assert set(API_ENGAGEMENT_DOMAINS) <= set(domains)
    for label in (
        "Gestion, commerce, finance, droit et services",
        "Développement international et aide humanitaire",
        "Service public, défense et sécurité",
        "Bâtiment, Industrie, Logistique",
        "Arts & culture pour tous",
        "Missions sur-mesure",
        "Solidarité",
    ):
        assert domains[label] == map_cause(label) and map_cause(label) is not None, label


VOLUNTEERMATCH_CATEGORIES = [
    "Advocacy & Human Rights",
    "Animals",
    "Arts & Culture",
    "Board Development",
    "Children & Youth",
    "Community",
    "Computers & Technology",
    "Crisis Support",
    "Disaster Relief",
    "Education & Literacy",
    "Emergency & Safety",
    "Employment",
    "Environment",
    "Faith-Based",
    "Health & Medicine",
    "Homeless & Housing",
    "Hunger",
    "Immigrants & Refugees",
    "International",
    "Justice & Legal",
    "LGBTQ+",
    "Media & Broadcasting",
    "People with Disabilities",
    "Politics",
    "Race & Ethnicity",
    "Seniors",
    "Sports & Recreation",
    "Veterans & Military Families",
    "Women",
]


@pytest.mark.parametrize("label", VOLUNTEERMATCH_CATEGORIES)
def test_every_volunteermatch_category_maps_as_label_and_as_enum(label: str) -> None:
    slug = map_cause(label)
    assert slug is not None, label
    words = label.replace("&", " ").replace("-", " ").replace("+", "").split()
    assert map_cause("_".join(w.upper() for w in words)) == slug
    if "&" in label:
        spelled = label.replace("&", "and").replace("-", " ").replace("+", "")
        assert map_cause("_".join(w.upper() for w in spelled.split())) == slug


@pytest.mark.parametrize(
    ("label", "kind", "slug"),
    [
        # The labels the operator found unmapped (issue 10), and their neighbours.
        ("POVERTY_AND_HUNGER", "cause", "solidarite-insertion"),
        ("POVERTY_HUNGER", "cause", "solidarite-insertion"),
        ("Poverty & Hunger", "cause", "solidarite-insertion"),
        ("HOUSING_HOMELESSNESS", "cause", "solidarite-insertion"),
        ("Housing & Homelessness", "cause", "solidarite-insertion"),
        ("Homeless & Housing", "cause", "solidarite-insertion"),
        ("HOMELESS_AND_HOUSING", "cause", "solidarite-insertion"),
        ("LEGAL", "cause", "gestion-finance-droit"),
        ("LEGAL_ASSISTANCE", "cause", "gestion-finance-droit"),
        ("Justice & Legal", "cause", "gestion-finance-droit"),
        ("INTERNATIONAL", "cause", "humanitaire"),
        ("INTERNATIONAL_COOPERATION", "cause", "humanitaire"),
        ("International Aid", "cause", "humanitaire"),
        ("IMMIGRANTS_OR_REFUGEES", "cause", "solidarite-insertion"),
        ("Environment & Sustainability", "cause", "environnement"),
        ("ARTS_MUSIC", "cause", "culture-loisirs"),
        ("MENTAL_HEALTH", "cause", "sante"),
        ("Gestion, commerce, finance, droit et services", "cause", "gestion-finance-droit"),
        ("Développement international et aide humanitaire", "cause", "humanitaire"),
        ("Interventions d'urgence en cas de crise", "cause", "humanitaire"),
        # Skills: API Engagement activities and Idealist functions.
        ("Animation, Valorisation", "skill", "animation"),
        ("conseil", "skill", "strategie"),
        ("comptabilite-finance", "skill", "comptabilite"),
        ("Soutien, Accompagnement", "skill", "travail-social"),
        ("ADMINISTRATIVE", "skill", "gestion-administrative"),
        ("LEGAL", "skill", "conseil-juridique"),
        ("ACCOUNTING_FINANCE", "skill", "comptabilite"),
        ("Development & Fundraising", "skill", "collecte-de-fonds"),
        ("INFORMATION_TECHNOLOGY", "skill", "support-informatique"),
        # Still unknown: left raw, for the operator to map.
        ("OCEANS_AND_SEAS", "cause", None),
        ("soins-animaux", "skill", None),
    ],
)
def test_partner_vocabulary_table(label: str, kind: str, slug: str | None) -> None:
    assert _mapper(kind)(label) == slug


def test_the_simulated_partners_labels_all_map() -> None:
    from tests.partners.catalogue import ACTIVITIES, DOMAINS, SKILLS

    for slug, french, english in DOMAINS:
        assert map_cause(slug) == map_cause(french) == map_cause(english) == slug, english
    for label in (*ACTIVITIES, *SKILLS):
        assert map_skill(label) is not None, label


def test_kinds_of_and_label_key() -> None:
    assert taxonomy.kinds_of("communication") == ("cause", "skill")
    assert taxonomy.kinds_of("sante") == ("cause",)
    assert taxonomy.kinds_of("comptabilite") == ("skill",)
    assert taxonomy.kinds_of("pauvrete") == ()
    assert taxonomy.label_key("POVERTY_HUNGER") == taxonomy.label_key("Poverty & Hunger")
