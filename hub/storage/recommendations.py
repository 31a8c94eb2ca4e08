"""Recommended missions for an employee profile: candidates, score and keyset paging in SQL.

Candidates come from indexed conditions: open, visible under the company's policy, the
profile's hard constraints (remote preference, radius, availability), and, when the profile
names skills or causes, at least one close skill or shared cause (mission_skills and
mission_causes are indexed by value). The database scores each candidate, orders them by
(score, pk) and returns one page: the catalogue never travels to Python, only the page does.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Float, and_, case, exists, func, literal, or_, select, true

from hub.catalogue.filters import MissionFilter, Policy
from hub.catalogue.model import EngagementType, Remote
from hub.catalogue.ranking import (
    ENGLISH_AT_LEAST,
    ENGLISH_MARKERS,
    EmployeeProfile,
    RecommendationPage,
    Recommended,
    RemotePreference,
    Terms,
    Weights,
    explain,
    remote_weight,
    skill_affinities,
    skill_phrases,
    soon_window,
)
from hub.clock import answer_reads_time
from hub.errors import BadCursor
from hub.storage import search
from hub.storage.rows import MISSION_COLUMNS, RecordReader
from hub.storage.tables import UTCDateTime, mission_causes, mission_skills, missions

__all__ = ["RecommendationReads"]

_ALLOWED = {
    RemotePreference.REMOTE_ONLY: (Remote.FULL, Remote.POSSIBLE),
    RemotePreference.ON_SITE_ONLY: (Remote.NONE, Remote.POSSIBLE),
    RemotePreference.ANY: (),
}

# A civic service (service civique) is a contract for people aged 16 to 25, never something a
# company's employee can take up; every other kind of engagement is.
_FOR_EMPLOYEES = tuple(e for e in EngagementType if e is not EngagementType.CIVIC_SERVICE)


def _number(value: float) -> ColumnElement[float]:
    return literal(value, Float)


def _larger(dialect: str, a: ColumnElement[float], b: ColumnElement[float]) -> Any:
    return func.max(a, b) if dialect == "sqlite" else func.greatest(a, b)


def _conditions(
    dialect: str, profile: EmployeeProfile, weights: Weights, policy: Policy | None
) -> list[ColumnElement[bool]]:
    """The hard constraints, the company's policy, and the relevance gate."""
    flt = MissionFilter(
        engagement_types=_FOR_EMPLOYEES,
        remote=_ALLOWED[profile.remote],
        available_from=profile.available_from,
        available_until=profile.available_until,
    )
    found = list(search.compile_filter(dialect, flt, policy).values())
    # A mission with no place left cannot take the employee (an unknown count can).
    found.append(or_(missions.c.places_remaining.is_(None), missions.c.places_remaining > 0))
    near = profile.near
    if near is not None and profile.remote is not RemotePreference.REMOTE_ONLY:
        # The radius holds for the missions the employee would travel to: on-site ones, and
        # part-remote ones when they want to be on site.
        within = search.near_condition(dialect, near)
        if profile.remote is RemotePreference.ANY:
            within = or_(missions.c.remote.in_([Remote.FULL, Remote.POSSIBLE]), within)
        found.append(within)
    gate: list[ColumnElement[bool]] = []
    if profile.skills:
        close = list(skill_affinities(profile.skills, weights))
        gate.append(
            exists()
            .where(mission_skills.c.mission_pk == missions.c.pk, mission_skills.c.skill.in_(close))
            .correlate(missions)
        )
        gate.append(_named(profile))
    if profile.causes:
        gate.append(_cause_match(profile.causes))
    if gate:
        found.append(or_(*gate))
    return found


def _cause_match(causes: tuple[str, ...]) -> ColumnElement[bool]:
    return (
        exists()
        .where(mission_causes.c.mission_pk == missions.c.pk, mission_causes.c.cause.in_(causes))
        .correlate(missions)
    )


def _named(profile: EmployeeProfile) -> ColumnElement[bool]:
    """The title names one of the employee's skills: partners' skill labels are often missing
    or vague ("Accueil", "Accompagnement") where the title says the work."""
    phrases = sorted({phrase for slug in profile.skills for phrase in skill_phrases(slug)})
    return or_(*(missions.c.title_terms.contains(phrase, autoescape=True) for phrase in phrases))


def _named_term(profile: EmployeeProfile, weights: Weights) -> ColumnElement[float]:
    """A share of the skill weight for a title naming one of the employee's skills, listed by
    the partner or not: a title says the mission's main work, a list of skills may only touch it."""
    if not profile.skills:
        return _number(0.0)
    worth = _number(weights.skill * weights.named_skill_share)
    return case((_named(profile), worth), else_=_number(0.0))


def _skill_term(profile: EmployeeProfile, weights: Weights) -> ColumnElement[float]:
    affinities = skill_affinities(profile.skills, weights)
    if not affinities:
        return _number(0.0)
    worth = case(
        {slug: _number(a.weight) for slug, a in affinities.items()},
        value=mission_skills.c.skill,
        else_=_number(0.0),
    )
    # The best skill counts whole, each other one its share (see ranking.skill_reasons).
    best = func.max(worth)
    total = (
        select(best + weights.extra_skill_share * (func.sum(worth) - best))
        .where(
            mission_skills.c.mission_pk == missions.c.pk,
            mission_skills.c.skill.in_(list(affinities)),
        )
        .correlate(missions)
        .scalar_subquery()
    )
    return func.coalesce(total, _number(0.0))


def _terms(
    dialect: str, profile: EmployeeProfile, weights: Weights, now: datetime
) -> dict[str, ColumnElement[Any]]:
    """Each term of the score as a column of the candidate row."""
    terms: dict[str, ColumnElement[Any]] = {
        "skill": _skill_term(profile, weights),
        "named": _named_term(profile, weights),
    }
    terms["cause"] = (
        case((_cause_match(profile.causes), _number(weights.cause)), else_=_number(0.0))
        if profile.causes
        else _number(0.0)
    )
    terms["distance"] = (
        search.nearest_distance(dialect, profile.near) if profile.near else _number(search.FAR)
    )
    remote = case(
        *(
            (missions.c.remote == mode.value, _number(remote_weight(mode, profile.remote, weights)))
            for mode in Remote
        ),
        else_=_number(0.0),
    )
    terms["remote"] = remote
    terms["remote_mode"] = missions.c.remote
    hours = profile.hours_per_week
    asked = func.coalesce(missions.c.hours_per_week_min, missions.c.hours_per_week_max)
    terms["time"] = (
        case((asked <= hours, _number(weights.time_fits)), else_=_number(0.0))
        if hours is not None
        else _number(0.0)
    )
    start, end = soon_window(profile, now, weights)
    terms["soon"] = case(
        (
            missions.c.start_at.between(literal(start, UTCDateTime), literal(end, UTCDateTime)),
            _number(weights.starts_soon),
        ),
        else_=_number(0.0),
    )
    terms["written_in"] = _written_in()
    terms["language"] = (
        case(
            (terms["written_in"].in_(profile.languages), _number(weights.language)),
            else_=_number(0.0),
        )
        if profile.languages
        else _number(0.0)
    )
    return terms


def _written_in() -> ColumnElement[str]:
    """ "en" or "fr": the language of the mission's indexed text (ranking.ENGLISH_MARKERS)."""
    padded = literal(" ") + missions.c.search_text + literal(" ")
    found = sum(
        (case((padded.contains(marker), 1), else_=0) for marker in ENGLISH_MARKERS),
        start=literal(0),
    )
    return case((found >= ENGLISH_AT_LEAST, literal("en")), else_=literal("fr"))


def _reach(profile: EmployeeProfile, weights: Weights, cols: Any) -> tuple[Any, Any]:
    """The distance and remote terms of a candidate; the score counts the larger."""
    near = profile.near
    if near is None:
        return _number(0.0), cols.remote
    radius = near.radius_km
    by_distance = case(
        (cols.distance <= radius, weights.distance * (1 - cols.distance / radius)),
        else_=_number(0.0),
    )
    remote = cols.remote
    if profile.remote is RemotePreference.ANY:
        # Part remote is partly on site: from beyond the radius, working from home for the
        # rest does not make the mission reachable (it still comes, as the radius allows).
        far = and_(cols.remote_mode == Remote.POSSIBLE.value, cols.distance > radius)
        remote = case((far, _number(0.0)), else_=cols.remote)
    return by_distance, remote


def _encode(profile: EmployeeProfile, now: datetime, score: float, pk: int) -> str:
    payload = {"r": profile.fingerprint(), "n": now.isoformat(), "k": [score, pk]}
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def _decode(cursor: str, profile: EmployeeProfile) -> tuple[datetime, float, int]:
    """The (now, score, pk) a cursor names; refused when it ranks another profile."""
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        score, pk = payload["k"]
        now = datetime.fromisoformat(payload["n"])
        fingerprint = payload["r"]
        if not isinstance(score, int | float) or not isinstance(pk, int) or now.tzinfo is None:
            raise BadCursor("after: malformed cursor")
    except (binascii.Error, ValueError, TypeError, KeyError, orjson.JSONDecodeError) as exc:
        raise BadCursor("after: malformed cursor") from exc
    if fingerprint != profile.fingerprint():
        raise BadCursor("after: this cursor belongs to another profile's recommendations")
    return now.astimezone(UTC), float(score), pk


class RecommendationReads(RecordReader):
    """Missions ranked for one employee profile, under the company's policy."""

    async def recommend(
        self,
        profile: EmployeeProfile,
        weights: Weights,
        first: int,
        after: str | None,
        policy: Policy | None = None,
    ) -> RecommendationPage:
        now = self.clock.now()
        position: tuple[float, int] | None = None
        if after is not None:
            now, score_at, pk_at = _decode(after, profile)  # the first page's moment
            position = (score_at, pk_at)
        else:
            answer_reads_time()  # the ranking's moment is in the cursors: never cached
        columns = _terms(self.dialect, profile, weights, now)
        candidates = (
            select(missions.c.pk.label("pk"), *(c.label(n) for n, c in columns.items()))
            .where(and_(true(), *_conditions(self.dialect, profile, weights, policy)))
            .subquery("candidates")
        )
        cols = candidates.c
        reach = _larger(self.dialect, *_reach(profile, weights, cols))
        score = (
            cols.skill + cols.named + cols.cause + reach + cols.time + cols.soon + cols.language
        ).label("score")
        term_columns = [cols[name] for name in columns]
        stmt = select(
            *MISSION_COLUMNS, missions.c.title_terms, *term_columns, reach.label("reach"), score
        )
        stmt = stmt.join_from(candidates, missions, missions.c.pk == cols.pk)
        if position is not None:
            score_at, pk_at = position
            stmt = stmt.where(or_(score < score_at, and_(score == score_at, missions.c.pk < pk_at)))
        stmt = stmt.order_by(score.desc(), missions.c.pk.desc()).limit(first + 1)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
            records = await self._records(conn, rows[:first])
        items: list[Recommended] = []
        cursors: list[str] = []
        for row, record in zip(rows, records, strict=False):
            terms = Terms(
                skill=row["skill"],
                named=row["named"],
                cause=row["cause"],
                reach=row["reach"],
                distance_km=row["distance"] if row["distance"] < search.FAR else None,
                time=row["time"],
                soon=row["soon"],
                score=row["score"],
                title_terms=row["title_terms"],
                language=row["language"],
                written_in=row["written_in"],
            )
            if terms.distance_km is not None:
                record.distance_km = terms.distance_km
            reasons = explain(record, terms, profile, weights)
            items.append(Recommended(record, terms.score, reasons))
            cursors.append(_encode(profile, now, terms.score, record.pk))
        return RecommendationPage(items, cursors, len(rows) > first, after is not None)
