"""MissionFilter and MissionOrder compiled to SQL, the same on SQLite and PostgreSQL.

Conditions come out keyed by dimension so that facets can drop their own (disjunctive facets).
Orders are keyset orders over keys that never are null, ending with the primary key, so that a
cursor names a position that survives inserts and deletes around it.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Text,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import Grouping, UnaryExpression

from hub.catalogue.filters import COMPARISONS, Comparison, MissionFilter, MissionOrder, Near, Policy
from hub.catalogue.geo import EARTH_RADIUS_KM
from hub.catalogue.model import MissionStatus
from hub.catalogue.text import tokens
from hub.errors import BadCursor, FilterError
from hub.storage.tables import (
    UTCDateTime,
    mission_causes,
    mission_locations,
    mission_skills,
    missions,
    organizations,
    partners,
)

__all__ = [
    "FAR",
    "CompiledOrder",
    "cluster_labels",
    "compile_filter",
    "compile_order",
    "decode_cursor",
    "drives_from_labels",
    "encode_cursor",
]

FAR = 1.0e9  # the distance of a mission with no point (fully remote, included on request)


def _dialect_distance(dialect: str, lat: Any, lon: Any, near: Near) -> ColumnElement[float]:
    if dialect == "sqlite":
        return func.hub_distance_km(
            literal(near.latitude, Float), literal(near.longitude, Float), lat, lon
        )
    # Haversine, as hub.catalogue.geo.distance_km computes it.
    p1 = math.radians(near.latitude)
    half_dp = (func.radians(lat) - p1) / 2
    half_dl = (func.radians(lon) - math.radians(near.longitude)) / 2
    a = func.power(func.sin(half_dp), 2) + math.cos(p1) * func.cos(func.radians(lat)) * func.power(
        func.sin(half_dl), 2
    )
    return 2 * EARTH_RADIUS_KM * func.asin(func.least(1.0, func.sqrt(a)))


def _bounding_box(near: Near) -> tuple[float, float, float, float]:
    dlat = math.degrees(near.radius_km / EARTH_RADIUS_KM)
    cos_lat = math.cos(math.radians(near.latitude))
    dlon = 180.0 if cos_lat < 1e-6 else min(180.0, dlat / max(cos_lat, 1e-6))
    return near.latitude - dlat, near.latitude + dlat, near.longitude - dlon, near.longitude + dlon


def near_condition(dialect: str, near: Near) -> ColumnElement[bool]:
    """A mission with a location within the radius (bounding box first, then exact distance).

    An uncorrelated IN: the database reads the locations once through the latitude index
    instead of probing every candidate mission's locations in turn.
    """
    lat_min, lat_max, lon_min, lon_max = _bounding_box(near)
    loc = mission_locations
    within = missions.c.pk.in_(
        select(loc.c.mission_pk)
        .where(
            loc.c.latitude.between(lat_min, lat_max),
            loc.c.longitude.between(lon_min, lon_max),
            _dialect_distance(dialect, loc.c.latitude, loc.c.longitude, near) <= near.radius_km,
        )
        .correlate(None)
    )
    if near.include_fully_remote:
        return or_(within, missions.c.remote == "FULL")
    return within


def nearest_distance(dialect: str, near: Near) -> ColumnElement[float]:
    """The distance to the mission's nearest located address, or a far constant when it has none."""
    loc = mission_locations
    nearest = (
        select(func.min(_dialect_distance(dialect, loc.c.latitude, loc.c.longitude, near)))
        .where(loc.c.mission_pk == missions.c.pk, loc.c.latitude.is_not(None))
        .correlate(missions)
        .scalar_subquery()
    )
    return func.coalesce(nearest, FAR)


def _text_condition(dialect: str, words: list[str]) -> ColumnElement[bool]:
    if dialect == "sqlite":
        query = " ".join(f'"{word}"' for word in words)
        return missions.c.pk.in_(
            text("SELECT rowid FROM missions_fts WHERE missions_fts MATCH :fts_query")
            .bindparams(fts_query=query)
            .columns(rowid=Integer)
        )
    return literal_column("missions.search_tsv").op("@@")(
        func.to_tsquery("simple", " & ".join(words))
    )


def _any_child(table: Any, column: str, values: tuple[str, ...]) -> ColumnElement[bool]:
    return (
        exists()
        .where(table.c.mission_pk == missions.c.pk, table.c[column].in_(values))
        .correlate(missions)
    )


def _any_child_in_cluster(table: Any, column: str, values: tuple[str, ...]) -> ColumnElement[bool]:
    """A child row of the listing, or of an open listing merged into it: a merged mission shows
    the union of its listings' causes and skills (hub.catalogue.golden) and is found by them.

    Two probes of an index for this listing, its own children's then its open members' (scalar
    subqueries with LIMIT 1): as EXISTS, PostgreSQL hashes every row holding the value before
    the first result, a cost that grows with the catalogue (12 of 14 ms at 200,000 missions for
    a page that reads 750 rows), where a page of the usual searches probes a few hundred rows.
    Every subquery is correlated to the listing: an uncorrelated `missions` inside would let
    the members of *any* listing count for every one."""
    member = missions.alias("member")
    own = (
        select(literal(1))
        .where(table.c.mission_pk == missions.c.pk, table.c[column].in_(values))
        .limit(1)
        .correlate(missions)
        .scalar_subquery()
    )
    lent = (
        select(literal(1))
        .select_from(member.join(table, table.c.mission_pk == member.c.pk))
        .where(
            member.c.canonical_pk == missions.c.pk,
            member.c.status == MissionStatus.OPEN.value,
            table.c[column].in_(values),
        )
        .limit(1)
        .correlate(missions)
        .scalar_subquery()
    )
    return or_(own.is_not(None), lent.is_not(None))


def _shown_labels(dialect: str, kind: str, values: tuple[str, ...]) -> ColumnElement[bool]:
    """A collapsed search's label criterion: an open listing is tested on the labels it shows
    (`missions.shown_causes` / `shown_skills`, its match state's: its own, or its merged
    mission's union, which merge_cluster_labels keeps for open listings), on the row itself
    (PostgreSQL); any other, whose stored state a close left as it was, and every listing on
    SQLite, through `_any_child_in_cluster`."""
    table, child = (mission_causes, "cause") if kind == "causes" else (mission_skills, "skill")
    if dialect == "sqlite":
        # SQLite's column is virtual: reading it parses the match state, which costs more
        # than SQLite's in-process index probes (0.62 against 1.45 ms of CPU for the anchor
        # page's keys at 36,567 missions).
        return _any_child_in_cluster(table, child, values)
    wanted = cast(postgresql.array(values), postgresql.ARRAY(Text))
    on_row = missions.c[f"shown_{kind}"].op("&&")(wanted)
    return case(
        (missions.c.status == literal_column(f"'{MissionStatus.OPEN.value}'"), on_row),
        else_=_any_child_in_cluster(table, child, values),
    )


def _among_labelled(kind: str, values: tuple[str, ...]) -> ColumnElement[bool]:
    """The criterion of `_any_child_in_cluster` (and of the shown labels) written from the
    labels' side: the listing is one whose own rows, or those of an open listing merged into
    it, hold a value. Used for a rare criterion: the database reads the few listings the
    label's index names instead of testing the catalogue's, one by one, in the page's order."""
    table, child = (mission_causes, "cause") if kind == "causes" else (mission_skills, "skill")
    member = missions.alias("member")
    own = select(table.c.mission_pk).where(table.c[child].in_(values))
    lent = (
        select(member.c.canonical_pk)
        .join(table, table.c.mission_pk == member.c.pk)
        .where(
            table.c[child].in_(values),
            member.c.canonical_pk.is_not(None),
            member.c.status == MissionStatus.OPEN.value,
        )
    )
    return missions.c.pk.in_(union(own, lent))


def _unindexed(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """`expr` behind SQLite's unary `+`: the same value, but no index serves the term."""
    return UnaryExpression(Grouping(expr), operator=operators.custom_op("+"), type_=expr.type)


def drives_from_labels(
    dialect: str,
    flt: MissionFilter,
    policy: Policy | None,
    rare: frozenset[str],
    collapse: bool = True,
) -> bool:
    """Whether a SQLite statement must be told to start from a rare label's listings.

    PostgreSQL plans a rare criterion's statement for its values and starts from the labels
    by itself. SQLite, without statistics (no one runs ANALYZE on an embedded store), guesses
    that an equality on an index (`status = 'OPEN'`, the shown listings' order) finds a few
    rows, and walks that index in the page's order testing the label's list: the whole
    catalogue for a label no open listing carries (20-50 ms at 200,000 missions, against
    0.5 ms from the labels). So on SQLite the other conditions and the order keys of such a
    statement are put behind a unary `+` (SQLite's documented way to keep a term off an
    index): the label's list is then the only way in, and the few rows it names are sorted."""
    if dialect != "sqlite" or not rare:
        return False
    merged = collapse and not flt.partners and not (policy is not None and policy.partners)
    return merged and bool(("causes" in rare and flt.causes) or ("skills" in rare and flt.skills))


def cluster_labels(table: Any, column: str) -> Any:
    """(mission_pk, value) for every listing's own labels and, under the listing shown for a
    merged mission, those of the open listings merged into it: what the facets of a collapsed
    search count, as `_any_child_in_cluster` is what its filters match."""
    member = missions.alias("member")
    own = select(table.c.mission_pk.label("mission_pk"), table.c[column].label("value"))
    lent = (
        select(member.c.canonical_pk.label("mission_pk"), table.c[column].label("value"))
        .join(member, member.c.pk == table.c.mission_pk)
        .where(member.c.canonical_pk.is_not(None), member.c.status == MissionStatus.OPEN.value)
    )
    return union(own, lent).subquery()


def _partner_in(names: tuple[str, ...]) -> ColumnElement[bool]:
    return missions.c.partner_pk.in_(
        select(partners.c.pk).where(partners.c.name.in_(names)).correlate(None)
    )


def _organization_in(ids: tuple[str, ...]) -> ColumnElement[bool]:
    return missions.c.organization_pk.in_(
        select(organizations.c.pk).where(organizations.c.id.in_(ids)).correlate(None)
    )


def _compared(comparison: Comparison, wanted: Any) -> ColumnElement[bool]:
    column: ColumnElement[Any] = missions.c[comparison.attribute]
    condition: ColumnElement[bool]
    if comparison.op == "at_most":
        condition = column <= wanted  # NULL compares to nothing: unknown never matches
    elif comparison.op == "at_least":
        condition = column >= wanted
    else:
        condition = column.is_(wanted)
    return condition


def compile_filter(
    dialect: str,
    flt: MissionFilter,
    policy: Policy | None = None,
    collapse: bool = True,
    rare: frozenset[str] = frozenset(),
) -> dict[str, ColumnElement[bool]]:
    """Conditions by dimension; all of them must hold. Unknown values never match a criterion.

    With `collapse`, a mission published on several partners is one result (its oldest listing)
    unless the search names partners: then each named partner's own listing is what counts.
    `rare` names the label kinds ("causes", "skills") whose criterion few listings meet
    (hub.storage.label_rarity): a collapsed search then finds them from the labels' rows.
    """
    c: dict[str, ColumnElement[bool]] = {}
    merged = collapse and not flt.partners and not (policy is not None and policy.partners)
    if merged:
        c["duplicates"] = missions.c.canonical_pk.is_(None)

    def labels(kind: str, values: tuple[str, ...]) -> ColumnElement[bool]:
        if merged and kind in rare:
            return _among_labelled(kind, values)
        if merged:
            return _shown_labels(dialect, kind, values)
        table, child = (mission_causes, "cause") if kind == "causes" else (mission_skills, "skill")
        return _any_child(table, child, values)

    if flt.status:
        # Written out (enum values), one as an equality: the partial indexes over the open
        # listings (hub.storage.tables) then apply, which neither database proves of a parameter.
        written: list[Any] = [literal_column(f"'{s.value}'") for s in flt.status]
        c["status"] = (
            missions.c.status == written[0] if len(written) == 1 else missions.c.status.in_(written)
        )
    if flt.text is not None:
        words = tokens(flt.text)
        if words:
            c["text"] = _text_condition(dialect, words)
    if flt.causes:
        c["causes"] = labels("causes", flt.causes)
    if flt.skills:
        c["skills"] = labels("skills", flt.skills)
    if flt.remote:
        c["remote"] = missions.c.remote.in_([r.value for r in flt.remote])
    if flt.near is not None:
        c["near"] = near_condition(dialect, flt.near)
    if flt.postal_codes:
        c["postal_code"] = _any_child(mission_locations, "postal_code", flt.postal_codes)
    if flt.department_codes:
        c["department"] = _any_child(mission_locations, "department_code", flt.department_codes)
    if flt.partners:
        c["partner"] = _partner_in(flt.partners)
    if flt.organizations:
        c["organization"] = _organization_in(flt.organizations)
    if flt.engagement_types:
        c["engagement_type"] = missions.c.engagement_type.in_(
            [e.value for e in flt.engagement_types]
        )
    # A missing start means "from now on", a missing end "open-ended": both overlap any window.
    if flt.available_from is not None:
        c["available_from"] = or_(
            missions.c.end_at.is_(None), missions.c.end_at >= flt.available_from
        )
    if flt.available_until is not None:
        c["available_until"] = or_(
            missions.c.start_at.is_(None), missions.c.start_at <= flt.available_until
        )
    for comparison in COMPARISONS:
        wanted = getattr(flt, comparison.criterion)
        if wanted is not None:
            c[comparison.criterion] = _compared(comparison, wanted)
    if policy is not None and not policy.is_open:
        parts: list[ColumnElement[bool]] = []
        if policy.causes:
            parts.append(labels("causes", policy.causes))
        if policy.partners:
            parts.append(_partner_in(policy.partners))
        if policy.engagement_types:
            parts.append(missions.c.engagement_type.in_([e.value for e in policy.engagement_types]))
        if policy.excluded_organizations:
            parts.append(
                or_(
                    missions.c.organization_pk.is_(None),
                    ~_organization_in(policy.excluded_organizations),
                )
            )
        c["policy"] = and_(*parts)
    if drives_from_labels(dialect, flt, policy, rare, collapse):
        # The rare labels' lists (and a text search's) stay the ways in.
        return {k: v if k in rare or k == "text" else _unindexed(v) for k, v in c.items()}
    return c


# --- orders and cursors ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledOrder:
    order: MissionOrder
    keys: list[tuple[ColumnElement[Any], bool]]  # (expression, descending)
    kinds: list[str]  # how each key's value travels in a cursor: "int", "float", "date"
    now: datetime | None = None

    def unindexed(self) -> CompiledOrder:
        """The same order with its keys off SQLite's indexes (`drives_from_labels`)."""
        return replace(self, keys=[(_unindexed(key), desc) for key, desc in self.keys])

    def order_by(self) -> list[ColumnElement[Any]]:
        return [key.desc() if desc else key.asc() for key, desc in self.keys]

    def after(self, values: list[Any]) -> ColumnElement[bool]:
        """Rows strictly after the position `values`, in this order."""
        branches = []
        for i, (key, desc) in enumerate(self.keys):
            equal = [k == v for (k, _), v in zip(self.keys[:i], values[:i], strict=True)]
            bound = literal(values[i], key.type) if self.kinds[i] == "date" else values[i]
            step = key < bound if desc else key > bound
            branches.append(and_(*equal, step))
        return or_(*branches) if branches else false()


def compile_order(
    dialect: str, order: MissionOrder, flt: MissionFilter, now: datetime
) -> CompiledOrder:
    if order is MissionOrder.RELEVANCE:
        words = tokens(flt.text or "")
        if not words:
            raise FilterError("orderBy RELEVANCE needs filter.text with at least one word")
        # Stable by design: depends on the mission and the query only, never on corpus
        # statistics, so cursors stay valid while the catalogue changes.
        score = sum(
            (
                case((missions.c.title_terms.like(f"% {word} %"), 1), else_=0)
                for word in dict.fromkeys(words)
            ),
            start=literal(0),
        )
        return CompiledOrder(
            order,
            [(score, True), (missions.c.sort_date, True), (missions.c.pk, True)],
            ["int", "date", "int"],
        )
    if order is MissionOrder.RECENT:
        return CompiledOrder(
            order, [(missions.c.sort_date, True), (missions.c.pk, True)], ["date", "int"]
        )
    if order is MissionOrder.STARTING_SOON:
        # Missions already started (or with no start) count as starting now; "now" is pinned
        # in the cursor so that the order does not move between pages.
        now_bound = literal(now, UTCDateTime)
        start_key = case(
            (missions.c.start_at.is_(None), now_bound),
            (missions.c.start_at < now_bound, now_bound),
            else_=missions.c.start_at,
        )
        return CompiledOrder(
            order, [(start_key, False), (missions.c.pk, False)], ["date", "int"], now
        )
    if flt.near is None:
        raise FilterError("orderBy NEAREST needs filter.near")
    return CompiledOrder(
        order,
        [(nearest_distance(dialect, flt.near), False), (missions.c.pk, False)],
        ["float", "int"],
    )


def encode_cursor(order: CompiledOrder, values: list[Any]) -> str:
    payload: dict[str, Any] = {
        "o": order.order.value,
        "k": [v.isoformat() if isinstance(v, datetime) else v for v in values],
    }
    if order.now is not None:
        payload["n"] = order.now.isoformat()
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(cursor: str, order: MissionOrder) -> tuple[list[Any], datetime | None]:
    """The position a cursor names, checked against the order it must come from."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = orjson.loads(raw)
        if not isinstance(payload, dict) or not isinstance(payload.get("k"), list):
            raise BadCursor("after: not a cursor of this API")
        if payload.get("o") != order.value:
            raise BadCursor(
                f"after: this cursor belongs to orderBy {payload.get('o')}, not {order.value}"
            )
        now = datetime.fromisoformat(payload["n"]) if "n" in payload else None
        return list(payload["k"]), now
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError) as exc:
        if isinstance(exc, BadCursor):
            raise
        raise BadCursor("after: malformed cursor") from exc


def typed_values(order: CompiledOrder, values: list[Any]) -> list[Any]:
    """Cursor values back to Python types, refusing any that do not fit the order's keys."""
    if len(values) != len(order.kinds):
        raise BadCursor("after: malformed cursor")
    out: list[Any] = []
    for kind, value in zip(order.kinds, values, strict=True):
        if kind == "date" and isinstance(value, str):
            try:
                out.append(datetime.fromisoformat(value))
            except ValueError as exc:
                raise BadCursor("after: malformed cursor") from exc
        elif kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            out.append(value)
        elif kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
            out.append(float(value))
        else:
            raise BadCursor("after: malformed cursor")
    return out
