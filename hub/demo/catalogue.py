"""A deterministic, realistic demo catalogue of volunteering missions from three partners.

Why: the hub needs volume to be shown, load-tested and tuned (search, geo queries, dedup) without
calling real partner APIs. Every draft looks like what a connector would produce: raw partner
labels, partner-specific id styles, French communes with their real centroids, and a few
missions re-published on a second partner for the dedup feature to find.

Nothing depends on the clock or global state: the same `(missions, seed, now)` always gives the
same catalogue.
"""

from __future__ import annotations

import csv
import html
import importlib.resources
import io
import re
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from random import Random

from hub.catalogue import taxonomy
from hub.catalogue.model import (
    CommitmentKind,
    EngagementType,
    GeoSource,
    Location,
    MissionDraft,
    OrganizationDraft,
    Remote,
)

__all__ = [
    "API_ENGAGEMENT_CAUSES",
    "DEFAULT_NOW",
    "PARTNERS",
    "demo_catalogue",
]

DEFAULT_NOW = datetime(2026, 11, 1, tzinfo=UTC)
"""Fixed reference date, so the catalogue never depends on when it is generated."""

API_ENGAGEMENT_CAUSES: frozenset[str] = taxonomy.CAUSE_SLUGS  # the 20 domains
"""The cause slugs the French partners use (API Engagement's domain vocabulary)."""

_BF = "benevolat-france"
_API = "api-engagement"
_SFG = "skills-for-good"


@dataclass(frozen=True, slots=True)
class _Partner:
    name: str
    domain: str
    share: float
    english: bool


_PARTNER_LIST: tuple[_Partner, ...] = (
    _Partner(_BF, "www.benevolat-france.org", 0.45, False),
    _Partner(_API, "api-engagement.beta.gouv.fr", 0.35, False),
    _Partner(_SFG, "www.skillsforgood.org", 0.20, True),
)
PARTNERS: tuple[str, ...] = tuple(p.name for p in _PARTNER_LIST)
"""Partner names, in the order `demo_catalogue` returns them."""

_ORGANIZATIONS = 200
_DUPLICATE_SHARE = 0.03
_BIG_CITY_SHARE = 0.60

# --------------------------------------------------------------------------------------------
# Communes

# Big cities and rough population weights (hundreds of thousands), found by commune name; Paris,
# Lyon and Marseille are split into arrondissements ("Paris 11") in the table.
_BIG_CITIES: tuple[tuple[str, float], ...] = (
    ("Paris", 21.0),
    ("Marseille", 8.7),
    ("Lyon", 5.2),
    ("Toulouse", 4.9),
    ("Nice", 3.4),
    ("Nantes", 3.2),
    ("Montpellier", 3.0),
    ("Strasbourg", 2.9),
    ("Bordeaux", 2.6),
    ("Lille", 2.3),
    ("Rennes", 2.2),
    ("Reims", 1.8),
    ("Toulon", 1.8),
    ("Saint-Étienne", 1.7),
    ("Le Havre", 1.7),
    ("Grenoble", 1.6),
    ("Dijon", 1.6),
    ("Angers", 1.6),
    ("Villeurbanne", 1.5),
    ("Nîmes", 1.5),
    ("Clermont-Ferrand", 1.5),
    ("Le Mans", 1.4),
    ("Aix-en-Provence", 1.4),
    ("Brest", 1.4),
    ("Tours", 1.4),
    ("Amiens", 1.3),
    ("Limoges", 1.3),
    ("Metz", 1.2),
    ("Besançon", 1.2),
    ("Orléans", 1.2),
    ("Rouen", 1.1),
    ("Caen", 1.1),
)


@dataclass(frozen=True, slots=True)
class _Commune:
    postal_code: str
    name: str
    city: str  # "Paris" for "Paris 11": the name used in organization names and sentences
    department_code: str
    department: str
    region: str
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class _Communes:
    all: tuple[_Commune, ...]
    big: tuple[tuple[_Commune, ...], ...]  # aligned with _BIG_CITIES
    big_cum_weights: tuple[float, ...]
    by_department: dict[str, tuple[_Commune, ...]]
    by_postal_city: dict[tuple[str, str], _Commune]


def _base_city(name: str) -> str:
    """ "Paris 11" -> "Paris": arrondissements are written as the city by people."""
    head, _, tail = name.rpartition(" ")
    return head if head and tail.isdigit() else name


@cache
def _communes() -> _Communes:
    """Load the shipped communes table once, keeping only rows with coordinates."""
    resource = importlib.resources.files("hub.catalogue") / "data" / "communes-fr.csv"
    rows: list[_Commune] = []
    with resource.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            if not row["latitude"] or not row["longitude"] or not row["region"]:
                continue
            rows.append(
                _Commune(
                    postal_code=row["postal_code"],
                    name=row["commune"],
                    city=_base_city(row["commune"]),
                    department_code=row["department_code"],
                    department=row["department"],
                    region=row["region"],
                    latitude=float(row["latitude"]),
                    longitude=float(row["longitude"]),
                )
            )
    by_city: dict[str, list[_Commune]] = {}
    by_department: dict[str, list[_Commune]] = {}
    for commune in rows:
        by_city.setdefault(commune.city, []).append(commune)
        by_department.setdefault(commune.department_code, []).append(commune)
    missing = [name for name, _ in _BIG_CITIES if name not in by_city]
    if missing:  # the table ships with the package: a miss means the data changed
        raise RuntimeError(f"big cities missing from communes-fr.csv: {missing}")
    cum: list[float] = []
    total = 0.0
    for _, weight in _BIG_CITIES:
        total += weight
        cum.append(total)
    return _Communes(
        all=tuple(rows),
        big=tuple(tuple(by_city[name]) for name, _ in _BIG_CITIES),
        big_cum_weights=tuple(cum),
        by_department={k: tuple(v) for k, v in by_department.items()},
        by_postal_city={(c.postal_code, c.city): c for c in rows},
    )


def _pick_commune(rng: Random, table: _Communes) -> _Commune:
    """60% among big cities (population-weighted), 40% uniformly among all communes."""
    if rng.random() < _BIG_CITY_SHARE:
        city = rng.choices(table.big, cum_weights=table.big_cum_weights)[0]
        return rng.choice(city)
    return rng.choice(table.all)


# --------------------------------------------------------------------------------------------
# French grammar helpers: names and sentences must read naturally.

_VOWELS = frozenset("aeiouyhéèêëàâîïôûAEIOUYHÉÈÊÀÂÎÔÛ")


def _de(word: str) -> str:
    """Elided "de": "de jeunes", "d'élèves", "d'Angers"."""
    return f"d'{word}" if word[0] in _VOWELS else f"de {word}"


def _de_city(city: str) -> str:
    """ "de Rennes", "du Havre", "des Sables-d'Olonne", "d'Orléans"."""
    if city.startswith("Le "):
        return f"du {city[3:]}"
    if city.startswith("Les "):
        return f"des {city[4:]}"
    if city.startswith("La "):
        return f"de la {city[3:]}"
    if city.startswith("L'"):
        return f"de l'{city[2:]}"
    return _de(city)


def _a_city(city: str) -> str:
    """ "à Rennes", "au Havre", "aux Sables-d'Olonne"."""
    if city.startswith("Le "):
        return f"au {city[3:]}"
    if city.startswith("Les "):
        return f"aux {city[4:]}"
    return f"à {city}"


# Departments with their article, for names like "Banque Alimentaire de l'Isère".
_DEPARTMENT_PHRASES: dict[str, str] = {
    "01": "de l'Ain",
    "06": "des Alpes-Maritimes",
    "13": "des Bouches-du-Rhône",
    "14": "du Calvados",
    "21": "de la Côte-d'Or",
    "25": "du Doubs",
    "29": "du Finistère",
    "30": "du Gard",
    "31": "de la Haute-Garonne",
    "33": "de la Gironde",
    "34": "de l'Hérault",
    "35": "d'Ille-et-Vilaine",
    "37": "d'Indre-et-Loire",
    "38": "de l'Isère",
    "42": "de la Loire",
    "44": "de la Loire-Atlantique",
    "45": "du Loiret",
    "49": "de Maine-et-Loire",
    "51": "de la Marne",
    "56": "du Morbihan",
    "57": "de la Moselle",
    "59": "du Nord",
    "62": "du Pas-de-Calais",
    "63": "du Puy-de-Dôme",
    "64": "des Pyrénées-Atlantiques",
    "66": "des Pyrénées-Orientales",
    "67": "du Bas-Rhin",
    "68": "du Haut-Rhin",
    "69": "du Rhône",
    "72": "de la Sarthe",
    "75": "de Paris",
    "76": "de la Seine-Maritime",
    "80": "de la Somme",
    "83": "du Var",
    "84": "du Vaucluse",
    "86": "de la Vienne",
    "87": "de la Haute-Vienne",
    "92": "des Hauts-de-Seine",
    "93": "de la Seine-Saint-Denis",
    "94": "du Val-de-Marne",
}

# Neighbourhoods by (city, postal code), for names like "Les Jardins Partagés du Vieux-Lyon".
_NEIGHBOURHOODS: tuple[tuple[str, str, str], ...] = (
    ("Paris", "75020", "de Belleville"),
    ("Paris", "75018", "de la Goutte-d'Or"),
    ("Paris", "75004", "du Marais"),
    ("Lyon", "69005", "du Vieux-Lyon"),
    ("Lyon", "69004", "de la Croix-Rousse"),
    ("Lyon", "69007", "de la Guillotière"),
    ("Marseille", "13002", "du Panier"),
    ("Marseille", "13003", "de la Belle de Mai"),
    ("Lille", "59000", "de Wazemmes"),
    ("Toulouse", "31200", "des Minimes"),
    ("Bordeaux", "33000", "des Chartrons"),
    ("Nantes", "44200", "de l'Île de Nantes"),
    ("Rennes", "35000", "de Villejean"),
    ("Strasbourg", "67000", "de la Krutenau"),
    ("Montpellier", "34000", "des Beaux-Arts"),
    ("Grenoble", "38100", "de la Villeneuve"),
)

_STREETS: tuple[str, ...] = (
    "rue de la République",
    "rue de la Paix",
    "boulevard de la Liberté",
    "rue des Écoles",
    "place de la Mairie",
    "rue du Moulin",
    "chemin des Vignes",
    "rue de l'Église",
    "avenue de la Gare",
    "rue Nationale",
    "rue des Lilas",
    "impasse des Tilleuls",
    "allée des Acacias",
    "rue du Marché",
    "rue de la Fontaine",
    "avenue des Platanes",
    "rue du Stade",
    "place du Marché",
    "rue des Jardins",
    "cours de la Libération",
    "rue du Château",
    "rue des Artisans",
    "boulevard de l'Europe",
    "rue de la Poste",
)

# --------------------------------------------------------------------------------------------
# Organizations: invented names only (no real people, no real association).

_ASSOCIATION_THEMES: tuple[tuple[str, str], ...] = (
    ("Entraide Numérique", "numerique"),
    ("Trait d'Union", "vivre-ensemble"),
    ("Pas à Pas", "solidarite-insertion"),
    ("Fil Solidaire", "solidarite-insertion"),
    ("Clés d'Avenir", "emploi"),
    ("Passerelle Emploi", "emploi"),
    ("Savoirs Partagés", "education"),
    ("Sport & Partage", "sport"),
    ("Ateliers du Lien", "vivre-ensemble"),
    ("Graines d'Avenir", "environnement"),
    ("Toit et Soutien", "solidarite-insertion"),
    ("Pattes Tendues", "animaux"),
    ("Mémoire Vivante", "memoire-et-citoyennete"),
    ("Culture en Partage", "culture-loisirs"),
    ("Santé Solidaire", "sante"),
    ("Cap Insertion", "emploi"),
    ("Accueil Réfugiés", "humanitaire"),
    ("Écoute et Prévention", "prevention-protection"),
    ("Lire Ensemble", "education"),
    ("Vélo Solidaire", "environnement"),
)
_COLLECTIVE_NAMES: tuple[tuple[str, str], ...] = (
    ("Les Jardins Partagés", "environnement"),
    ("Les Ateliers Solidaires", "solidarite-insertion"),
    ("Les Amis de la Médiathèque", "culture-loisirs"),
    ("Les Paniers Solidaires", "solidarite-insertion"),
    ("Les Toques Solidaires", "humanitaire"),
    ("Les Cartables Solidaires", "education"),
    ("Les Vélos Partagés", "environnement"),
    ("Les Voix du Quartier", "vivre-ensemble"),
)
_DEPARTMENT_NETWORKS: tuple[tuple[str, str], ...] = (
    ("Banque Alimentaire", "humanitaire"),
    ("Collectif Solidarité", "solidarite-insertion"),
    ("Réseau Entraide Seniors", "solidarite-insertion"),
    ("Comité Handisport", "sport"),
    ("Maison des Aidants", "sante"),
    ("Fédération des Jardins Familiaux", "environnement"),
    ("Union des Épiceries Solidaires", "solidarite-insertion"),
)
_CITY_STRUCTURES: tuple[tuple[str, str], ...] = (
    ("Épicerie Solidaire", "solidarite-insertion"),
    ("Ressourcerie Le Grenier Solidaire", "environnement"),
    ("Refuge des Quatre Pattes", "animaux"),
    ("Club Basket Solidaire", "sport"),
    ("Maison des Savoirs", "education"),
    ("Compagnie Théâtre en Partage", "culture-loisirs"),
    ("Fablab Solidaire", "numerique"),
    ("Atelier Vélo Participatif", "environnement"),
)
_FOUNDATIONS: tuple[tuple[str, str], ...] = (
    ("Fondation Lire et Grandir", "education"),
    ("Fondation Horizon Solidaire", "solidarite-insertion"),
    ("Fondation Terre et Avenir", "environnement"),
    ("Fondation Un Toit pour Demain", "solidarite-insertion"),
    ("Fondation Savoirs pour Tous", "education"),
    ("Fondation Avenir Numérique", "numerique"),
    ("Fondation Sport et Dignité", "sport"),
    ("Fondation Santé Partagée", "sante"),
    ("Fondation Mémoire et Transmission", "memoire-et-citoyennete"),
    ("Fondation Enfance Protégée", "prevention-protection"),
)


@dataclass(frozen=True, slots=True)
class _Org:
    draft: OrganizationDraft
    home: _Commune
    cause: str
    partners: tuple[str, ...]


def _slug(value: str) -> str:
    """ASCII, lower-case, dash-separated: used for organization domains."""
    folded = unicodedata.normalize("NFKD", value.lower())
    ascii_only = "".join(ch for ch in folded if not unicodedata.combining(ch))
    out: list[str] = []
    for ch in ascii_only:
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


def _luhn_complete(digits: str) -> str:
    """Append the Luhn check digit, as real SIREN/SIRET numbers carry one."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


def _org_name(rng: Random, home: _Commune, table: _Communes) -> tuple[str, str, _Commune]:
    """An invented name, its main cause, and the home commune (moved for neighbourhood names)."""
    roll = rng.random()
    if roll < 0.12:
        name, cause = rng.choice(_FOUNDATIONS)
        return name, cause, home
    if roll < 0.30 and home.department_code in _DEPARTMENT_PHRASES:
        base, cause = rng.choice(_DEPARTMENT_NETWORKS)
        return f"{base} {_DEPARTMENT_PHRASES[home.department_code]}", cause, home
    if roll < 0.45:
        base, cause = rng.choice(_COLLECTIVE_NAMES)
        spots = [n for n in _NEIGHBOURHOODS if n[0] == home.city]
        if spots:
            city, postal_code, phrase = rng.choice(spots)
            moved = table.by_postal_city.get((postal_code, city), home)
            return f"{base} {phrase}", cause, moved
        return f"{base} {_de_city(home.city)}", cause, home
    if roll < 0.65:
        base, cause = rng.choice(_CITY_STRUCTURES)
        return f"{base} {_de_city(home.city)}", cause, home
    theme, cause = rng.choice(_ASSOCIATION_THEMES)
    return f"Association {theme} {_de_city(home.city)}", cause, home


def _organizations(rng: Random, table: _Communes) -> list[_Org]:
    """About 200 associations; ~20% publish on a second partner."""
    orgs: list[_Org] = []
    seen: set[str] = set()
    bounds = [sum(p.share for p in _PARTNER_LIST[: i + 1]) for i in range(len(_PARTNER_LIST))]
    while len(orgs) < _ORGANIZATIONS:
        name, cause, home = _org_name(rng, _pick_commune(rng, table), table)
        if name in seen:
            continue
        seen.add(name)
        # Primary partner by position, so each partner surely has organizations.
        position = (len(orgs) + 0.5) / _ORGANIZATIONS
        primary = next(p.name for p, b in zip(_PARTNER_LIST, bounds, strict=True) if position < b)
        partners: tuple[str, ...] = (primary,)
        if rng.random() < 0.20:
            if primary == _SFG:
                partners += (rng.choice((_BF, _API)),)
            else:
                other = _API if primary == _BF else _BF
                partners += (other if rng.random() < 0.7 else _SFG,)
        department = home.department_code[:2] if home.department_code[:2].isdigit() else "20"
        rna = f"W{department}{rng.randrange(10**7):07d}"
        siren = siret = None
        if rng.random() < 0.55:
            siren = _luhn_complete(f"{rng.randrange(1, 10)}{rng.randrange(10**7):07d}")
            if rng.random() < 0.8:
                siret = _luhn_complete(f"{siren}{rng.randrange(1, 100):04d}")
        slug = _slug(name)
        url = f"https://www.{slug}.org"
        logo = f"{url}/logo.png" if rng.random() < 0.3 else None
        draft = OrganizationDraft(name=name, rna=rna, siren=siren, siret=siret, url=url, logo=logo)
        orgs.append(_Org(draft=draft, home=home, cause=cause, partners=partners))
    return orgs


# --------------------------------------------------------------------------------------------
# Mission vocabulary

# Skills as the French partners write them, with the English label skills-for-good uses.
_SKILL_EN: dict[str, str] = {
    "développement web": "web development",
    "comptabilité": "accounting",
    "graphisme": "graphic design",
    "gestion de projet": "project management",
    "traduction": "translation",
    "ressources humaines": "human resources",
    "communication": "communications",
    "droit": "legal",
    "data": "data analysis",
    "photographie": "photography",
    "mentorat": "mentoring",
    "formation": "training",
    "marketing": "marketing",
    "recherche de financements": "fundraising",
    "vidéo": "video editing",
    "animation": "facilitation",
    "logistique": "logistics",
    "bricolage": "DIY and repairs",
    "informatique": "IT support",
    "accompagnement": "social support",
    "cuisine": "cooking",
    "jardinage": "gardening",
    "soins aux animaux": "animal care",
    "enseignement": "teaching",
    "conseil": "consulting",
    "rédaction": "copywriting",
    "secourisme": "first aid",
    "accueil": "customer service",
    "recherche documentaire": "research",
}

# The label skills-for-good writes for each cause slug.
_CAUSE_EN: dict[str, str] = {
    "animaux": "animal welfare",
    "autre": "other",
    "batiment-industrie-logistique": "logistics",
    "benevolat-competences": "skills-based volunteering",
    "communication": "communications",
    "culture-loisirs": "arts and culture",
    "education": "education",
    "emploi": "employment",
    "environnement": "environment",
    "gestion-finance-droit": "legal and finance",
    "humanitaire": "humanitarian",
    "memoire-et-citoyennete": "civic engagement",
    "numerique": "digital",
    "prevention-protection": "child protection",
    "recherche": "research",
    "sante": "health",
    "service-public-defense-securite": "public services",
    "sport": "sport",
    "solidarite-insertion": "poverty",
    "vivre-ensemble": "community",
}

# Beneficiary structures: (French with article, English, cause).
_STRUCTURES: tuple[tuple[str, str, str], ...] = (
    ("une épicerie solidaire", "a community grocery", "solidarite-insertion"),
    ("une association d'aide alimentaire", "a food aid charity", "humanitaire"),
    ("un refuge pour animaux", "an animal shelter", "animaux"),
    ("une ressourcerie", "a reuse centre", "environnement"),
    ("un club sportif de quartier", "a local sports club", "sport"),
    ("une médiathèque associative", "a community library", "culture-loisirs"),
    ("un centre social", "a community centre", "vivre-ensemble"),
    ("une association de soutien scolaire", "a tutoring charity", "education"),
    ("une maison des femmes", "a women's support centre", "prevention-protection"),
    ("une association d'aide aux réfugiés", "a refugee support charity", "humanitaire"),
    ("un accueil de jour", "a day centre for homeless people", "solidarite-insertion"),
    ("une association de patients", "a patient association", "sante"),
    ("un chantier d'insertion", "a work-integration enterprise", "emploi"),
    ("une association d'histoire locale", "a local history society", "memoire-et-citoyennete"),
    ("une compagnie de théâtre amateur", "an amateur theatre company", "culture-loisirs"),
    ("un fablab associatif", "a community makerspace", "numerique"),
    ("une association de protection de la nature", "a nature charity", "environnement"),
    ("une crèche associative", "a community nursery", "education"),
)

# Beneficiary publics: (French plural without article, English, cause).
_PUBLICS: tuple[tuple[str, str, str], ...] = (
    ("seniors", "older people", "solidarite-insertion"),
    ("jeunes en recherche d'emploi", "young jobseekers", "emploi"),
    ("personnes réfugiées", "refugees", "humanitaire"),
    ("demandeurs d'emploi", "jobseekers", "emploi"),
    ("familles monoparentales", "single-parent families", "solidarite-insertion"),
    ("élèves de collège", "secondary school pupils", "education"),
    ("personnes en situation de handicap", "people with disabilities", "vivre-ensemble"),
    ("aidants familiaux", "family carers", "sante"),
    ("personnes sans domicile", "homeless people", "solidarite-insertion"),
    ("étudiants boursiers", "students on grants", "education"),
    ("femmes entrepreneures", "women entrepreneurs", "emploi"),
    ("habitants des quartiers prioritaires", "residents of deprived areas", "vivre-ensemble"),
    ("jeunes sortant de l'aide sociale à l'enfance", "care leavers", "prevention-protection"),
)


@dataclass(frozen=True, slots=True)
class _Template:
    """A mission title: `{s}` takes a structure, `{p}`/`{de_p}` a public, or nothing."""

    fr: str
    en: str
    causes: tuple[str, ...]
    skills: tuple[str, ...]
    civic: bool = False


_T = _Template
_TEMPLATES: tuple[_Template, ...] = (
    _T(
        "Refonte du site web d'{s}",
        "Website redesign for {s}",
        ("numerique",),
        ("développement web", "graphisme"),
    ),
    _T(
        "Accompagnement comptable d'{s}",
        "Accounting support for {s}",
        ("gestion-finance-droit",),
        ("comptabilité",),
    ),
    _T("Mentorat {de_p}", "Mentoring {p}", ("emploi",), ("mentorat",)),
    _T(
        "Formation aux outils numériques pour {p}",
        "Digital skills training for {p}",
        ("numerique", "education"),
        ("formation", "informatique"),
    ),
    _T(
        "Traduction de supports de sensibilisation",
        "Translation of awareness materials",
        ("communication",),
        ("traduction",),
    ),
    _T(
        "Création de l'identité visuelle d'{s}",
        "Visual identity for {s}",
        ("communication",),
        ("graphisme",),
    ),
    _T(
        "Aide à la recherche de financements pour {s}",
        "Fundraising support for {s}",
        ("gestion-finance-droit",),
        ("recherche de financements", "marketing"),
    ),
    _T(
        "Conseil juridique pour {s}", "Legal advice for {s}", ("gestion-finance-droit",), ("droit",)
    ),
    _T(
        "Structuration des ressources humaines d'{s}",
        "HR structuring for {s}",
        ("gestion-finance-droit",),
        ("ressources humaines",),
    ),
    _T(
        "Élaboration d'un plan de communication pour {s}",
        "Communication plan for {s}",
        ("communication",),
        ("communication", "marketing"),
    ),
    _T(
        "Tableau de bord et analyse de données pour {s}",
        "Data dashboard for {s}",
        ("numerique",),
        ("data",),
    ),
    _T(
        "Reportage photo sur les activités d'{s}",
        "Photo report on the work of {s}",
        ("communication",),
        ("photographie",),
    ),
    _T(
        "Soutien scolaire auprès {de_p}",
        "Tutoring {p}",
        ("education",),
        ("enseignement", "mentorat"),
    ),
    _T(
        "Ateliers CV et préparation aux entretiens pour {p}",
        "CV and interview workshops for {p}",
        ("emploi",),
        ("ressources humaines", "formation"),
    ),
    _T(
        "Gestion de projet pour l'ouverture d'{s}",
        "Project management to open {s}",
        ("benevolat-competences",),
        ("gestion de projet",),
    ),
    _T(
        "Animation d'ateliers numériques pour {p}",
        "Running digital workshops for {p}",
        ("numerique",),
        ("animation", "informatique"),
    ),
    _T(
        "Collecte et tri de denrées alimentaires",
        "Food collection and sorting",
        ("humanitaire", "solidarite-insertion"),
        ("logistique",),
    ),
    _T(
        "Distribution de repas aux personnes sans abri",
        "Meal distribution to homeless people",
        ("solidarite-insertion",),
        ("cuisine", "accueil"),
    ),
    _T(
        "Maraude solidaire en soirée",
        "Evening outreach rounds",
        ("solidarite-insertion",),
        ("accompagnement",),
    ),
    _T(
        "Accompagnement administratif {de_p}",
        "Paperwork support for {p}",
        ("solidarite-insertion",),
        ("droit", "accompagnement"),
    ),
    _T(
        "Soins et promenades des chiens du refuge",
        "Dog walking and care at the shelter",
        ("animaux",),
        ("soins aux animaux",),
    ),
    _T(
        "Refonte de la base de données des adhérents",
        "Member database overhaul",
        ("numerique",),
        ("data", "informatique"),
    ),
    _T(
        "Création d'une application mobile pour {s}",
        "Mobile app for {s}",
        ("numerique",),
        ("développement web", "gestion de projet"),
    ),
    _T(
        "Aménagement et entretien d'un jardin partagé",
        "Community garden upkeep",
        ("environnement",),
        ("jardinage",),
    ),
    _T(
        "Sensibilisation au tri des déchets dans les écoles",
        "Waste-sorting awareness in schools",
        ("environnement", "education"),
        ("animation",),
    ),
    _T(
        "Réparation de vélos dans un atelier solidaire",
        "Bike repair at a community workshop",
        ("environnement",),
        ("bricolage",),
    ),
    _T(
        "Encadrement d'entraînements sportifs pour {p}",
        "Coaching sports sessions for {p}",
        ("sport",),
        ("animation",),
    ),
    _T(
        "Organisation d'un tournoi sportif solidaire",
        "Organising a charity sports tournament",
        ("sport", "vivre-ensemble"),
        ("gestion de projet", "logistique"),
    ),
    _T(
        "Lecture à voix haute pour des enfants hospitalisés",
        "Reading aloud to children in hospital",
        ("sante", "culture-loisirs"),
        ("animation",),
    ),
    _T(
        "Visites de convivialité auprès de personnes âgées isolées",
        "Befriending visits to isolated older people",
        ("vivre-ensemble", "solidarite-insertion"),
        ("accompagnement",),
    ),
    _T(
        "Cours de français langue étrangère pour {p}",
        "French lessons for {p}",
        ("education", "vivre-ensemble"),
        ("formation", "enseignement"),
    ),
    _T(
        "Appui à la stratégie d'{s}",
        "Strategy support for {s}",
        ("benevolat-competences",),
        ("conseil", "gestion de projet"),
    ),
    _T(
        "Audit de sécurité informatique d'{s}",
        "IT security audit for {s}",
        ("numerique",),
        ("informatique",),
    ),
    _T(
        "Mise en place d'un outil de gestion des bénévoles",
        "Setting up a volunteer management tool",
        ("numerique",),
        ("informatique", "gestion de projet"),
    ),
    _T(
        "Accueil du public lors d'un festival culturel",
        "Welcome desk at a cultural festival",
        ("culture-loisirs",),
        ("accueil",),
    ),
    _T(
        "Montage vidéo pour une campagne de sensibilisation",
        "Video editing for an awareness campaign",
        ("communication",),
        ("vidéo",),
    ),
    _T(
        "Rédaction d'articles pour le blog d'{s}",
        "Writing blog posts for {s}",
        ("communication",),
        ("rédaction",),
    ),
    _T(
        "Collecte de témoignages pour un projet de mémoire locale",
        "Collecting testimonies for a local history project",
        ("memoire-et-citoyennete",),
        ("rédaction", "photographie"),
    ),
    _T(
        "Ateliers de prévention santé pour {p}",
        "Health prevention workshops for {p}",
        ("sante", "prevention-protection"),
        ("animation", "formation"),
    ),
    _T(
        "Poste de secours lors d'événements sportifs",
        "First aid at sports events",
        ("prevention-protection", "sport"),
        ("secourisme",),
    ),
    _T(
        "Participation à un inventaire de la biodiversité",
        "Biodiversity survey",
        ("environnement", "recherche"),
        ("data",),
    ),
    _T(
        "Aide à l'organisation d'une collecte de sang",
        "Helping run a blood drive",
        ("sante",),
        ("logistique", "accueil"),
    ),
    _T(
        "Logistique d'un entrepôt solidaire",
        "Logistics at a charity warehouse",
        ("batiment-industrie-logistique", "solidarite-insertion"),
        ("logistique",),
    ),
    _T(
        "Rénovation des locaux d'{s}",
        "Renovating the premises of {s}",
        ("batiment-industrie-logistique",),
        ("bricolage",),
    ),
    _T(
        "Aide aux démarches en ligne dans une maison de services publics",
        "Helping people with online procedures at a public service centre",
        ("service-public-defense-securite",),
        ("accompagnement", "informatique"),
    ),
    _T(
        "Accompagnement d'entrepreneurs des quartiers prioritaires",
        "Supporting entrepreneurs in deprived areas",
        ("emploi",),
        ("conseil", "comptabilité", "gestion de projet"),
    ),
    _T(
        "Coaching de femmes en reconversion professionnelle",
        "Coaching women changing careers",
        ("emploi",),
        ("mentorat", "ressources humaines"),
    ),
    _T("Aide aux devoirs en ligne", "Online homework help", ("education",), ("enseignement",)),
    _T(
        "Conception d'un kit pédagogique sur le climat",
        "Designing a climate teaching kit",
        ("environnement", "education"),
        ("graphisme", "formation"),
    ),
    _T(
        "Traduction de documents d'accueil pour {p}",
        "Translating welcome documents for {p}",
        ("humanitaire",),
        ("traduction",),
    ),
    _T(
        "Recherche documentaire pour un projet associatif",
        "Desk research for a charity project",
        ("recherche",),
        ("recherche documentaire",),
    ),
    _T(
        "Aide à la gestion de la paie d'{s}",
        "Payroll support for {s}",
        ("gestion-finance-droit",),
        ("comptabilité", "ressources humaines"),
    ),
    _T(
        "Tenue d'un stand lors d'une journée des associations",
        "Staffing a stand at a community fair",
        ("vivre-ensemble", "autre"),
        ("communication",),
    ),
    _T(
        "Service civique : ambassadeur ou ambassadrice du tri",
        "Civic service: recycling ambassador",
        ("environnement",),
        ("animation",),
        civic=True,
    ),
    _T(
        "Service civique - médiation numérique en bibliothèque",
        "Civic service: digital mediation in a library",
        ("numerique", "culture-loisirs"),
        ("informatique", "accueil"),
        civic=True,
    ),
    _T(
        "Service civique : soutien aux activités d'{s}",
        "Civic service: supporting {s}",
        ("vivre-ensemble",),
        ("animation",),
        civic=True,
    ),
    _T(
        "Service civique : lutte contre l'isolement des personnes âgées",
        "Civic service: tackling loneliness among older people",
        ("solidarite-insertion", "vivre-ensemble"),
        ("accompagnement",),
        civic=True,
    ),
)
# Hands-on missions that cannot be done from home: never offered fully remote.
_ON_SITE: frozenset[str] = frozenset(
    {
        "Collecte et tri de denrées alimentaires",
        "Distribution de repas aux personnes sans abri",
        "Maraude solidaire en soirée",
        "Soins et promenades des chiens du refuge",
        "Aménagement et entretien d'un jardin partagé",
        "Sensibilisation au tri des déchets dans les écoles",
        "Réparation de vélos dans un atelier solidaire",
        "Encadrement d'entraînements sportifs pour {p}",
        "Organisation d'un tournoi sportif solidaire",
        "Lecture à voix haute pour des enfants hospitalisés",
        "Visites de convivialité auprès de personnes âgées isolées",
        "Accueil du public lors d'un festival culturel",
        "Reportage photo sur les activités d'{s}",
        "Poste de secours lors d'événements sportifs",
        "Participation à un inventaire de la biodiversité",
        "Aide à l'organisation d'une collecte de sang",
        "Logistique d'un entrepôt solidaire",
        "Rénovation des locaux d'{s}",
        "Aide aux démarches en ligne dans une maison de services publics",
        "Tenue d'un stand lors d'une journée des associations",
    }
)
_REGULAR_TEMPLATES = tuple(t for t in _TEMPLATES if not t.civic)
_CIVIC_TEMPLATES = tuple(t for t in _TEMPLATES if t.civic)
_REMOTE_TEMPLATES = tuple(t for t in _REGULAR_TEMPLATES if t.fr not in _ON_SITE)
_BY_CAUSE: dict[tuple[str, bool], tuple[_Template, ...]] = {
    (cause, remote_only): tuple(
        t for t in (_REMOTE_TEMPLATES if remote_only else _REGULAR_TEMPLATES) if cause in t.causes
    )
    for cause in API_ENGAGEMENT_CAUSES
    for remote_only in (False, True)
}


@dataclass(frozen=True, slots=True)
class _Schedule:
    fr: str
    en: str
    kind: CommitmentKind
    hours_min: float | None
    hours_max: float | None
    total_hours: float | None = None


_RECURRING = CommitmentKind.RECURRING
_ONE_OFF = CommitmentKind.ONE_OFF
_SCHEDULES: tuple[_Schedule, ...] = (
    _Schedule("1 à 2 heures par semaine", "1-2 hours a week", _RECURRING, 1, 2),
    _Schedule("2 heures par semaine", "2 hours a week", _RECURRING, 2, 2),
    _Schedule("2 à 4 heures par semaine", "2-4 hours a week", _RECURRING, 2, 4),
    _Schedule("une demi-journée par semaine", "half a day a week", _RECURRING, 3.5, 4),
    _Schedule("une demi-journée par mois", "half a day a month", _RECURRING, 0.5, 1),
    _Schedule("une soirée par semaine", "one evening a week", _RECURRING, 2, 3),
    _Schedule("le samedi matin", "Saturday mornings", _RECURRING, 3, 3),
    _Schedule("selon vos disponibilités", "flexible hours", _RECURRING, None, None),
    _Schedule("une journée", "one day", _ONE_OFF, None, None, 7),
    _Schedule("une demi-journée", "half a day", _ONE_OFF, None, None, 4),
    _Schedule("3 sessions de 2 heures", "three 2-hour sessions", _ONE_OFF, None, None, 6),
    _Schedule("un week-end", "one weekend", _ONE_OFF, None, None, 14),
)
_CIVIC_SCHEDULES: tuple[_Schedule, ...] = (
    _Schedule("24 heures par semaine", "24 hours a week", _RECURRING, 24, 24),
    _Schedule("28 heures par semaine", "28 hours a week", _RECURRING, 28, 28),
    _Schedule("24 à 30 heures par semaine", "24-30 hours a week", _RECURRING, 24, 30),
)

_AUDIENCES_FR: tuple[tuple[str, ...], ...] = (
    ("tout public",),
    ("salariés en mécénat de compétences",),
    ("salariés en mécénat de compétences", "retraités"),
    ("étudiants", "jeunes actifs"),
    ("retraités",),
    ("tout public", "étudiants"),
)
_AUDIENCES_EN: tuple[tuple[str, ...], ...] = (
    ("employees",),
    ("professionals",),
    ("employees", "retirees"),
    ("students",),
    ("all",),
)
_TAGS_FR: tuple[str, ...] = (
    "solidarité",
    "urgent",
    "week-end",
    "en équipe",
    "débutants bienvenus",
    "quartier",
    "jeunesse",
    "accessibilité",
)
_TAGS_EN: tuple[str, ...] = ("urgent", "weekend", "team", "beginner friendly", "impact")

_HEADCOUNTS_FR = ("une vingtaine", "une cinquantaine", "une centaine", "plus de 200")
_HEADCOUNTS_EN = ("about twenty", "about fifty", "about a hundred", "over 200")


# --------------------------------------------------------------------------------------------
# Generation


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


_Filler = tuple[str, str, str]


def _filler(rng: Random, options: Sequence[_Filler], cause: str) -> _Filler:
    """Mostly a filler matching the organization's cause: a shelter asks help for a shelter."""
    matching = [o for o in options if o[2] == cause]
    return rng.choice(matching if matching and rng.random() < 0.7 else options)


def _title(
    rng: Random, template: _Template, english: bool, org_cause: str
) -> tuple[str, list[str]]:
    """Fill a title template; returns the title and the causes the filler adds."""
    pattern = template.en if english else template.fr
    extra: list[str] = []
    if "{s}" in pattern:
        fr, en, cause = _filler(rng, _STRUCTURES, org_cause)
        pattern = pattern.replace("{s}", en if english else fr)
        extra.append(cause)
    if "{p}" in pattern or "{de_p}" in pattern:
        fr, en, cause = _filler(rng, _PUBLICS, org_cause)
        pattern = pattern.replace("{p}", en if english else fr).replace("{de_p}", _de(fr))
        extra.append(cause)
    return pattern, extra


_CIVIC_PREFIX = re.compile(r"^Civic service: |^Service civique\s*[:-]\s*")


def _subject_fr(name: str) -> str:
    """The organization as a sentence subject: "La Fondation X", "L'association Les Jardins…"."""
    if name.startswith("Fondation "):
        return f"La {name}"
    if name.startswith("Association "):
        return f"L'{_lower_first(name)}"
    return f"L'association {name}"


def _street(rng: Random) -> str | None:
    if rng.random() < 0.1:
        return None
    number = rng.choice((1, 2, 3, 4, 5, 7, 8, 10, 12, 14, 15, 18, 21, 24, 27, 33, 42, 56, 101))
    suffix = " bis" if rng.random() < 0.05 else ""
    return f"{number}{suffix} {rng.choice(_STREETS)}"


def _location(rng: Random, commune: _Commune) -> Location:
    return Location(
        street=_street(rng),
        postal_code=commune.postal_code,
        city=commune.name,
        department_code=commune.department_code,
        region=commune.region,
        country="FR",
        latitude=commune.latitude,
        longitude=commune.longitude,
        geo_source=GeoSource.PARTNER,
    )


def _locations(rng: Random, table: _Communes, org: _Org, remote: Remote) -> list[_Commune]:
    """Mostly one place near the organization; sometimes 2-3; fully remote may have none."""
    if remote is Remote.FULL:
        return [] if rng.random() < 0.5 else [org.home]
    first = org.home if rng.random() < 0.65 else _pick_commune(rng, table)
    roll = rng.random()
    count = 1 if roll < 0.80 else 2 if roll < 0.94 else 3
    chosen = [first]
    while len(chosen) < count:
        if rng.random() < 0.6:
            extra = rng.choice(table.by_department[first.department_code])
        else:
            extra = _pick_commune(rng, table)
        if extra not in chosen:
            chosen.append(extra)
    return chosen


def _sentences(
    rng: Random,
    *,
    english: bool,
    org: OrganizationDraft,
    city: str,
    title: str,
    skills: Sequence[str],
    schedule: str,
    remote: Remote,
    engagement: EngagementType,
) -> list[str]:
    """Two to four sentences: who, what, then some of skills, schedule, remote, practicalities."""
    year = rng.randrange(1985, 2024)
    skill = rng.choice(skills)
    civic = engagement is EngagementType.CIVIC_SERVICE
    task = _CIVIC_PREFIX.sub("", title)
    if not english:  # "French lessons" keeps its capital in English
        task = _lower_first(task)
    local = city in org.name  # "X de Rennes agit à Rennes" reads badly
    if english:
        where = "locally" if local else f"in {city}"
        intro = rng.choice(
            (
                f"{org.name} has been working {where} since {year}.",
                f"Founded in {year}, {org.name} brings together "
                f"{rng.choice(_HEADCOUNTS_EN)} volunteers {where}.",
            )
        )
        who = (
            "a civic service volunteer"
            if civic
            else "a skilled volunteer"
            if engagement is EngagementType.SKILLS_VOLUNTEERING
            else "a volunteer"
        )
        what = rng.choice(
            (
                f"We are looking for {who} for this mission: {task}.",
                f"Your mission: {task}, alongside our staff.",
            )
        )
        remote_text = {
            Remote.FULL: "The mission is fully remote.",
            Remote.POSSIBLE: "Part of the work can be done remotely.",
            Remote.NONE: "The mission takes place on site.",
        }[remote]
        optional = [
            f"Experience in {skill} is expected.",
            f"Expected time: {schedule}.",
            remote_text,
            rng.choice(
                (
                    "A staff member will support you throughout the mission.",
                    "Travel expenses are covered.",
                    "This mission is ideal for employees in a skills-based volunteering scheme.",
                )
            ),
        ]
    else:
        where = "sur le territoire" if local else _a_city(city)
        subject = _subject_fr(org.name)
        intro = rng.choice(
            (
                f"{subject} agit {where} depuis {year}.",
                f"Depuis {year}, {_lower_first(subject)} rassemble "
                f"{rng.choice(_HEADCOUNTS_FR)} de bénévoles {where}.",
                f"Créée en {year}, {_lower_first(subject)} mène des actions de proximité {where}.",
            )
        )
        who = "un ou une volontaire en service civique" if civic else "un ou une bénévole"
        what = rng.choice(
            (
                f"Nous recherchons {who} pour la mission suivante : {task}.",
                f"Votre mission : {task}, en lien avec l'équipe salariée.",
            )
        )
        remote_text = {
            Remote.FULL: "La mission se déroule entièrement à distance.",
            Remote.POSSIBLE: "Une partie de la mission peut se faire à distance.",
            Remote.NONE: "La mission se déroule sur place.",
        }[remote]
        skill_text = (
            "Aucune compétence particulière n'est requise, une formation est prévue."
            if engagement is not EngagementType.SKILLS_VOLUNTEERING and rng.random() < 0.5
            else rng.choice(
                (
                    f"Des compétences en {skill} sont appréciées.",
                    f"Une expérience en {skill} serait un plus.",
                )
            )
        )
        optional = [
            skill_text,
            f"Disponibilité souhaitée : {schedule}.",
            remote_text,
            rng.choice(
                (
                    "Un accompagnement est assuré tout au long de la mission.",
                    "Les frais de déplacement sont remboursés.",
                    "Cette mission s'adresse notamment aux salariés en mécénat de compétences.",
                )
            ),
        ]
    extra = rng.sample(optional, rng.randrange(0, 3))
    return [intro, what, *extra]


def _html(rng: Random, sentences: Sequence[str]) -> str:
    """The same text as HTML: one paragraph, sometimes ending with a bullet list."""
    escaped = [html.escape(s, quote=False) for s in sentences]
    if len(escaped) >= 3 and rng.random() < 0.4:
        items = "".join(f"<li>{s}</li>" for s in escaped[2:])
        return f"<p>{' '.join(escaped[:2])}</p><ul>{items}</ul>"
    return f"<p>{' '.join(escaped)}</p>"


def _partner_skill(label: str, partner: str) -> str:
    """Partners write labels their own way: capitalized on benevolat-france, English on SFG."""
    if partner == _SFG:
        return _SKILL_EN[label]
    if partner == _BF:
        return label[:1].upper() + label[1:]
    return label


def _engagement(rng: Random, partner: str) -> EngagementType:
    roll = rng.random()
    if partner == _SFG:
        return (
            EngagementType.SKILLS_VOLUNTEERING
            if roll < 0.88
            else EngagementType.VOLUNTEERING
            if roll < 0.98
            else EngagementType.OTHER
        )
    if partner == _API:
        if roll < 0.12:
            return EngagementType.CIVIC_SERVICE
        if roll < 0.14:
            return EngagementType.OTHER
        return EngagementType.SKILLS_VOLUNTEERING if roll < 0.50 else EngagementType.VOLUNTEERING
    if roll < 0.03:
        return EngagementType.OTHER
    return EngagementType.SKILLS_VOLUNTEERING if roll < 0.45 else EngagementType.VOLUNTEERING


def _remote(rng: Random, engagement: EngagementType) -> Remote:
    roll = rng.random()
    if engagement is EngagementType.CIVIC_SERVICE:  # civic service is done on site
        return Remote.POSSIBLE if roll < 0.2 else Remote.NONE
    # POSSIBLE is drawn a little above 30%: hands-on missions turn some of it into NONE.
    return Remote.FULL if roll < 0.35 else Remote.POSSIBLE if roll < 0.72 else Remote.NONE


def _at_hour(day: datetime, rng: Random) -> datetime:
    return day.replace(
        hour=rng.choice((7, 8, 9, 12, 13, 16, 17)),
        minute=rng.choice((0, 0, 30)),
        second=0,
        microsecond=0,
    )


def _mission(rng: Random, table: _Communes, org: _Org, partner: str, now: datetime) -> MissionDraft:
    """One mission by `org` on `partner`, without its external id yet."""
    english = partner == _SFG
    engagement = _engagement(rng, partner)
    remote = _remote(rng, engagement)
    remote_only = remote is Remote.FULL
    if engagement is EngagementType.CIVIC_SERVICE:
        template = rng.choice(_CIVIC_TEMPLATES)
    elif rng.random() < 0.5 and _BY_CAUSE[org.cause, remote_only]:
        template = rng.choice(_BY_CAUSE[org.cause, remote_only])
    else:
        template = rng.choice(_REMOTE_TEMPLATES if remote_only else _REGULAR_TEMPLATES)
    if remote is Remote.POSSIBLE and template.fr in _ON_SITE and rng.random() < 0.5:
        remote = Remote.NONE
    title, filler_causes = _title(rng, template, english, org.cause)

    causes: list[str] = []
    for cause in (*template.causes, *filler_causes):
        if cause not in causes:
            causes.append(cause)
    causes = causes[:3]
    if (
        partner == _API
        and engagement is EngagementType.SKILLS_VOLUNTEERING
        and "benevolat-competences" not in causes
        and rng.random() < 0.25
    ):
        causes.append("benevolat-competences")
    if english:
        causes = [_CAUSE_EN[c] for c in causes]
    skills = [_partner_skill(s, partner) for s in template.skills]

    communes = _locations(rng, table, org, remote)

    civic = engagement is EngagementType.CIVIC_SERVICE
    schedule = rng.choice(_CIVIC_SCHEDULES if civic else _SCHEDULES)
    hours_min, hours_max = schedule.hours_min, schedule.hours_max
    if hours_min is not None and rng.random() < 0.1:  # label only, no figures
        hours_min = hours_max = None
    label = schedule.en if english else schedule.fr

    start = _at_hour(now + timedelta(days=rng.randint(-60, 120)), rng)
    end: datetime | None
    if civic:
        end = start + timedelta(days=30 * rng.randint(6, 10))
    elif rng.random() < 0.25:
        end = None
    elif schedule.kind is CommitmentKind.ONE_OFF:
        end = start + timedelta(hours=schedule.total_hours or 4, days=rng.choice((0, 0, 1, 2)))
    else:
        end = start + timedelta(days=rng.choice((30, 60, 90, 120, 180, 365)))
    posted = now - timedelta(seconds=rng.randrange(90 * 86400))

    places_total: int | None = None
    places_remaining: int | None = None
    if rng.random() < 0.95:
        places_total = rng.choices(range(1, 11), weights=(30, 20, 12, 8, 8, 4, 3, 3, 2, 10))[0]
        places_remaining = places_total if rng.random() < 0.6 else rng.randint(0, places_total)

    sentences = _sentences(
        rng,
        english=english,
        org=org.draft,
        city=org.home.city,
        title=title,
        skills=[_SKILL_EN[s] for s in template.skills] if english else template.skills,
        schedule=label,
        remote=remote,
        engagement=engagement,
    )
    tags = rng.sample(_TAGS_EN if english else _TAGS_FR, rng.randint(0, 2))
    if engagement is EngagementType.SKILLS_VOLUNTEERING:
        tags.insert(0, "skills-based" if english else "mécénat de compétences")
    if remote is not Remote.NONE:
        tags.append("remote" if english else "télétravail")

    if civic:
        audience = ["jeunes de 16 à 25 ans"]
        minors: bool | None = True
    else:
        audience = list(rng.choice(_AUDIENCES_EN if english else _AUDIENCES_FR))
        minors = rng.choice((True, False, False, None))
    accessible = None if remote is Remote.FULL else rng.choice((True, False, None))

    return MissionDraft(
        external_id="",
        title=title,
        description=" ".join(sentences),
        description_html=_html(rng, sentences),
        tags=tags,
        engagement_type=engagement,
        remote=remote,
        locations=[_location(rng, c) for c in communes],
        causes=causes,
        skills=skills,
        audience=audience,
        start_at=start,
        end_at=end,
        posted_at=posted,
        hours_per_week_min=hours_min,
        hours_per_week_max=hours_max,
        total_hours=schedule.total_hours,
        commitment_kind=schedule.kind,
        schedule_label=label,
        places_total=places_total,
        places_remaining=places_remaining,
        organization=replace(org.draft),
        open_to_minors=minors,
        reduced_mobility_accessible=accessible,
    )


def _title_variant(rng: Random, title: str, city: str | None) -> str:
    """How the same title drifts when an association types it again on another platform."""
    roll = rng.random()
    if roll < 0.2:
        return title.upper()
    if roll < 0.35:
        return title.lower()
    if roll < 0.5:
        return " ".join(w[:1].upper() + w[1:] for w in title.split(" "))
    if roll < 0.75 and city:
        return rng.choice((f"{title} - {city}", f"{title} ({city})", f"{title} à {city}"))
    return title + rng.choice((" (mécénat de compétences)", " – bénévolat", " !", "."))


def _republish(rng: Random, source: MissionDraft, target: str, now: datetime) -> MissionDraft:
    """The same mission posted again by its organization on a second French partner."""
    city = source.locations[0].city if source.locations else None
    org = source.organization
    if org is not None:
        org = replace(org, siret=None) if rng.random() < 0.3 else replace(org)
    locations = [
        replace(loc, street=None) if rng.random() < 0.3 else replace(loc)
        for loc in source.locations
    ]
    first_posted = source.posted_at or now
    posted = min(now, first_posted + timedelta(seconds=rng.randrange(14 * 86400)))
    causes = list(source.causes)
    if len(causes) > 1 and rng.random() < 0.3:
        causes.pop()
    return replace(
        source,
        external_id="",
        title=_title_variant(rng, source.title, city),
        tags=list(source.tags),
        locations=locations,
        causes=causes,
        skills=[_partner_skill(s.lower(), target) for s in source.skills],
        audience=list(source.audience),
        posted_at=posted,
        organization=org,
    )


def _assign_ids(rng: Random, partner: _Partner, drafts: list[MissionDraft]) -> None:
    """Partner-specific id styles: "BF-000123", numeric strings, "sfg_ab12cd"."""
    counter = (
        rng.randint(1_000, 5_000) if partner.name == _BF else rng.randint(4_100_000, 4_200_000)
    )
    seen: set[str] = set()
    alphabet = string.ascii_lowercase + string.digits
    for draft in drafts:
        if partner.name == _BF:
            counter += rng.randint(1, 4)
            external_id = f"BF-{counter:06d}"
        elif partner.name == _API:
            counter += rng.randint(1, 40)
            external_id = str(counter)
        else:
            external_id = "sfg_" + "".join(rng.choices(alphabet, k=6))
            while external_id in seen:
                external_id = "sfg_" + "".join(rng.choices(alphabet, k=6))
            seen.add(external_id)
        draft.external_id = external_id
        draft.application_url = f"https://{partner.domain}/missions/{external_id}"


def demo_catalogue(
    missions: int = 2400, seed: int = 7, now: datetime | None = None
) -> dict[str, list[MissionDraft]]:
    """`missions` drafts grouped by partner name, deterministic for a given (missions, seed, now).

    About 3% of them are missions re-published by their organization on a second French
    partner (same organization and city, slightly different title), for dedup to find.
    """
    if missions < 0:
        raise ValueError("missions must be >= 0")
    if now is None:
        now = DEFAULT_NOW
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)

    rng = Random(seed)
    table = _communes()
    orgs = _organizations(rng, table)
    by_partner = {p.name: [o for o in orgs if p.name in o.partners] for p in _PARTNER_LIST}
    org_weights = {id(o): rng.uniform(0.5, 3.0) ** 2 for o in orgs}  # some publish a lot more
    cum_weights: dict[str, list[float]] = {}
    for name, members in by_partner.items():
        total = 0.0
        cum: list[float] = []
        for org in members:
            total += org_weights[id(org)]
            cum.append(total)
        cum_weights[name] = cum

    duplicates = round(missions * _DUPLICATE_SHARE)
    names = [p.name for p in _PARTNER_LIST]
    shares = [p.share for p in _PARTNER_LIST]
    catalogue: dict[str, list[MissionDraft]] = {name: [] for name in names}
    owners: list[tuple[str, _Org, MissionDraft]] = []
    for partner in rng.choices(names, weights=shares, k=missions - duplicates):
        org = rng.choices(by_partner[partner], cum_weights=cum_weights[partner])[0]
        draft = _mission(rng, table, org, partner, now)
        catalogue[partner].append(draft)
        owners.append((partner, org, draft))

    # Re-publications between the two French partners, preferring organizations on both.
    french = [
        item
        for item in owners
        if item[0] != _SFG and item[2].engagement_type is not EngagementType.CIVIC_SERVICE
    ]
    on_both = [item for item in french if {_BF, _API} <= set(item[1].partners)]
    others = [item for item in french if not {_BF, _API} <= set(item[1].partners)]
    sources = rng.sample(on_both, min(duplicates, len(on_both)))
    sources += rng.sample(others, min(duplicates - len(sources), len(others)))
    for partner, _, draft in sources:
        target = _API if partner == _BF else _BF
        copy = _republish(rng, draft, target, now)
        bucket = catalogue[target]
        bucket.insert(rng.randint(0, len(bucket)), copy)

    for partner_config in _PARTNER_LIST:
        _assign_ids(rng, partner_config, catalogue[partner_config.name])
    return catalogue
