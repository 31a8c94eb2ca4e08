"""A small handcrafted catalogue whose every answer can be worked out by hand.

Each mission exists to be caught (or not) by one filter or order; the comments say which.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hub.catalogue.model import (
    EngagementType,
    Location,
    MissionDraft,
    OrganizationDraft,
    Remote,
)

__all__ = ["INGEST_AT", "catalogue", "filler"]

INGEST_AT = datetime(2026, 11, 15, tzinfo=UTC)


def d(y: int, m: int, day: int) -> datetime:
    return datetime(y, m, day, tzinfo=UTC)


CODE_SOLIDAIRE = OrganizationDraft(name="Code Solidaire", rna="W751000001")
EPICERIE = OrganizationDraft(name="Épicerie du Coin", rna="W691000002", siren="123456782")
FESTIVAL = OrganizationDraft(name="Festival des Lumières Partagées", siren="987654324")


def _m(external_id: str, title: str, **kw: object) -> MissionDraft:
    kw.setdefault("application_url", f"https://partner.example/missions/{external_id}")
    return MissionDraft(external_id=external_id, title=title, **kw)  # type: ignore[arg-type]


def catalogue() -> dict[str, list[MissionDraft]]:
    return {
        "alpha": [
            _m(
                "A1",
                "Développeur web pour une association",
                description_html="<p>Refonte du site d'une association d'aide aux devoirs.</p>",
                remote=Remote.FULL,
                causes=["numerique"],
                skills=["développement web"],
                engagement_type=EngagementType.SKILLS_VOLUNTEERING,
                hours_per_week_min=2,
                hours_per_week_max=4,
                posted_at=d(2026, 10, 1),
                start_at=d(2026, 12, 1),
                end_at=d(2027, 3, 1),
                open_to_minors=False,
                organization=CODE_SOLIDAIRE,
            ),
            _m(
                "A2",
                "Comptabilité d'une épicerie solidaire",
                description="Tenue des comptes et bilan annuel.",
                remote=Remote.NONE,
                locations=[Location(postal_code="69001", city="Lyon")],
                causes=["solidarite-insertion"],
                skills=["comptabilité"],
                hours_per_week_min=4,
                posted_at=d(2026, 9, 15),
                start_at=d(2026, 11, 1),
                organization=EPICERIE,
            ),
            _m(
                "A3",
                "Graphisme pour le festival",
                description="Affiches et programme du festival de quartier.",
                remote=Remote.POSSIBLE,
                locations=[Location(postal_code="75011", city="Paris")],
                causes=["culture-loisirs", "communication"],
                skills=["graphisme"],
                posted_at=d(2026, 10, 20),
                end_at=d(2026, 12, 31),
                open_to_minors=True,
                organization=FESTIVAL,
            ),
            _m(
                "A4",
                "Ancienne mission numérique",
                remote=Remote.FULL,
                causes=["numerique"],
                posted_at=d(2026, 6, 1),
            ),
        ],
        "beta": [
            _m(
                "B1",
                "Mentorat de jeunes développeurs",
                description="Accompagner des jeunes en reconversion vers le numérique.",
                remote=Remote.FULL,
                causes=["education", "emploi"],
                skills=["mentorat"],
                hours_per_week_min=1,
                hours_per_week_max=2,
                posted_at=d(2026, 10, 10),
                start_at=d(2027, 1, 15),
                open_to_minors=False,
            ),
            _m(
                "B2",
                "Service civique dans les écoles",
                description="Ateliers numériques avec des élèves de primaire.",
                engagement_type=EngagementType.CIVIC_SERVICE,
                remote=Remote.NONE,
                locations=[Location(postal_code="13001", city="Marseille")],
                causes=["education"],
                hours_per_week_min=24,
                posted_at=d(2026, 10, 12),
                start_at=d(2027, 2, 1),
                end_at=d(2027, 9, 1),
                open_to_minors=True,
            ),
            _m(
                "B3",
                "Traduction de supports de sensibilisation",
                remote=Remote.FULL,
                causes=["humanitaire"],
                skills=["traduction"],
                posted_at=d(2026, 8, 1),
                hours_per_week_min=3,
            ),
            _m(
                "B4",
                "Jardin partagé de quartier",
                description="Entretien des bacs et animation des ateliers.",
                remote=Remote.NONE,
                locations=[Location(postal_code="69100", city="Villeurbanne")],
                causes=["environnement"],
                skills=["jardinage"],
                hours_per_week_min=2,
                posted_at=d(2026, 10, 25),
                start_at=d(2026, 10, 1),
                end_at=d(2026, 11, 30),
                organization=OrganizationDraft(name="Epicerie du coin", rna="W691000002"),
            ),
        ],
        "gamma": [
            _m(
                "C1",
                "Web developer for a food bank",
                description="Build the volunteer scheduling tool.",
                remote=Remote.FULL,
                causes=["poverty"],
                skills=["web development"],
                engagement_type=EngagementType.SKILLS_VOLUNTEERING,
                posted_at=d(2026, 10, 5),
                hours_per_week_min=5,
            ),
            _m(
                "C2",
                "Data analysis for a charity",
                remote=Remote.POSSIBLE,
                locations=[
                    Location(postal_code="59000", city="Lille"),
                    Location(postal_code="75011", city="Paris"),
                ],
                causes=["health"],
                skills=["data analysis"],
                engagement_type=EngagementType.OTHER,
                posted_at=d(2026, 9, 1),
            ),
            _m(
                "C3",
                "Photographe pour un gala caritatif",
                remote=Remote.NONE,
                locations=[Location(postal_code="33000", city="Bordeaux")],
                causes=["culture-loisirs"],
                skills=["photographie"],
            ),
        ],
    }


def filler(count: int, prefix: str = "F") -> list[MissionDraft]:
    """Missions that differ only by id and posting date, for paging."""
    return [
        _m(
            f"{prefix}{i:03d}",
            f"Mission de remplissage {i}",
            remote=Remote.FULL,
            causes=["autre"],
            posted_at=datetime(2025, 1, 1 + i % 28, i % 24, tzinfo=UTC),
        )
        for i in range(count)
    ]
