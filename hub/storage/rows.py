"""Records built from rows: missions with their partner, organization, locations, causes,
skills and other listings, read in a few batched queries; partners with their health."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import (
    Column,
    Float,
    ScalarSelect,
    Select,
    Table,
    case,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.catalogue import taxonomy
from hub.catalogue.golden import golden
from hub.catalogue.model import GeoSource, MissionStatus
from hub.catalogue.records import (
    ListingRecord,
    LocationRecord,
    MissionRecord,
    OrganizationRecord,
    PartnerRecord,
    SkillRecord,
)
from hub.clock import Clock, SystemClock
from hub.storage.tables import (
    mission_causes,
    mission_locations,
    mission_skills,
    missions,
    organizations,
    partners,
)

__all__ = [
    "LOCATION_FIELDS",
    "MISSION_COLUMNS",
    "ORGANIZATION_FIELDS",
    "RecordReader",
    "organization_record",
    "partner_health",
]

MISSION_COLUMNS = [
    c
    for c in missions.c
    if c.name
    not in {
        "search_text",
        "title_terms",
        "match_state",
        "missed_syncs",
        "golden",
        "shown_causes",
        "shown_skills",
        "published_organization",
    }
]


class RecordReader:
    """What every read shares: the engine, the clock, and turning rows into records."""

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.dialect = engine.dialect.name
        self._partners: dict[int, PartnerRecord] | None = None
        self._partners_at = 0.0

    async def _partner_map(
        self, conn: AsyncConnection, needed: set[int] | None = None
    ) -> dict[int, PartnerRecord]:
        """Partners change rarely: read them again after a few seconds, or for an unknown pk."""
        fresh = self.clock.monotonic() - self._partners_at < 5.0
        if self._partners is None or not fresh or (needed and not needed <= self._partners.keys()):
            rows = (await conn.execute(select(partners))).mappings().all()
            self._partners = {row["pk"]: PartnerRecord.from_row(row) for row in rows}
            self._partners_at = self.clock.monotonic()
        return self._partners

    def _children(self, pks: list[int]) -> Select[Any]:
        """The missions' organizations (joined) and their locations, causes and skills, each
        a JSON array built by the database: one round trip instead of four."""
        return (
            select(
                missions.c.pk,
                *(c.label(f"org_{c.name}") for c in organizations.c if c.name in _ORG_FIELDS),
                _json_array(
                    self.dialect,
                    mission_locations,
                    [c for c in mission_locations.c if c.name in _LOCATION_FIELDS],
                ).label("locations"),
                _json_array(self.dialect, mission_causes, [mission_causes.c.cause]).label("causes"),
                _json_array(self.dialect, mission_skills, [mission_skills.c.skill]).label("skills"),
            )
            .select_from(
                missions.outerjoin(organizations, organizations.c.pk == missions.c.organization_pk)
            )
            .where(missions.c.pk.in_(pks))
        )

    async def _records(
        self, conn: AsyncConnection, rows: Sequence[Any], merge: bool = True
    ) -> list[MissionRecord]:
        if not rows:
            return []
        pks = [row["pk"] for row in rows]
        partner_map = await self._partner_map(conn, {row["partner_pk"] for row in rows})
        orgs: dict[int, OrganizationRecord] = {}
        locations: dict[int, list[LocationRecord]] = {}
        causes: dict[int, list[str]] = {}
        skills: dict[int, list[SkillRecord]] = {}
        # One statement for every mission's organization and children (as JSON arrays).
        for child in await conn.execute(self._children(pks)):
            pk = child.pk
            if child.org_pk is not None:
                orgs[child.org_pk] = OrganizationRecord(
                    pk=child.org_pk,
                    id=child.org_id,
                    name=child.org_name,
                    rna=child.org_rna,
                    siren=child.org_siren,
                    siret=child.org_siret,
                    url=child.org_url,
                    logo=child.org_logo,
                )
            locations[pk] = [
                LocationRecord(
                    street=loc["street"],
                    postal_code=loc["postal_code"],
                    city=loc["city"],
                    department_code=loc["department_code"],
                    region=loc["region"],
                    country=loc["country"],
                    latitude=_float(loc["latitude"]),
                    longitude=_float(loc["longitude"]),
                    geo_source=GeoSource(loc["geo_source"]),
                )
                for loc in sorted(_json_list(child.locations), key=lambda loc: loc["position"])
            ]
            causes[pk] = _json_list(child.causes)
            skills[pk] = [
                SkillRecord(skill, taxonomy.skill_label(skill))
                for skill in _json_list(child.skills)
            ]
        # Other listings of the same mission: its duplicates, or its canonical listing.
        also: dict[int, set[int]] = {pk: set() for pk in pks}
        canonical_of = {row["pk"]: row["canonical_pk"] for row in rows if row["canonical_pk"]}
        family = set(pks) | set(canonical_of.values())
        # Two index lookups; the status is checked here, so that no planner prefers a scan
        # of the status index (SQLite without statistics did, over the whole catalogue).
        columns = (
            missions.c.pk,
            missions.c.canonical_pk,
            missions.c.partner_pk,
            missions.c.status,
            missions.c.external_id,
            missions.c.application_url,
            missions.c.posted_at,
        )
        related = list(
            await conn.execute(
                union_all(
                    select(*columns).where(missions.c.canonical_pk.in_(family)),
                    select(*columns).where(missions.c.pk.in_(family)),
                )
            )
        )
        by_root: dict[int, set[int]] = {}
        cluster: dict[int, dict[int, Any]] = {}  # root -> pk -> the listing's row
        for item in related:
            if item.status == MissionStatus.OPEN.value:
                root = item.canonical_pk or item.pk
                by_root.setdefault(root, set()).add(item.partner_pk)
                cluster.setdefault(root, {})[item.pk] = item
        partner_map = await self._partner_map(conn, {item.partner_pk for item in related})
        listings: dict[int, list[ListingRecord]] = {}
        for row in rows:
            root = row["canonical_pk"] or row["pk"]
            also[row["pk"]] = by_root.get(root, set()) - {row["partner_pk"]}
            mates = cluster.get(root, {})
            listings[row["pk"]] = [
                ListingRecord(
                    partner_map[m["partner_pk"]],
                    m["external_id"],
                    m["application_url"],
                    m["posted_at"],
                )
                for m in [row, *(mates[pk]._mapping for pk in sorted(mates) if pk != row["pk"])]
            ]
        records = [
            _mission(
                row,
                partner_map[row["partner_pk"]],
                orgs.get(row["organization_pk"]),
                locations[row["pk"]],
                sorted(causes[row["pk"]]),
                sorted(skills[row["pk"]], key=lambda s: s.slug),
                [partner_map[p] for p in sorted(also[row["pk"]])],
                listings[row["pk"]],
            )
            for row in rows
        ]
        roots = [
            r.pk
            for r, row in zip(records, rows, strict=True)
            if r.also_published_on and not row["canonical_pk"]
        ]
        if not merge or not roots:
            return records
        # The listing shown for a merged mission shows the golden record of all its listings.
        members = (
            (
                await conn.execute(
                    select(*MISSION_COLUMNS)
                    .where(
                        missions.c.canonical_pk.in_(roots),
                        missions.c.status == MissionStatus.OPEN.value,
                    )
                    .order_by(missions.c.pk)
                )
            )
            .mappings()
            .all()
        )
        others: dict[int, list[MissionRecord]] = {}
        for row, record in zip(
            members, await self._records(conn, members, merge=False), strict=True
        ):
            others.setdefault(row["canonical_pk"], []).append(record)
        return [golden(r, others.get(r.pk, [])) for r in records]


# What the API shows of an organization and of a location, as stored.
ORGANIZATION_FIELDS = ("id", "name", "rna", "siren", "siret", "url", "logo")
LOCATION_FIELDS = (
    "street",
    "postal_code",
    "city",
    "department_code",
    "region",
    "country",
    "latitude",
    "longitude",
    "geo_source",
)
_ORG_FIELDS = ("pk", *ORGANIZATION_FIELDS)
_LOCATION_FIELDS = ("position", *LOCATION_FIELDS)


def _json_array(dialect: str, table: Table, columns: list[Column[Any]]) -> ScalarSelect[Any]:
    """The rows of `table` that belong to the mission, as a JSON array: of values for one
    column, of objects keyed by column name for several."""
    if len(columns) == 1:
        item: Any = columns[0]
    else:
        build = func.json_object if dialect == "sqlite" else func.json_build_object
        pairs: list[Any] = []
        for c in columns:
            pairs += [literal_column(f"'{c.name}'"), _exact(dialect, c)]
        item = build(*pairs)
    aggregate = func.json_group_array(item) if dialect == "sqlite" else func.json_agg(item)
    return (
        select(aggregate)
        .where(table.c.mission_pk == missions.c.pk)
        .correlate(missions)
        .scalar_subquery()
    )


def _exact(dialect: str, column: Column[Any]) -> Any:
    """SQLite writes a REAL into JSON with 15 significant digits (45.76400470000001 comes back
    45.7640047): a float goes as the text of its 17 digits, which reads back exactly."""
    if dialect != "sqlite" or not isinstance(column.type, Float):
        return column
    return case((column.is_(None), None), else_=func.printf("%!.17g", column))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _json_list(value: Any) -> list[Any]:
    """A JSON array from the database: text (SQLite, asyncpg's json), or NULL for none
    (PostgreSQL's json_agg over no rows)."""
    if value is None:
        return []
    return orjson.loads(value) if isinstance(value, str | bytes) else list(value)


def partner_health(row: Any, last_run: dict[str, Any] | None) -> str:
    """OK, DEGRADED (a failure, or a suspicious pull, lately) or FAILING (circuit open, or
    failing repeatedly); PENDING for a pulled partner never synced yet."""
    failures = int(row["consecutive_failures"] or 0)
    if row["circuit_open_until"] is not None or failures >= 3:
        return "FAILING"
    if failures > 0 or (last_run is not None and last_run["status"] == "SUSPICIOUS"):
        return "DEGRADED"
    if row["connector"] and last_run is None:
        return "PENDING"
    return "OK"


def organization_record(row: Any) -> OrganizationRecord:
    return OrganizationRecord(
        pk=row["pk"],
        id=row["id"],
        name=row["name"],
        rna=row["rna"],
        siren=row["siren"],
        siret=row["siret"],
        url=row["url"],
        logo=row["logo"],
    )


def _mission(
    row: Any,
    partner: PartnerRecord,
    organization: OrganizationRecord | None,
    locations: list[LocationRecord],
    causes: list[str],
    skills: list[SkillRecord],
    also_published_on: list[PartnerRecord],
    listings: list[ListingRecord],
) -> MissionRecord:
    record = MissionRecord.from_row(
        row,
        partner=partner,
        organization=organization,
        locations=locations,
        causes=causes,
        skills=skills,
        also_published_on=also_published_on,
    )
    record.listings = listings
    return record
