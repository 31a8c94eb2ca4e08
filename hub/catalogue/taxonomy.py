"""Canonical causes and skills, so missions from every partner share one vocabulary.

Causes are the 20 API Engagement domains; skills are the hub's own taxonomy for
skills-based volunteering. Partners send free labels ("Solidarité et insertion",
"health", "Développeur Web"); `map_cause` / `map_skill` turn them into slugs, or return
None so the pipeline keeps the raw label instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hub.catalogue.text import fold, stem

__all__ = [
    "CAUSES",
    "CAUSE_SLUGS",
    "SKILLS",
    "SKILL_SLUGS",
    "Cause",
    "Skill",
    "cause_label",
    "map_cause",
    "map_skill",
    "skill_label",
]


@dataclass(frozen=True, slots=True)
class Cause:
    """One API Engagement domain, with the labels partners write for it."""

    slug: str
    label: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Skill:
    """One canonical skill, with the job titles and tool words partners write for it."""

    slug: str
    label: str
    synonyms: tuple[str, ...] = ()


CAUSES: tuple[Cause, ...] = (
    Cause(
        "animaux",
        "Animaux",
        (
            "animal",
            "protection animale",
            "protection des animaux",
            "bien-être animal",
            "cause animale",
            "faune sauvage",
            "animals",
            "animal welfare",
            "animal rescue",
            "wildlife",
        ),
    ),
    Cause("autre", "Autre", ("autres", "divers", "other", "others", "miscellaneous", "misc")),
    Cause(
        "batiment-industrie-logistique",
        "Bâtiment, industrie, logistique",
        (
            "bâtiment",
            "BTP",
            "industrie",
            "logistique",
            "construction",
            "rénovation",
            "building",
            "industry",
            "logistics",
        ),
    ),
    Cause(
        "benevolat-competences",
        "Bénévolat de compétences",
        (
            "bénévolat de compétences",
            "mécénat de compétences",
            "skills-based volunteering",
            "skilled volunteering",
            "pro bono",
            "probono",
        ),
    ),
    Cause(
        "communication",
        "Communication",
        ("médias", "media", "media & broadcasting", "journalisme", "journalism"),
    ),
    Cause(
        "culture-loisirs",
        "Culture et loisirs",
        (
            "culture",
            "loisirs",
            "culture & loisirs",
            "art",
            "arts",
            "art et culture",
            "art et culture pour tous",
            "arts & culture",
            "patrimoine",
            "heritage",
            "leisure",
        ),
    ),
    Cause(
        "education",
        "Éducation",
        (
            "éducation pour tous",
            "enseignement",
            "soutien scolaire",
            "jeunesse",
            "enfance",
            "éducation populaire",
            "alphabétisation",
            "illettrisme",
            "education & literacy",
            "literacy",
            "children & youth",
            "children",
            "youth",
        ),
    ),
    Cause(
        "emploi",
        "Emploi",
        (
            "insertion professionnelle",
            "retour à l'emploi",
            "orientation professionnelle",
            "entrepreneuriat",
            "création d'entreprise",
            "employment",
            "jobs",
            "employability",
            "workforce development",
            "entrepreneurship",
        ),
    ),
    Cause(
        "environnement",
        "Environnement",
        (
            "protection de la nature",
            "nature",
            "écologie",
            "biodiversité",
            "climat",
            "transition écologique",
            "développement durable",
            "environment",
            "climate",
            "sustainability",
            "conservation",
        ),
    ),
    Cause(
        "gestion-finance-droit",
        "Gestion, finance, droit",
        (
            "gestion",
            "finance",
            "droit",
            "juridique",
            "accès au droit",
            "law",
            "legal",
            "justice & legal",
            "justice",
        ),
    ),
    Cause(
        "humanitaire",
        "Humanitaire",
        (
            "action humanitaire",
            "solidarité internationale",
            "coopération internationale",
            "développement international et action humanitaire",
            "aide d'urgence",
            "intervention d'urgence en cas de crise",
            "droits humains",
            "droits de l'homme",
            "humanitarian",
            "humanitarian aid",
            "international",
            "international development",
            "disaster relief",
            "human rights",
            "advocacy & human rights",
        ),
    ),
    Cause(
        "memoire-et-citoyennete",
        "Mémoire et citoyenneté",
        (
            "mémoire",
            "citoyenneté",
            "mémoire & citoyenneté",
            "devoir de mémoire",
            "engagement citoyen",
            "démocratie",
            "anciens combattants",
            "civic engagement",
            "citizenship",
            "politics",
            "veterans",
            "veterans & military families",
        ),
    ),
    Cause(
        "numerique",
        "Numérique",
        (
            "inclusion numérique",
            "fracture numérique",
            "informatique",
            "digital",
            "digital inclusion",
            "technology",
            "tech",
            "computers & technology",
        ),
    ),
    Cause(
        "prevention-protection",
        "Prévention et protection",
        (
            "prévention",
            "protection",
            "prévention & protection",
            "secourisme",
            "premiers secours",
            "sécurité civile",
            "protection civile",
            "prevention",
            "emergency & safety",
            "emergency",
            "safety",
            "crisis support",
        ),
    ),
    Cause(
        "recherche",
        "Recherche",
        (
            "recherche scientifique",
            "recherche médicale",
            "science",
            "sciences",
            "research",
            "scientific research",
        ),
    ),
    Cause(
        "sante",
        "Santé",
        (
            "santé pour tous",
            "médical",
            "soins",
            "santé mentale",
            "health",
            "health & medicine",
            "healthcare",
            "medicine",
            "mental health",
        ),
    ),
    Cause(
        "service-public-defense-securite",
        "Service public, défense, sécurité",
        (
            "service public",
            "défense",
            "sécurité",
            "armée",
            "police",
            "gendarmerie",
            "public service",
            "defense",
            "defence",
            "security",
            "military",
        ),
    ),
    Cause(
        "sport",
        "Sport",
        (
            "sports",
            "sport pour tous",
            "activité physique",
            "sports & recreation",
            "physical activity",
        ),
    ),
    Cause(
        "solidarite-insertion",
        "Solidarité et insertion",
        (
            "solidarité",
            "insertion",
            "solidarité & insertion",
            "lutte contre l'exclusion",
            "exclusion",
            "précarité",
            "pauvreté",
            "aide alimentaire",
            "sans-abri",
            "personnes âgées",
            "handicap",
            "réfugiés",
            "migrants",
            "poverty",
            "hunger",
            "food security",
            "homelessness",
            "homeless & housing",
            "immigrants & refugees",
            "refugees",
            "seniors",
            "people with disabilities",
            "disability",
            "social inclusion",
        ),
    ),
    Cause(
        "vivre-ensemble",
        "Vivre ensemble",
        (
            "lien social",
            "intergénérationnel",
            "mixité sociale",
            "égalité",
            "égalité femmes-hommes",
            "lutte contre les discriminations",
            "community",
            "community development",
            "social cohesion",
            "diversity",
            "gender equality",
        ),
    ),
)

SKILLS: tuple[Skill, ...] = (
    # Numérique
    Skill(
        "developpement-web",
        "Développement web",
        (
            "développeur web",
            "développeur",
            "dev web",
            "web developer",
            "web development",
            "frontend",
            "front-end",
            "backend",
            "back-end",
            "full stack",
            "site internet",
            "WordPress",
        ),
    ),
    Skill(
        "developpement-mobile",
        "Développement mobile",
        (
            "développeur mobile",
            "application mobile",
            "mobile developer",
            "mobile development",
            "iOS",
            "Android",
            "React Native",
            "Flutter",
        ),
    ),
    Skill(
        "analyse-de-donnees",
        "Analyse de données",
        (
            "data analyse",
            "data analysis",
            "data analyst",
            "analyste de données",
            "Excel",
            "tableur",
            "tableaux de bord",
            "dashboard",
            "Power BI",
            "statistiques",
            "statistics",
        ),
    ),
    Skill(
        "data-science-ia",
        "Data science et IA",
        (
            "data science",
            "data scientist",
            "intelligence artificielle",
            "IA",
            "AI",
            "artificial intelligence",
            "machine learning",
            "apprentissage automatique",
            "deep learning",
        ),
    ),
    Skill(
        "administration-bases-de-donnees",
        "Administration de bases de données",
        (
            "base de données",
            "database",
            "database administration",
            "database administrator",
            "DBA",
            "SQL",
            "PostgreSQL",
            "MySQL",
        ),
    ),
    Skill(
        "cloud-devops",
        "Cloud et DevOps",
        (
            "cloud",
            "DevOps",
            "AWS",
            "Azure",
            "administration système",
            "administrateur système",
            "sysadmin",
            "system administration",
            "Docker",
            "Kubernetes",
        ),
    ),
    Skill(
        "support-informatique",
        "Support informatique",
        (
            "informatique",
            "assistance informatique",
            "maintenance informatique",
            "dépannage informatique",
            "technicien informatique",
            "helpdesk",
            "IT",
            "IT support",
            "tech support",
        ),
    ),
    Skill(
        "cybersecurite",
        "Cybersécurité",
        (
            "sécurité informatique",
            "sécurité des systèmes d'information",
            "SSI",
            "cybersecurity",
            "information security",
            "infosec",
            "pentest",
        ),
    ),
    Skill(
        "mediation-numerique",
        "Médiation numérique",
        (
            "médiateur numérique",
            "conseiller numérique",
            "inclusion numérique",
            "accompagnement numérique",
            "initiation informatique",
            "digital inclusion",
            "digital literacy",
        ),
    ),
    Skill(
        "bureautique",
        "Bureautique",
        (
            "pack Office",
            "Microsoft Office",
            "Word",
            "PowerPoint",
            "Google Workspace",
            "traitement de texte",
            "office software",
        ),
    ),
    # Design et création
    Skill(
        "ux-design",
        "UX design",
        (
            "UX",
            "UI",
            "UX/UI",
            "UI/UX",
            "UX designer",
            "UI designer",
            "user experience",
            "expérience utilisateur",
            "ergonomie",
            "product design",
            "Figma",
        ),
    ),
    Skill(
        "design-graphique",
        "Design graphique",
        (
            "graphiste",
            "graphisme",
            "graphic design",
            "graphic designer",
            "infographie",
            "infographiste",
            "PAO",
            "mise en page",
            "identité visuelle",
            "illustration",
            "Canva",
            "Photoshop",
        ),
    ),
    Skill(
        "photographie",
        "Photographie",
        (
            "photographe",
            "photo",
            "photography",
            "photographer",
            "retouche photo",
            "Lightroom",
        ),
    ),
    Skill(
        "video",
        "Vidéo",
        (
            "vidéaste",
            "montage vidéo",
            "tournage",
            "audiovisuel",
            "motion design",
            "video editing",
            "videographer",
            "filmmaking",
            "Premiere Pro",
        ),
    ),
    Skill(
        "redaction",
        "Rédaction",
        (
            "rédacteur",
            "rédactrice",
            "écriture",
            "rédaction web",
            "relecture",
            "copywriting",
            "copywriter",
            "writing",
            "writer",
            "content writing",
            "proofreading",
        ),
    ),
    Skill(
        "musique",
        "Musique",
        (
            "musicien",
            "musicienne",
            "chant",
            "chorale",
            "music",
            "musician",
            "singing",
            "piano",
            "guitare",
        ),
    ),
    Skill(
        "theatre",
        "Théâtre et arts de la scène",
        (
            "théâtre",
            "comédien",
            "comédienne",
            "improvisation",
            "arts du spectacle",
            "danse",
            "theater",
            "acting",
            "actor",
            "dance",
            "performing arts",
        ),
    ),
    Skill(
        "arts-plastiques",
        "Arts plastiques",
        (
            "dessin",
            "peinture artistique",
            "sculpture",
            "artiste",
            "drawing",
            "painting",
            "fine arts",
            "visual arts",
            "artist",
        ),
    ),
    # Communication et marketing
    Skill(
        "communication",
        "Communication",
        (
            "chargé de communication",
            "chargée de communication",
            "communication externe",
            "communication interne",
            "plan de communication",
            "communications",
            "communication officer",
            "corporate communication",
        ),
    ),
    Skill(
        "relations-presse",
        "Relations presse",
        (
            "attaché de presse",
            "attachée de presse",
            "RP",
            "relations médias",
            "communiqué de presse",
            "press relations",
            "public relations",
            "PR",
            "media relations",
        ),
    ),
    Skill(
        "reseaux-sociaux",
        "Réseaux sociaux",
        (
            "community manager",
            "community management",
            "social media",
            "social media manager",
            "Facebook",
            "Instagram",
            "LinkedIn",
            "TikTok",
        ),
    ),
    Skill(
        "marketing",
        "Marketing",
        (
            "marketing digital",
            "webmarketing",
            "digital marketing",
            "growth hacking",
            "SEO",
            "référencement",
            "référencement naturel",
            "SEA",
            "emailing",
            "étude de marché",
            "market research",
            "branding",
        ),
    ),
    Skill(
        "collecte-de-fonds",
        "Collecte de fonds",
        (
            "fundraising",
            "fundraiser",
            "levée de fonds",
            "recherche de fonds",
            "recherche de mécènes",
            "mécénat",
            "crowdfunding",
            "financement participatif",
            "demande de subvention",
            "grant writing",
        ),
    ),
    Skill(
        "prise-de-parole",
        "Prise de parole en public",
        (
            "prise de parole",
            "éloquence",
            "art oratoire",
            "conférencier",
            "pitch",
            "public speaking",
            "speaker",
        ),
    ),
    Skill(
        "organisation-evenements",
        "Organisation d'événements",
        (
            "événementiel",
            "organisation d'événement",
            "chef de projet événementiel",
            "event",
            "event management",
            "event planning",
            "event planner",
            "gala",
        ),
    ),
    # Langues et transmission
    Skill(
        "traduction",
        "Traduction",
        (
            "traducteur",
            "traductrice",
            "interprétariat",
            "interprète",
            "translation",
            "translator",
            "interpreter",
            "interpreting",
            "localisation",
            "localization",
        ),
    ),
    Skill(
        "langues-etrangeres",
        "Langues étrangères",
        (
            "langues",
            "anglais",
            "espagnol",
            "allemand",
            "arabe",
            "foreign languages",
            "languages",
            "English",
            "Spanish",
            "German",
            "Arabic",
        ),
    ),
    Skill(
        "langue-des-signes",
        "Langue des signes",
        (
            "LSF",
            "langue des signes française",
            "interprète LSF",
            "sign language",
            "ASL",
            "BSL",
        ),
    ),
    Skill(
        "alphabetisation-fle",
        "Alphabétisation et FLE",
        (
            "FLE",
            "français langue étrangère",
            "alphabétisation",
            "cours de français",
            "lutte contre l'illettrisme",
            "literacy",
            "ESL",
            "French teaching",
        ),
    ),
    Skill(
        "enseignement",
        "Enseignement et soutien scolaire",
        (
            "enseignant",
            "professeur",
            "soutien scolaire",
            "aide aux devoirs",
            "tutorat",
            "cours particuliers",
            "teacher",
            "teaching",
            "tutor",
            "tutoring",
            "homework help",
        ),
    ),
    Skill(
        "formation",
        "Formation",
        (
            "formateur",
            "formatrice",
            "ingénierie pédagogique",
            "pédagogie",
            "e-learning",
            "trainer",
            "training",
            "instructional design",
        ),
    ),
    Skill(
        "coaching-mentorat",
        "Coaching et mentorat",
        (
            "coach",
            "coaching",
            "mentor",
            "mentorat",
            "mentoring",
            "parrainage",
            "coach professionnel",
            "career coaching",
        ),
    ),
    Skill(
        "facilitation",
        "Facilitation",
        (
            "facilitateur",
            "facilitatrice",
            "animation d'ateliers",
            "animation de réunion",
            "intelligence collective",
            "facilitator",
            "workshop facilitation",
            "design thinking",
        ),
    ),
    Skill(
        "animation",
        "Animation socioculturelle",
        (
            "animateur",
            "animatrice",
            "BAFA",
            "animation jeunesse",
            "centre de loisirs",
            "activités périscolaires",
            "youth work",
            "youth worker",
        ),
    ),
    Skill(
        "mediation",
        "Médiation",
        (
            "médiateur",
            "médiatrice",
            "médiation sociale",
            "gestion des conflits",
            "résolution de conflits",
            "mediator",
            "conflict resolution",
        ),
    ),
    # Gestion et organisation
    Skill(
        "gestion-de-projet",
        "Gestion de projet",
        (
            "chef de projet",
            "cheffe de projet",
            "chargé de projet",
            "project manager",
            "project management",
            "PMO",
            "agile",
            "Scrum",
            "scrum master",
            "product owner",
        ),
    ),
    Skill(
        "management",
        "Management",
        (
            "manager",
            "encadrement",
            "management d'équipe",
            "gestion d'équipe",
            "team management",
            "people management",
            "leadership",
            "team lead",
        ),
    ),
    Skill(
        "strategie",
        "Stratégie",
        (
            "conseil en stratégie",
            "consultant",
            "consulting",
            "strategy",
            "business plan",
            "plan stratégique",
            "modèle économique",
            "business model",
            "strategic planning",
        ),
    ),
    Skill(
        "gouvernance-associative",
        "Gouvernance associative",
        (
            "gouvernance",
            "conseil d'administration",
            "administrateur",
            "vie associative",
            "governance",
            "board member",
            "nonprofit governance",
            "board development",
        ),
    ),
    Skill(
        "finance",
        "Finance",
        (
            "financier",
            "contrôle de gestion",
            "contrôleur de gestion",
            "gestion budgétaire",
            "budget",
            "analyse financière",
            "trésorerie",
            "DAF",
            "financial analysis",
            "financial controller",
            "CFO",
        ),
    ),
    Skill(
        "comptabilite",
        "Comptabilité",
        (
            "comptable",
            "expert-comptable",
            "tenue de comptabilité",
            "audit financier",
            "commissaire aux comptes",
            "accounting",
            "accountant",
            "bookkeeping",
            "bookkeeper",
            "auditor",
        ),
    ),
    Skill(
        "conseil-juridique",
        "Conseil juridique",
        (
            "juriste",
            "droit",
            "juridique",
            "avocat",
            "avocate",
            "droit des associations",
            "RGPD",
            "lawyer",
            "legal",
            "legal advice",
            "attorney",
            "GDPR",
        ),
    ),
    Skill(
        "ressources-humaines",
        "Ressources humaines",
        (
            "RH",
            "DRH",
            "recrutement",
            "recruteur",
            "paie",
            "HR",
            "human resources",
            "recruitment",
            "recruiter",
            "talent acquisition",
            "payroll",
        ),
    ),
    Skill(
        "gestion-administrative",
        "Gestion administrative",
        (
            "assistant administratif",
            "assistante administrative",
            "secrétariat",
            "secrétaire",
            "saisie de données",
            "office manager",
            "administration",
            "data entry",
        ),
    ),
    Skill(
        "achats",
        "Achats",
        (
            "acheteur",
            "acheteuse",
            "approvisionnement",
            "marchés publics",
            "appels d'offres",
            "procurement",
            "purchasing",
            "buyer",
            "sourcing",
        ),
    ),
    Skill(
        "logistique",
        "Logistique",
        (
            "logisticien",
            "gestion des stocks",
            "entrepôt",
            "manutention",
            "supply chain",
            "logistics",
            "inventory",
            "warehouse",
        ),
    ),
    Skill(
        "qualite",
        "Qualité",
        (
            "démarche qualité",
            "amélioration continue",
            "QHSE",
            "ISO 9001",
            "quality",
            "quality assurance",
            "lean",
            "process improvement",
        ),
    ),
    Skill(
        "evaluation-impact",
        "Évaluation et mesure d'impact",
        (
            "mesure d'impact",
            "évaluation",
            "impact social",
            "étude d'impact",
            "impact measurement",
            "social impact",
            "evaluation",
            "SROI",
        ),
    ),
    # Relation et commerce
    Skill(
        "vente",
        "Vente",
        (
            "commercial",
            "vendeur",
            "développement commercial",
            "prospection",
            "négociation",
            "sales",
            "business developer",
            "business development",
            "negotiation",
            "account manager",
        ),
    ),
    Skill(
        "relation-client",
        "Relation client",
        (
            "service client",
            "relation clientèle",
            "accueil du public",
            "support client",
            "customer service",
            "customer relations",
            "customer success",
            "CRM",
        ),
    ),
    # Social, santé, soin
    Skill(
        "sante-soins",
        "Santé et soins",
        (
            "santé",
            "médecin",
            "infirmier",
            "infirmière",
            "aide-soignant",
            "soignant",
            "paramédical",
            "pharmacien",
            "doctor",
            "nurse",
            "healthcare",
            "medical",
        ),
    ),
    Skill(
        "psychologie",
        "Psychologie et écoute",
        (
            "psychologue",
            "écoute",
            "écoute active",
            "soutien psychologique",
            "psychologie",
            "psychology",
            "psychologist",
            "active listening",
            "counseling",
            "counselling",
        ),
    ),
    Skill(
        "travail-social",
        "Travail social",
        (
            "travailleur social",
            "assistant social",
            "assistante sociale",
            "éducateur spécialisé",
            "accompagnement social",
            "intervention sociale",
            "social work",
            "social worker",
        ),
    ),
    Skill(
        "aide-a-la-personne",
        "Aide à la personne",
        (
            "aide à domicile",
            "auxiliaire de vie",
            "aide aux personnes âgées",
            "accompagnement des personnes âgées",
            "visite à domicile",
            "caregiver",
            "elderly care",
            "home care",
        ),
    ),
    Skill(
        "premiers-secours",
        "Premiers secours",
        (
            "secourisme",
            "secouriste",
            "PSC1",
            "PSE1",
            "PSE2",
            "SST",
            "sauveteur secouriste du travail",
            "first aid",
            "first aider",
            "CPR",
        ),
    ),
    Skill(
        "encadrement-sportif",
        "Encadrement sportif",
        (
            "coach sportif",
            "éducateur sportif",
            "entraîneur",
            "animateur sportif",
            "activité physique adaptée",
            "sports coaching",
            "sports coach",
            "personal trainer",
            "fitness",
        ),
    ),
    # Manuel et terrain
    Skill(
        "bricolage",
        "Bricolage et petits travaux",
        (
            "bricoleur",
            "menuiserie",
            "menuisier",
            "plomberie",
            "électricité",
            "peinture en bâtiment",
            "DIY",
            "carpentry",
            "carpenter",
            "handyman",
            "plumbing",
        ),
    ),
    Skill(
        "jardinage",
        "Jardinage",
        (
            "jardinier",
            "potager",
            "espaces verts",
            "permaculture",
            "maraîchage",
            "paysagiste",
            "gardening",
            "gardener",
            "horticulture",
            "landscaping",
        ),
    ),
    Skill(
        "cuisine",
        "Cuisine",
        (
            "cuisinier",
            "cuisinière",
            "pâtisserie",
            "préparation de repas",
            "restauration collective",
            "cook",
            "cooking",
            "catering",
            "food preparation",
        ),
    ),
    Skill(
        "conduite",
        "Conduite de véhicules",
        (
            "chauffeur",
            "conducteur",
            "permis B",
            "permis de conduire",
            "permis poids lourd",
            "transport de personnes",
            "livraison",
            "driver",
            "driving",
            "delivery",
        ),
    ),
    # Technique, territoire, environnement
    Skill(
        "architecture",
        "Architecture",
        (
            "architecte",
            "architecte d'intérieur",
            "architecture intérieure",
            "architect",
            "interior design",
            "AutoCAD",
            "Revit",
            "BIM",
        ),
    ),
    Skill(
        "urbanisme",
        "Urbanisme",
        (
            "urbaniste",
            "aménagement du territoire",
            "aménagement urbain",
            "développement territorial",
            "urban planning",
            "urban planner",
            "town planning",
            "city planning",
        ),
    ),
    Skill(
        "ingenierie",
        "Ingénierie",
        (
            "ingénieur",
            "ingénieure",
            "bureau d'études",
            "génie civil",
            "mécanique",
            "électronique",
            "engineer",
            "engineering",
            "civil engineering",
            "mechanical engineering",
            "electronics",
        ),
    ),
    Skill(
        "developpement-durable",
        "Environnement et développement durable",
        (
            "environnement",
            "développement durable",
            "transition écologique",
            "RSE",
            "bilan carbone",
            "écologie",
            "environment",
            "sustainability",
            "CSR",
            "carbon footprint",
        ),
    ),
    Skill(
        "recherche",
        "Recherche",
        (
            "chercheur",
            "chercheuse",
            "recherche scientifique",
            "doctorant",
            "veille",
            "research",
            "researcher",
            "scientific research",
            "PhD",
        ),
    ),
)

_SEPARATORS = re.compile(r"[^a-z0-9]+")


def _key(label: str) -> str:
    """Folded label with punctuation collapsed, so spelling variants share one key."""
    return " ".join(part for part in _SEPARATORS.split(fold(label)) if part)


def _stem_key(label: str) -> str:
    """`_key` with each word stemmed, so "comptables" finds "comptable"."""
    return " ".join(stem(part) for part in _key(label).split())


def _build_index(
    entries: Iterable[tuple[str, Iterable[str]]], key: Callable[[str], str] = _key
) -> dict[str, str]:
    """Map each name's key to its slug; raise on a key claimed by two slugs, never pick one."""
    index: dict[str, str] = {}
    for slug, names in entries:
        for name in names:
            k = key(name)
            if not k:
                raise ValueError(f"taxonomy name {name!r} of {slug!r} has an empty key")
            other = index.setdefault(k, slug)
            if other != slug:
                raise ValueError(f"taxonomy name {name!r} ({k!r}) maps to {other!r} and {slug!r}")
    return index


def _cause_names(cause: Cause) -> tuple[str, ...]:
    """Every name that should find this cause."""
    return (cause.slug, cause.label, *cause.aliases)


def _skill_names(skill: Skill) -> tuple[str, ...]:
    """Every name that should find this skill."""
    return (skill.slug, skill.label, *skill.synonyms)


CAUSE_SLUGS: frozenset[str] = frozenset(cause.slug for cause in CAUSES)
SKILL_SLUGS: frozenset[str] = frozenset(skill.slug for skill in SKILLS)
if len(CAUSE_SLUGS) != len(CAUSES) or len(SKILL_SLUGS) != len(SKILLS):
    raise ValueError("taxonomy slugs must be unique")

_CAUSE_INDEX = _build_index((c.slug, _cause_names(c)) for c in CAUSES)
_SKILL_INDEX = _build_index((s.slug, _skill_names(s)) for s in SKILLS)
_SKILL_STEM_INDEX = _build_index(((s.slug, _skill_names(s)) for s in SKILLS), _stem_key)
_CAUSE_LABELS = {cause.slug: cause.label for cause in CAUSES}
_SKILL_LABELS = {skill.slug: skill.label for skill in SKILLS}


def map_cause(label: str) -> str | None:
    """The cause slug for a partner's slug, label or alias; None keeps unknown labels raw."""
    return _CAUSE_INDEX.get(_key(label))


def map_skill(label: str) -> str | None:
    """The skill slug for a slug, label or synonym, tolerating French plurals; else None."""
    key = _key(label)
    if not key:
        return None
    found = _SKILL_INDEX.get(key)
    if found is None:
        found = _SKILL_STEM_INDEX.get(_stem_key(label))
    return found


def cause_label(slug: str) -> str:
    """The French display label of a cause slug (KeyError if the slug is not canonical)."""
    return _CAUSE_LABELS[slug]


def skill_label(slug: str) -> str:
    """The French display label of a skill slug (KeyError if the slug is not canonical)."""
    return _SKILL_LABELS[slug]
