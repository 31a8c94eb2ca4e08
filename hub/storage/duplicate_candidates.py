"""The listings a written one may be a copy of, read through the blocking keys
(hub.storage.duplicate_keys), and what the decision (hub.catalogue.dedup) reads of them; the keys
written with each listing. hub.storage.duplicates links them."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ARRAY, Connection, any_, bindparam, delete, exists, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue.dedup import (
    Comparable,
    description_key,
    organization_identity,
    paris_day,
    place_key,
    same_organization,
    title_key,
)
from hub.catalogue.model import GeoSource, MissionStatus, Prepared
from hub.catalogue.records import PartnerRecord
from hub.storage.bulk import insert_rows
from hub.storage.duplicate_keys import keys_of
from hub.storage.tables import (
    mission_dedup_keys,
    mission_locations,
    missions,
    organizations,
    partners,
)

__all__ = [
    "UNRANKED",
    "Candidate",
    "Rank",
    "backfill_keys",
    "candidates",
    "chunks",
    "clusters",
    "comparable",
    "others_listed",
    "rank",
    "store_keys",
    "written_comparable",
]

_CHUNK = 500


def chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def comparable(
    partner_pk: int,
    org_pk: int | None,
    title: str,
    remote: str,
    start_at: datetime | None,
    locations: Iterable[tuple[float | None, float | None, str | None, str | None, str]],
    organization: tuple[str, str | None, str | None, str | None] | None = None,
    description: str | None = None,
    *,
    full: bool = True,
) -> Comparable:
    """`locations` as (latitude, longitude, postal code, city, geo source); `organization` as
    (name, RNA, SIREN, SIRET). A postal code the geocoder found from a city's name says nothing
    more than the city, so it is not compared.

    Not `full`: what the blocking keys read only (hub.storage.duplicate_keys), cheaper: the
    title as its words, the organization of a fully remote listing only, no description. A
    listing is stored and looked up by that; the decision reads the full one, built only for
    listings that share a key."""
    located = list(locations)
    keys = [
        place_key(postal if source != GeoSource.CITY.value else None, city)
        for _, _, postal, city, source in located
    ]
    name = organization[0] if organization else ""
    remote_only = remote == "FULL"
    if full:
        words = title_key(title, name, tuple(c for _, _, _, c, _ in located if c))
    else:
        words = frozenset(title.split())
    return Comparable(
        partner_pk=partner_pk,
        organization_pk=org_pk,
        title=words,
        remote_only=remote_only,
        points=tuple(
            (lat, lon) for lat, lon, _, _, _ in located if lat is not None and lon is not None
        ),
        postal_codes=frozenset(postal for postal, _ in keys if postal),
        cities=frozenset(city for _, city in keys if city),
        start_day=paris_day(start_at),
        organization=_identity(*organization) if organization and (full or remote_only) else None,
        description=description_key(description) if full else "",
    )


def written_comparable(
    partner: PartnerRecord, pk: int, prepared: Prepared, org: int | None, *, full: bool = True
) -> Comparable:
    draft = prepared.draft
    org_draft = draft.organization
    return comparable(
        partner.pk,
        org,
        draft.title,
        draft.remote.value,
        draft.start_at,
        (
            (loc.latitude, loc.longitude, loc.postal_code, loc.city, loc.geo_source.value)
            for loc in draft.locations
        ),
        (org_draft.name, org_draft.rna, org_draft.siren, org_draft.siret)
        if org_draft is not None
        else None,
        draft.description,
        full=full,
    )


# Organizations recur from listing to listing: their identity is computed once (a pure function
# of the name and identifiers, an immutable value).
_identity = functools.lru_cache(maxsize=8192)(organization_identity)
# and so do pairs of them, candidates of one batch after another (a fuzzy comparison of names).
_same_organization = functools.lru_cache(maxsize=65536)(same_organization)

Rank = tuple[int, float, int]
UNRANKED = 1 << 30


def rank(priority: int | None, posted_at: datetime | None, pk: int) -> Rank:
    """Which listing of a merged mission is shown: the lowest. The operator's partner priority
    first (`partners.priority`, unranked partners after), then the earliest posted, then the
    oldest in the hub. A partner copying another's mission later never takes it over, and a
    listing closed then re-published gets its place back."""
    if posted_at is not None and posted_at.tzinfo is None:
        posted_at = posted_at.replace(tzinfo=UTC)
    return (
        UNRANKED if priority is None else priority,
        posted_at.timestamp() if posted_at is not None else float("inf"),
        pk,
    )


_SELECTED = (
    missions.c.pk,
    missions.c.canonical_pk,
    missions.c.partner_pk,
    missions.c.organization_pk,
    missions.c.title,
    missions.c.remote,
    missions.c.start_at,
    missions.c.description,
    missions.c.posted_at,
    partners.c.priority,
    organizations.c.name,
    organizations.c.rna,
    organizations.c.siren,
    organizations.c.siret,
)
_JOINED = missions.join(partners, partners.c.pk == missions.c.partner_pk).outerjoin(
    organizations, organizations.c.pk == missions.c.organization_pk
)
_KEY_CHUNK = 2_000


def _keychunks(conn: AsyncConnection, values: list[Any]) -> Iterable[list[Any]]:
    """PostgreSQL takes any number of values in one array parameter; SQLite, bound ones."""
    if conn.dialect.name == "postgresql":
        return [values] if values else []
    return (values[i : i + _KEY_CHUNK] for i in range(0, len(values), _KEY_CHUNK))


def _among(conn: AsyncConnection, column: Any, values: list[Any]) -> Any:
    """`column IN values`: on PostgreSQL `= ANY($1)`, one statement whatever their number
    (prepared once by the driver, where an IN list of a new length is a new statement)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam("values", values, type_=ARRAY(column.type)))
    return column.in_(values)


async def _places(conn: AsyncConnection, pks: Iterable[int]) -> dict[int, list[Any]]:
    places: dict[int, list[Any]] = {pk: [] for pk in pks}
    for chunk in chunks(list(places)):
        for loc in await conn.execute(
            select(
                mission_locations.c.mission_pk,
                mission_locations.c.latitude,
                mission_locations.c.longitude,
                mission_locations.c.postal_code,
                mission_locations.c.city,
                mission_locations.c.geo_source,
            )
            .where(mission_locations.c.mission_pk.in_(chunk))
            .order_by(mission_locations.c.mission_pk, mission_locations.c.position)
        ):
            places[loc.mission_pk].append(tuple(loc)[1:])
    return places


def _comparable_row(row: Any, places: list[Any], *, full: bool = True) -> Comparable:
    return comparable(
        row.partner_pk,
        row.organization_pk,
        row.title,
        row.remote,
        row.start_at,
        places,
        (row.name, row.rna, row.siren, row.siret) if row.name is not None else None,
        row.description,
        full=full,
    )


async def others_listed(conn: AsyncConnection, partner: PartnerRecord) -> bool:
    """Whether another partner has any listing stored (open or not). When none has, no listing
    can be a candidate (candidates are other partners' listings, and a listing's keys are
    stored under its own partner): the linking of a partner's first sync into an otherwise
    empty store reads nothing. One index probe a partner (the unique key on partner_pk,
    external_id), never a scan of this partner's own listings."""
    other = (
        await conn.execute(
            select(partners.c.pk)
            .where(
                partners.c.pk != partner.pk,
                exists().where(missions.c.partner_pk == partners.c.pk),
            )
            .limit(1)
        )
    ).first()
    return other is not None


async def candidates(
    conn: AsyncConnection, partner: PartnerRecord, probes: set[str]
) -> tuple[list[tuple[int, int, Candidate, Rank]], dict[str, list[int]]]:
    """Every open listing of the other partners stored under one of the `probes` keys as (pk,
    the pk of the listing shown for its mission, what the decision reads, its rank), in pk
    order, and the listings under each key."""
    by_key: dict[str, list[int]] = {}
    for chunk in _keychunks(conn, sorted(probes)):
        found = await conn.execute(
            select(mission_dedup_keys.c.key, mission_dedup_keys.c.mission_pk).where(
                _among(conn, mission_dedup_keys.c.key, chunk),
                mission_dedup_keys.c.partner_pk != partner.pk,
            )
        )
        for key, pk in found:
            by_key.setdefault(key, []).append(pk)
    rows: dict[int, Any] = {}
    for chunk in _keychunks(conn, sorted({pk for pks in by_key.values() for pk in pks})):
        found = await conn.execute(
            select(*_SELECTED)
            .select_from(_JOINED)
            .where(
                _among(conn, missions.c.pk, chunk),
                missions.c.status == MissionStatus.OPEN.value,
            )
        )
        rows.update((row.pk, row) for row in found)
    by_key = {key: [pk for pk in pks if pk in rows] for key, pks in by_key.items()}
    places = await _places(conn, sorted(rows))
    pool = [
        (
            pk,
            row.canonical_pk if row.canonical_pk is not None else pk,
            Candidate(row, places[pk]),
            rank(row.priority, row.posted_at, pk),
        )
        for pk, row in sorted(rows.items())
    ]
    return pool, by_key


class Candidate:
    """A stored listing sharing a key with one being written: what the decision reads is built
    once it is needed, after the organization (cheaper, and most candidates sharing a day and
    a place are another organization's) agrees."""

    __slots__ = ("_full", "places", "row")

    def __init__(self, row: Any, places: list[Any]) -> None:
        self.row = row
        self.places = places
        self._full: Comparable | None = None

    def same_organization(self, mine: Comparable) -> bool:
        """What `same_mission` asks of the organizations, exactly."""
        row = self.row
        if mine.organization_pk is not None and mine.organization_pk == row.organization_pk:
            return True
        if mine.organization is None or row.name is None:
            return False
        return _same_organization(
            mine.organization, _identity(row.name, row.rna, row.siren, row.siret)
        )

    def full(self) -> Comparable:
        if self._full is None:
            self._full = _comparable_row(self.row, self.places)
        return self._full


async def clusters(
    conn: AsyncConnection, partner: PartnerRecord, heads: set[int], known: set[int]
) -> list[tuple[int, int, Rank]]:
    """The open listings of other partners shown as `heads`, or merged into one of them, that
    are not `known`: (pk, the pk shown for its mission, rank). A cluster changing its head
    points all of them at the new one."""
    out = []
    for chunk in chunks(sorted(heads)):
        for row in await conn.execute(
            select(
                missions.c.pk, missions.c.canonical_pk, missions.c.posted_at, partners.c.priority
            )
            .select_from(missions.join(partners, partners.c.pk == missions.c.partner_pk))
            .where(
                or_(missions.c.pk.in_(chunk), missions.c.canonical_pk.in_(chunk)),
                missions.c.partner_pk != partner.pk,
                missions.c.status == MissionStatus.OPEN.value,
            )
        ):
            if row.pk not in known:
                head = row.canonical_pk if row.canonical_pk is not None else row.pk
                out.append((row.pk, head, rank(row.priority, row.posted_at, row.pk)))
    return sorted(out)


async def store_keys(
    conn: AsyncConnection, listings: list[tuple[int, Comparable]], replace: set[int]
) -> None:
    for chunk in chunks(sorted(replace)):
        await conn.execute(
            delete(mission_dedup_keys).where(mission_dedup_keys.c.mission_pk.in_(chunk))
        )
    await insert_rows(conn, mission_dedup_keys, keys_of(listings))


def backfill_keys(conn: Connection) -> int:
    """Store the keys of every listing, as the writer does (the migration adding them calls it);
    only the open ones are read as candidates, but a listing reopened keeps its keys."""
    stored = 0
    last = 0
    while True:
        rows = conn.execute(
            select(*_SELECTED)
            .select_from(_JOINED)
            .where(missions.c.pk > last)
            .order_by(missions.c.pk)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return stored
        last = rows[-1].pk
        places: dict[int, list[Any]] = {row.pk: [] for row in rows}
        for loc in conn.execute(
            select(
                mission_locations.c.mission_pk,
                mission_locations.c.latitude,
                mission_locations.c.longitude,
                mission_locations.c.postal_code,
                mission_locations.c.city,
                mission_locations.c.geo_source,
            )
            .where(mission_locations.c.mission_pk.in_(list(places)))
            .order_by(mission_locations.c.mission_pk, mission_locations.c.position)
        ):
            places[loc.mission_pk].append(tuple(loc)[1:])
        keys = keys_of((row.pk, _comparable_row(row, places[row.pk], full=False)) for row in rows)
        if keys:
            conn.execute(insert(mission_dedup_keys), keys)
        stored += len(keys)
