"""Deterministic, realistic missions for the simulated partners: mission(i) is always the same.

Each partner renders these neutral records in its own format, so the same catalogue can be
checked through four protocols. Generated one at a time from its index, so a feed of 20,000
missions can be streamed without ever being held in memory.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

__all__ = ["City", "Mission", "mission"]


@dataclass(frozen=True)
class City:
    name: str
    postal_code: str
    department: str
    region: str
    country: str
    latitude: float
    longitude: float


FRENCH_CITIES = (
    City("Paris", "75004", "75", "Île-de-France", "FR", 48.8541, 2.3643),
    City("Lyon", "69001", "69", "Auvergne-Rhône-Alpes", "FR", 45.7676, 4.8344),
    City("Marseille", "13001", "13", "Provence-Alpes-Côte d'Azur", "FR", 43.2965, 5.3698),
    City("Lille", "59000", "59", "Hauts-de-France", "FR", 50.6292, 3.0573),
    City("Bordeaux", "33000", "33", "Nouvelle-Aquitaine", "FR", 44.8378, -0.5792),
    City("Nantes", "44000", "44", "Pays de la Loire", "FR", 47.2184, -1.5536),
    City("Bourg-en-Bresse", "01000", "01", "Auvergne-Rhône-Alpes", "FR", 46.2052, 5.2255),
    City("Strasbourg", "67000", "67", "Grand Est", "FR", 48.5734, 7.7521),
)
US_CITIES = (
    City("New York", "10001", "", "NY", "US", 40.7506, -73.9972),
    City("San Francisco", "94103", "", "CA", "US", 37.7725, -122.4147),
    City("Chicago", "60601", "", "IL", "US", 41.8858, -87.6181),
    City("Austin", "78701", "", "TX", "US", 30.2711, -97.7437),
    City("Seattle", "98101", "", "WA", "US", 47.6101, -122.3364),
)
# (API Engagement slug, the French label partners write, an English label for US partners)
DOMAINS = (
    ("environnement", "Environnement", "Environment & Sustainability"),
    ("solidarite-insertion", "Solidarité et insertion", "Poverty & Hunger"),
    ("education", "Éducation pour tous", "Education & Literacy"),
    ("sante", "Santé pour tous", "Health & Medicine"),
    ("memoire-et-citoyennete", "mémoire et citoyenneté", "Civic Engagement"),
    ("benevolat-competences", "Bénévolat de compétences", "Pro Bono"),
    ("culture-loisirs", "Art et culture pour tous", "Arts & Culture"),
    ("numerique", "Numérique", "Technology"),
)
ACTIVITIES = ("logistique", "Animation, Valorisation", "informatique", "conseil", "communication")
SKILLS = ("Écoute active", "Gestion de projet", "Développement web", "Comptabilité", "Graphisme")
SCHEDULES = ("1 demi-journée par semaine", "2 heures par semaine", "Ponctuel", "4h/semaine")
TITLES = (
    "Refonte du site web d'une association",
    "Accompagnement comptable d'une épicerie solidaire",
    "Aide aux devoirs en visio",
    "Animation d'ateliers numériques pour seniors",
    "Conseil juridique pour une association de quartier",
    "Collecte alimentaire du week-end",
)
ORGS = (
    ("Les Restos du Cœur", "W751079364", "775671356"),
    ("Emmaüs Connect", "W751207498", "797979797"),
    ("Banque Alimentaire du Rhône", "W691055287", "339863417"),
    ("Association Lire et Faire Lire", "W751131290", "419871356"),
)
REMOTES = ("no", "possible", "full")
TYPES = ("benevolat", "benevolat", "benevolat", "volontariat_service_civique")
EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Mission:
    index: int
    id: str
    title: str
    description_html: str
    url: str
    posted: date
    start: date
    end: date
    remote: str
    kind: str
    domain: str
    domain_label: str
    domain_english: str
    activity: str
    soft_skills: tuple[str, ...]
    tags: tuple[str, ...]
    audience: tuple[str, ...]
    city: City
    street: str
    org_name: str
    org_rna: str
    org_siren: str
    places: int
    schedule: str
    updated: datetime


def mission(index: int, *, us: bool = False) -> Mission:
    """The `index`-th mission of a partner's catalogue; the same for every call."""
    rng = random.Random(index * 7919 + 17)
    cities = US_CITIES if us else FRENCH_CITIES
    city = cities[rng.randrange(len(cities))]
    slug, label, english = DOMAINS[rng.randrange(len(DOMAINS))]
    org = ORGS[rng.randrange(len(ORGS))]
    title = f"{TITLES[rng.randrange(len(TITLES))]} (n°{index})"
    start = date(2026, 1, 1) + timedelta(days=rng.randrange(300))
    paragraphs = "".join(
        f"<p>{rng.choice(SKILLS)} : nous cherchons une personne pour nous aider, "
        f"quelques heures par semaine, auprès de l'équipe de {city.name}.</p>"
        for _ in range(rng.randrange(1, 4))
    )
    return Mission(
        index=index,
        id=f"M{index:06d}",
        title=title,
        description_html=f"<p><strong>{title}</strong></p>{paragraphs}<ul><li>Écoute</li></ul>",
        url=f"https://partner.example/missions/M{index:06d}",
        posted=start - timedelta(days=rng.randrange(1, 60)),
        start=start,
        end=start + timedelta(days=rng.randrange(14, 200)),
        remote=REMOTES[rng.randrange(len(REMOTES))],
        kind=TYPES[rng.randrange(len(TYPES))],
        domain=slug,
        domain_label=label,
        domain_english=english,
        activity=ACTIVITIES[rng.randrange(len(ACTIVITIES))],
        soft_skills=tuple(rng.sample(SKILLS, 2)),
        tags=("solidarité", slug),
        audience=("Tous publics",),
        city=city,
        street=f"{rng.randrange(1, 120)} rue de la République",
        org_name=org[0],
        org_rna=org[1],
        org_siren=org[2],
        places=rng.randrange(1, 6),
        schedule=SCHEDULES[rng.randrange(len(SCHEDULES))],
        updated=EPOCH + timedelta(minutes=index),
    )
