"""The real-world material of the fidelity set: communes, associations, cause vocabularies.

Everything here is written from what French volunteering platforms and their international
peers actually publish, never from the hub's rules. Communes and postal codes are real (checked
against the public "base des codes postaux", shared/data/communes-fr.csv); associations are
real, but their RNA and SIREN numbers are synthetic (format-valid, Luhn-valid SIREN) and their
street addresses invented.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CAUSE_VOCABULARY",
    "COMMUNES",
    "NEIGHBOURS",
    "ORGS",
    "STREETS",
    "Commune",
    "Org",
]


@dataclass(frozen=True)
class Commune:
    name: str  # the commune's official name (arrondissements are the commune: "Paris")
    postal_code: str
    department: str
    region: str
    latitude: float
    longitude: float


C = Commune
COMMUNES: tuple[Commune, ...] = (
    C("Paris", "75011", "75", "Île-de-France", 48.8594, 2.3787),
    C("Paris", "75018", "75", "Île-de-France", 48.8927, 2.3487),
    C("Paris", "75013", "75", "Île-de-France", 48.8287, 2.3625),
    C("Paris", "75020", "75", "Île-de-France", 48.8632, 2.4008),
    C("Paris", "75010", "75", "Île-de-France", 48.8760, 2.3611),
    C("Paris", "75019", "75", "Île-de-France", 48.8869, 2.3847),
    C("Paris", "75015", "75", "Île-de-France", 48.8402, 2.2936),
    C("Lyon", "69001", "69", "Auvergne-Rhône-Alpes", 45.7699, 4.8292),
    C("Lyon", "69003", "69", "Auvergne-Rhône-Alpes", 45.7534, 4.8692),
    C("Lyon", "69007", "69", "Auvergne-Rhône-Alpes", 45.7334, 4.8376),
    C("Lyon", "69008", "69", "Auvergne-Rhône-Alpes", 45.7342, 4.8694),
    C("Villeurbanne", "69100", "69", "Auvergne-Rhône-Alpes", 45.7708, 4.8885),
    C("Vénissieux", "69200", "69", "Auvergne-Rhône-Alpes", 45.7038, 4.8814),
    C("Vaulx-en-Velin", "69120", "69", "Auvergne-Rhône-Alpes", 45.7859, 4.9264),
    C("Marseille", "13001", "13", "Provence-Alpes-Côte d'Azur", 43.2999, 5.3823),
    C("Marseille", "13003", "13", "Provence-Alpes-Côte d'Azur", 43.3121, 5.3801),
    C("Marseille", "13013", "13", "Provence-Alpes-Côte d'Azur", 43.3493, 5.4337),
    C("Aix-en-Provence", "13100", "13", "Provence-Alpes-Côte d'Azur", 43.5361, 5.3986),
    C("Lille", "59000", "59", "Hauts-de-France", 50.6317, 3.0478),
    C("Roubaix", "59100", "59", "Hauts-de-France", 50.6880, 3.1826),
    C("Tourcoing", "59200", "59", "Hauts-de-France", 50.7254, 3.1588),
    C("Villeneuve-d'Ascq", "59650", "59", "Hauts-de-France", 50.6324, 3.1535),
    C("Bordeaux", "33000", "33", "Nouvelle-Aquitaine", 44.8572, -0.5737),
    C("Mérignac", "33700", "33", "Nouvelle-Aquitaine", 44.8323, -0.6817),
    C("Pessac", "33600", "33", "Nouvelle-Aquitaine", 44.7916, -0.6763),
    C("Nantes", "44000", "44", "Pays de la Loire", 47.2316, -1.5483),
    C("Saint-Nazaire", "44600", "44", "Pays de la Loire", 47.2803, -2.2538),
    C("Rezé", "44400", "44", "Pays de la Loire", 47.1762, -1.5497),
    C("Toulouse", "31000", "31", "Occitanie", 43.5964, 1.4317),
    C("Blagnac", "31700", "31", "Occitanie", 43.6422, 1.3789),
    C("Montpellier", "34000", "34", "Occitanie", 43.6134, 3.8685),
    C("Nice", "06000", "06", "Provence-Alpes-Côte d'Azur", 43.7120, 7.2383),
    C("Strasbourg", "67000", "67", "Grand Est", 48.5713, 7.7675),
    C("Rennes", "35000", "35", "Bretagne", 48.1120, -1.6819),
    C("Grenoble", "38000", "38", "Auvergne-Rhône-Alpes", 45.1821, 5.7213),
    C("Échirolles", "38130", "38", "Auvergne-Rhône-Alpes", 45.1472, 5.7154),
    C("Saint-Étienne", "42000", "42", "Auvergne-Rhône-Alpes", 45.4301, 4.3791),
    C("Dijon", "21000", "21", "Bourgogne-Franche-Comté", 47.3229, 5.0379),
    C("Angers", "49000", "49", "Pays de la Loire", 47.4768, -0.5561),
    C("Le Mans", "72000", "72", "Pays de la Loire", 47.9885, 0.2000),
    C("Reims", "51100", "51", "Grand Est", 49.2515, 4.0402),
    C("Le Havre", "76600", "76", "Normandie", 49.4985, 0.1402),
    C("Rouen", "76000", "76", "Normandie", 49.4413, 1.0926),
    C("Clermont-Ferrand", "63000", "63", "Auvergne-Rhône-Alpes", 45.7856, 3.1155),
    C("Tours", "37000", "37", "Centre-Val de Loire", 47.3986, 0.6965),
    C("Limoges", "87000", "87", "Nouvelle-Aquitaine", 45.8543, 1.2488),
    C("Amiens", "80000", "80", "Hauts-de-France", 49.9010, 2.2901),
    C("Metz", "57000", "57", "Grand Est", 49.1081, 6.1955),
    C("Besançon", "25000", "25", "Bourgogne-Franche-Comté", 47.2554, 6.0195),
    C("Perpignan", "66000", "66", "Occitanie", 42.6966, 2.8994),
    C("Orléans", "45000", "45", "Centre-Val de Loire", 47.8829, 1.9161),
    C("Caen", "14000", "14", "Normandie", 49.1848, -0.3698),
    C("Mulhouse", "68100", "68", "Grand Est", 47.7492, 7.3257),
    C("Nancy", "54000", "54", "Grand Est", 48.6902, 6.1759),
    C("Argenteuil", "95100", "95", "Île-de-France", 48.9511, 2.2410),
    C("Montreuil", "93100", "93", "Île-de-France", 48.8633, 2.4482),
    C("Saint-Denis", "93200", "93", "Île-de-France", 48.9296, 2.3592),
    C("Aubervilliers", "93300", "93", "Île-de-France", 48.9122, 2.3845),
    C("Créteil", "94000", "94", "Île-de-France", 48.7837, 2.4546),
    C("Vitry-sur-Seine", "94400", "94", "Île-de-France", 48.7883, 2.3941),
    C("Nanterre", "92000", "92", "Île-de-France", 48.8961, 2.2067),
    C("Boulogne-Billancourt", "92100", "92", "Île-de-France", 48.8366, 2.2391),
    C("Bourg-en-Bresse", "01000", "01", "Auvergne-Rhône-Alpes", 46.2052, 5.2460),
    C("Annecy", "74000", "74", "Auvergne-Rhône-Alpes", 45.8906, 6.1255),
    C("Chambéry", "73000", "73", "Auvergne-Rhône-Alpes", 45.5832, 5.9090),
    C("Valence", "26000", "26", "Auvergne-Rhône-Alpes", 44.9230, 4.9144),
    C("Avignon", "84000", "84", "Provence-Alpes-Côte d'Azur", 43.9352, 4.8407),
    C("Toulon", "83000", "83", "Provence-Alpes-Côte d'Azur", 43.1362, 5.9324),
    C("Brest", "29200", "29", "Bretagne", 48.4005, -4.5028),
    C("Quimper", "29000", "29", "Bretagne", 47.9971, -4.0911),
    C("Lorient", "56100", "56", "Bretagne", 47.7500, -3.3782),
    C("La Rochelle", "17000", "17", "Nouvelle-Aquitaine", 46.1621, -1.1747),
    C("Poitiers", "86000", "86", "Nouvelle-Aquitaine", 46.5839, 0.3599),
    C("Pau", "64000", "64", "Nouvelle-Aquitaine", 43.3200, -0.3503),
    C("Bayonne", "64100", "64", "Nouvelle-Aquitaine", 43.4922, -1.4661),
    C("Nîmes", "30000", "30", "Occitanie", 43.8449, 4.3481),
    C("Ajaccio", "20000", "2A", "Corse", 41.9348, 8.7013),
    C("Colmar", "68000", "68", "Grand Est", 48.1099, 7.3847),
    C("Troyes", "10000", "10", "Grand Est", 48.2967, 4.0783),
    C("Saint-Malo", "35400", "35", "Bretagne", 48.6400, -1.9806),
    C("Cergy", "95000", "95", "Île-de-France", 49.0401, 2.0508),
    C("Versailles", "78000", "78", "Île-de-France", 48.8026, 2.1179),
    C("Calais", "62100", "62", "Hauts-de-France", 50.9502, 1.8758),
    C("Dunkerque", "59140", "59", "Hauts-de-France", 51.0307, 2.3375),
    C("Arras", "62000", "62", "Hauts-de-France", 50.2899, 2.7659),
    C("Saint-Denis", "97400", "974", "La Réunion", -20.9330, 55.4469),
    C("Fort-de-France", "97200", "972", "Martinique", 14.6411, -61.0692),
    C("Saint-Quentin", "02100", "02", "Hauts-de-France", 49.8472, 3.2777),
    C("Vienne", "38200", "38", "Auvergne-Rhône-Alpes", 45.5206, 4.8814),
    C("Albi", "81000", "81", "Occitanie", 43.9258, 2.1469),
    C("Rodez", "12000", "12", "Occitanie", 44.3582, 2.5673),
    C("Agen", "47000", "47", "Nouvelle-Aquitaine", 44.2028, 0.6256),
    C("Brive-la-Gaillarde", "19100", "19", "Nouvelle-Aquitaine", 45.1436, 1.5194),
    C("Gap", "05000", "05", "Provence-Alpes-Côte d'Azur", 44.5799, 6.0649),
)

# Look-alike places for the "another city" hard negatives: a neighbouring commune, another
# arrondissement of the same city, or a commune of the same name elsewhere.
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "69003": ("69100", "69001"),
    "69007": ("69200",),
    "69008": ("69120",),
    "59000": ("59100", "59650"),
    "59100": ("59200",),
    "33000": ("33700", "33600"),
    "44000": ("44400", "44600"),
    "31000": ("31700",),
    "38000": ("38130",),
    "13001": ("13013", "13100"),
    "75011": ("93100", "75020"),
    "75018": ("93200", "75019"),
    "75013": ("94400",),
    "93200": ("97400",),  # Saint-Denis (Seine-Saint-Denis) and Saint-Denis (La Réunion)
    "94000": ("94400",),
    "92000": ("92100",),
    "35000": ("35400",),
    "29200": ("29000",),
}

STREETS = (
    "rue Victor Hugo",
    "avenue Jean Jaurès",
    "rue Pasteur",
    "boulevard Gambetta",
    "rue de la République",
    "place de la Mairie",
    "rue du Général de Gaulle",
    "rue des Écoles",
    "avenue de la Libération",
    "rue Jules Ferry",
    "rue de la Gare",
    "chemin des Vignes",
    "rue Émile Zola",
    "allée des Tilleuls",
    "rue Saint-Jacques",
)


@dataclass(frozen=True)
class Org:
    key: str
    name: str  # the full name, as the association writes it
    aliases: tuple[str, ...] = ()  # short names and acronyms other platforms use
    branch: str | None = None  # a local branch suffix: "Antenne de {city}"
    rna_department: str | None = None  # registered at this prefecture's RNA; None: no RNA
    siren: bool = True
    hq: str | None = None  # postal code of the head office; None: abroad
    home: tuple[str, ...] = ()  # where it acts; () anywhere in France
    english: bool = False  # an international organization publishing in English


COASTAL = ("44600", "29200", "56100", "17000", "64100", "06000", "13001", "83000", "35400")
ORGS: tuple[Org, ...] = (
    Org("restos", "Les Restaurants du Cœur", ("Restos du Cœur", "Les Restos du Coeur"),
        "Antenne de {city}", "75", hq="75019"),
    Org("spf", "Secours populaire français", ("Secours Populaire", "SPF"), "Comité de {city}",
        "75", hq="75010"),
    Org("secours-catholique", "Secours Catholique - Caritas France",
        ("Secours Catholique", "Secours catholique Caritas"), "Équipe de {city}", "75",
        hq="75015"),
    Org("croix-rouge", "Croix-Rouge française", ("Croix Rouge Française", "CRF"),
        "Unité locale de {city}", "75", hq="75013"),
    Org("emmaus-connect", "Emmaüs Connect", ("Emmaus Connect",), None, "75", hq="75013"),
    Org("afev", "Association de la Fondation Étudiante pour la Ville", ("AFEV", "Afev"),
        "Pôle de {city}", "75", hq="75020"),
    Org("lire", "Lire et faire lire", ("Lire & Faire Lire", "Association Lire et Faire Lire"),
        None, "75", siren=False, hq="75013"),
    Org("petits-freres", "Les Petits Frères des Pauvres", ("Petits Frères des Pauvres", "PFP"),
        "Équipe de {city}", "75", hq="75011"),
    Org("ba-rhone", "Banque Alimentaire du Rhône", ("BA69", "Banque alimentaire 69"), None, "69",
        hq="69200", home=("69001", "69003", "69007", "69008", "69100", "69200", "69120")),
    Org("ba-gironde", "Banque Alimentaire de Bordeaux et de la Gironde",
        ("Banque Alimentaire de la Gironde", "BABG"), None, "33", hq="33000",
        home=("33000", "33700", "33600")),
    Org("habitat-humanisme", "Habitat et Humanisme", ("Habitat & Humanisme",), "{city}", "69",
        hq="69003"),
    Org("dal", "Droit au Logement", ("DAL",), "{city}", "75", siren=False, hq="75020"),
    Org("cimade", "La Cimade", ("Cimade",), "Groupe local de {city}", "75", hq="75013"),
    Org("asf", "Avocats Sans Frontières France", ("ASF France", "Avocats sans frontières"),
        None, "31", hq="31000"),
    Org("bsf", "Bibliothèques Sans Frontières", ("BSF",), None, "75", hq="93100"),
    Org("esf", "Électriciens sans frontières", ("Electriciens sans frontieres", "ESF"), None,
        "92", hq="92000"),
    Org("acf", "Action contre la Faim", ("ACF", "Action Contre La Faim France"), None, "75",
        hq="93200"),
    Org("hi", "Handicap International - Humanité & Inclusion", ("Humanité & Inclusion", "HI"),
        None, "69", hq="69007"),
    Org("wwf", "WWF France", ("WWF",), None, None, hq="75011"),
    Org("lpo", "Ligue pour la Protection des Oiseaux", ("LPO",), "Délégation de {city}", "17",
        hq="17000"),
    Org("spa", "Société Protectrice des Animaux", ("SPA", "La SPA"), "Refuge de {city}", "75",
        hq="75018"),
    Org("surfrider", "Surfrider Foundation Europe", ("Surfrider",), "Antenne de {city}", "64",
        hq="64100", home=COASTAL),
    Org("zero-waste", "Zero Waste France", (), "Groupe local de {city}", "75", hq="75011"),
    Org("snsm", "Société Nationale de Sauvetage en Mer", ("SNSM", "Les Sauveteurs en Mer"),
        "Station de {city}", "75", hq="75015", home=COASTAL),
    Org("protection-civile", "Fédération Nationale de Protection Civile",
        ("Protection Civile", "FNPC"), "Antenne de {city}", "75", hq="75015"),
    Org("apf", "APF France handicap", ("APF", "Association des Paralysés de France"),
        "Délégation de {city}", "75", hq="75013"),
    Org("ligue-cancer", "La Ligue contre le cancer",
        ("Ligue contre le cancer", "Ligue nationale contre le cancer"), "Comité de {city}", "75",
        hq="75013"),
    Org("afm", "AFM-Téléthon", ("AFM Téléthon", "Téléthon"), None, "92", hq="92000"),
    Org("unafam", "Union nationale de familles et amis de personnes malades et/ou handicapées "
        "psychiques", ("UNAFAM", "Unafam"), "Délégation de {city}", "75", hq="75015"),
    Org("nqt", "Nos Quartiers ont du Talent", ("NQT",), None, "93", hq="93200"),
    Org("adie", "Association pour le droit à l'initiative économique", ("Adie", "ADIE"),
        "Agence de {city}", "75", hq="75010"),
    Org("article1", "Article 1", (), None, "75", hq="75019"),
    Org("cravate", "La Cravate Solidaire", ("Cravate Solidaire",), "{city}", "75", hq="75011"),
    Org("wakeup", "Wake up Café", ("WKF", "Wake Up Café"), None, "75", hq="75018"),
    Org("simplon", "Simplon.co", ("Simplon",), None, None, hq="93100"),
    Org("unis-cite", "Unis-Cité", ("Unis Cité",), "Antenne de {city}", "75", hq="75010"),
    Org("sport-ville", "Sport dans la Ville", (), None, "69", hq="69008",
        home=("69003", "69008", "69100", "69200", "75018", "75019", "93200", "13013", "59000",
              "42000", "38000")),
    Org("ufolep", "Union française des œuvres laïques d'éducation physique", ("UFOLEP",),
        "Comité de {city}", "75", hq="75010"),
    Org("souvenir", "Le Souvenir Français", ("Souvenir Français",), "Comité de {city}", "75",
        hq="75015"),
    Org("malte", "Ordre de Malte France", ("Ordre de Malte",), "Délégation de {city}", "75",
        hq="75015"),
    Org("samusocial", "Samusocial de Paris", ("Samu social de Paris", "Samusocial"), None, None,
        hq="75010", home=("75010", "75011", "75013", "75018", "75019", "75020")),
    Org("entourage", "Entourage", ("Réseau Entourage",), None, "75", hq="75010"),
    Org("france-benevolat", "France Bénévolat", (), "{city}", "75", hq="75010"),
    Org("bureaux-coeur", "Les Bureaux du Cœur", ("Bureaux du Coeur",), None, "44", hq="44000"),
    Org("passerelles", "Passerelles et Compétences", ("Passerelles & Compétences",), None, "75",
        hq="75015"),
    Org("wikimedia-fr", "Wikimédia France", ("Wikimedia France",), None, "75", hq="75011"),
    Org("compagnons", "Les Compagnons Bâtisseurs", ("Compagnons Bâtisseurs",), "{city}", "35",
        hq="35000"),
    Org("mdm", "Médecins du Monde", ("MdM", "Medecins du Monde"), "Délégation de {city}", "75",
        hq="93200"),
    Org("sif", "Secours Islamique France", ("SIF",), None, "91", hq="95000"),
    Org("cocagne", "Réseau Cocagne", ("Jardins de Cocagne", "Les Jardins de Cocagne"), "{city}",
        "25", hq="25000"),
    Org("zupdeco", "Zup de Co", (), None, "75", hq="75020"),
    Org("telemaque", "Institut Télémaque", ("Télémaque",), None, "75", hq="75010"),
    Org("tela", "Tela Botanica", (), None, "34", hq="34000"),
    Org("atd", "ATD Quart Monde", ("Mouvement ATD Quart Monde",), "{city}", "95", hq="95000"),
    Org("sos-med", "SOS Méditerranée France", ("SOS Méditerranée", "SOS MEDITERRANEE"), None,
        "13", hq="13001"),
    Org("snc", "Solidarités Nouvelles face au Chômage", ("SNC",), "Groupe de {city}", "75",
        hq="75010"),
    Org("linkee", "Linkee", (), None, "75", hq="75013",
        home=("75013", "75019", "69007", "33000", "13001", "59000", "31000")),
    Org("oxfam", "Oxfam France", ("Oxfam",), "Magasin de {city}", "75", hq="75020",
        home=("75011", "75020", "59000", "69003", "33000", "31000", "67000", "34000")),
    Org("moulins", "Association Moulins Solidaires", ("Moulins Solidaires",), None, "59",
        siren=False, hq="59000", home=("59000",)),
    Org("passerelle-rennes", "Épicerie solidaire La Passerelle", ("La Passerelle",), None, "35",
        siren=False, hq="35000", home=("35000",)),
    Org("repair-grenoble", "Repair Café Grenoble", (), None, "38", siren=False, hq="38000",
        home=("38000",)),
    Org("fil", "Festival Interceltique de Lorient", ("FIL", "Festival Interceltique"), None, "56",
        hq="56100", home=("56100",)),
    Org("amis-mba", "Les Amis du Musée des Beaux-Arts de Lyon", ("Amis du MBA de Lyon",), None,
        "69", siren=False, hq="69001", home=("69001",)),
    Org("ecran-vert", "Ciné-club L'Écran Vert", ("L'Écran Vert",), None, "42", siren=False,
        hq="42000", home=("42000",)),
    Org("twb", "Translators without Borders", ("TWB", "CLEAR Global"), None, None, False,
        english=True),
    Org("hot", "Humanitarian OpenStreetMap Team", ("HOT", "HOT OSM"), None, None, False,
        english=True),
    Org("kiva", "Kiva Microfunds", ("Kiva",), None, None, False, english=True),
    Org("zooniverse", "Zooniverse", ("The Zooniverse",), None, None, False, english=True),
)  # fmt: skip

# How each platform names a cause: (French sector labels, Idealist-style enums, VolunteerMatch-
# style enums). A cause a platform has no word for is never published there. The truth maps
# each of these to the cause a careful reader gives it (README.md has the table).
CAUSE_VOCABULARY: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "solidarite-insertion": (
        ("Solidarité et insertion", "Solidarité, insertion"),
        ("POVERTY_AND_HUNGER", "HOUSING_AND_HOMELESSNESS"),
        ("hunger", "homelessHousing"),
    ),
    "education": (("Éducation pour tous", "Éducation"), ("EDUCATION",), ("educationLiteracy",)),
    "sante": (("Santé pour tous", "Santé"), ("HEALTH_AND_MEDICINE",), ("healthMedicine",)),
    "environnement": (
        ("Environnement", "Protection de la nature"),
        ("ENVIRONMENT",),
        ("environment",),
    ),
    "culture-loisirs": (
        ("Art et culture pour tous", "Culture et loisirs"),
        ("ARTS_AND_MUSIC",),
        ("artsCulture",),
    ),
    "sport": (("Sport pour tous", "Sport"), ("SPORTS_AND_RECREATION",), ("sportsRecreation",)),
    "animaux": (("Protection animale", "Animaux"), ("ANIMALS",), ("animals",)),
    "humanitaire": (
        ("Solidarité internationale", "Humanitaire"),
        ("INTERNATIONAL_COOPERATION",),
        ("international",),
    ),
    "gestion-finance-droit": (
        ("Gestion, finance, droit", "Droit et justice"),
        ("LAW_AND_LEGAL_ASSISTANCE",),
        ("justiceLegal",),
    ),
    "emploi": (
        ("Emploi", "Emploi et insertion professionnelle"),
        ("JOB_TRAINING_AND_EMPLOYMENT",),
        ("employment",),
    ),
    "numerique": (("Numérique", "Inclusion numérique"), ("TECHNOLOGY",), ("computersTechnology",)),
    "vivre-ensemble": (
        ("Vivre ensemble", "Lien social"),
        ("COMMUNITY_DEVELOPMENT",),
        ("community",),
    ),
    "prevention-protection": (
        ("Prévention et protection", "Secourisme et prévention"),
        ("EMERGENCY_AND_SAFETY",),
        ("emergencySafety",),
    ),
    "memoire-et-citoyennete": (("Mémoire et citoyenneté",), ("CIVIC_ENGAGEMENT",), ()),
    "recherche": (("Recherche", "Sciences participatives"), ("SCIENCE",), ()),
    "batiment-industrie-logistique": (
        ("Bâtiment, industrie, logistique", "Bâtiment et travaux"),
        (),
        (),
    ),
    "benevolat-competences": (("Bénévolat de compétences", "Mécénat de compétences"), (), ()),
}
