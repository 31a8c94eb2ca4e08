"""How close two skills are: explicitly related, of the same family, or neither.

A recommendation counts a mission's skill the employee does not list when a skill they do list
is close to it. Explicit relations (data/skill_relations.json) join professions whose daily
work overlaps (an accountant can keep an association's budget); a shared family of the taxonomy
("Gestion et organisation") is a looser hint. How much each counts is a setting of the ranking.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from importlib.resources import files

from hub.catalogue.taxonomy import SKILL_SLUGS, SKILLS, skill_family

__all__ = ["RELATIONS", "Closeness", "SkillRelation", "closeness", "related_skills"]


class Closeness(enum.StrEnum):
    RELATED = "RELATED"  # an explicit relation: the professions overlap
    FAMILY = "FAMILY"  # listed under the same family only


@dataclass(frozen=True, slots=True)
class SkillRelation:
    """A group of skills related to one another, and what their professions share."""

    skills: tuple[str, ...]
    why: str


def _load() -> tuple[SkillRelation, ...]:
    text = (files("hub.catalogue") / "data" / "skill_relations.json").read_text(encoding="utf-8")
    relations = tuple(
        SkillRelation(tuple(entry["skills"]), entry["why"])
        for entry in json.loads(text)["relations"]
    )
    for relation in relations:
        unknown = set(relation.skills) - SKILL_SLUGS
        if unknown or len(set(relation.skills)) < 2:
            raise ValueError(f"skill_relations.json: bad group {relation.skills} ({unknown})")
    return relations


RELATIONS = _load()
_RELATED: dict[str, set[str]] = {slug: set() for slug in SKILL_SLUGS}
for _relation in RELATIONS:
    for _slug in _relation.skills:
        _RELATED[_slug].update(s for s in _relation.skills if s != _slug)


def related_skills(slug: str) -> tuple[str, ...]:
    """The skills explicitly related to `slug`, in taxonomy order (KeyError if not a slug)."""
    related = _RELATED[slug]
    return tuple(skill.slug for skill in SKILLS if skill.slug in related)


def closeness(a: str, b: str) -> Closeness | None:
    """How close two different skills are; None when neither related nor of one family."""
    if a == b:
        raise ValueError("closeness is between two different skills")
    if b in _RELATED.get(a, ()):
        return Closeness.RELATED
    if skill_family(a) and skill_family(a) == skill_family(b):
        return Closeness.FAMILY
    return None
