"""The scorer: how close the hub's merged catalogue is to the truth of the fidelity set.

`score(truth, observation)` compares what the hub made of the listings (which listings it merged
into one mission, what a company sees for each, what it refused) with truth.json, and returns
plain figures: pairwise dedup precision, recall and F1, hard-negative pairs merged, per-field
accuracy, refusals with their reasons, and recall by variation pattern. It knows nothing of the
hub: observe.py reads the observation from it, and `observation_of(truth)` builds the perfect
one, against which every figure is 1.0.
"""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "FIELDS",
    "TRUTH",
    "Observation",
    "Shown",
    "load_truth",
    "observation_of",
    "render",
    "score",
]

TRUTH = Path(__file__).parent / "data" / "truth.json"
FIELDS = (
    "title",
    "organization",
    "city",
    "postal_code",
    "remote",
    "causes",
    "start_date",
    "hours_min",
    "hours_max",
    "rna",
    "siren",
)
EXAMPLES = 8  # misses shown per field or kind, to see what goes wrong without a debugger


@dataclass(frozen=True)
class Shown:
    """What a company sees for a listing once merged: the fields the truth judges."""

    title: str | None
    organization: str | None
    city: str | None
    postal_code: str | None
    remote: str | None
    causes: tuple[str, ...]
    start_date: str | None  # the calendar day in Europe/Paris
    hours_min: float | None
    hours_max: float | None
    rna: str | None
    siren: str | None


@dataclass
class Observation:
    """What the hub made of the listings, keyed by "partner:externalId"."""

    family: dict[str, str] = field(default_factory=dict)  # ingested listing -> its family root
    shown: dict[str, Shown] = field(default_factory=dict)  # ingested listing -> what is seen
    refused: dict[str, str] = field(default_factory=dict)  # refused listing -> the reason
    notes: list[str] = field(default_factory=list)  # inconsistencies met while reading


def load_truth(path: Path = TRUTH) -> dict[str, Any]:
    truth: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    _check(truth)
    return truth


def _check(truth: dict[str, Any]) -> None:
    """The truth is one value per cluster: every listing of a cluster expects the same."""
    by_cluster: dict[str, dict[str, Any]] = {}
    for entry in truth["listings"]:
        if entry["expect"] != "ingested":
            continue
        seen = by_cluster.setdefault(entry["cluster"], entry["truth"])
        assert seen == entry["truth"], f"{entry['key']}: truth differs within its cluster"


def observation_of(truth: dict[str, Any]) -> Observation:
    """The observation of a perfect hub: the truth itself."""
    observation = Observation()
    roots: dict[str, str] = {}
    for entry in truth["listings"]:
        if entry["expect"] == "refused":
            observation.refused[entry["key"]] = f"refused as expected: {entry['defect']}"
            continue
        root = roots.setdefault(entry["cluster"], entry["key"])
        observation.family[entry["key"]] = root
        t = entry["truth"]
        observation.shown[entry["key"]] = Shown(
            t["title"], t["organization"], t["city"], t["postal_code"], t["remote"],
            tuple(t["causes"]), t["start_date"], t["hours_min"], t["hours_max"], t["rna"],
            t["siren"],
        )  # fmt: skip
    return observation


# -- comparing values --------------------------------------------------------------------------


def _text(value: str | None) -> str | None:
    """Typography only: Unicode form, spaces, dashes and apostrophes. Case and accents count."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value).replace("’", "'")
    value = re.sub(r"\s+[–—]\s+", " - ", value)
    return " ".join(value.split()) or None


_ARRONDISSEMENT = re.compile(r"^(paris|lyon|marseille)( \d{1,2}( ?(er|e|eme))?( arrondissement)?)$")


def _place(value: str | None) -> str | None:
    """A commune's name folded: case, accents, hyphens, "St" for "Saint", arrondissements."""
    if not value:
        return None
    folded = unicodedata.normalize("NFKD", value.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = " ".join(re.sub(r"[-'’]", " ", folded).split())
    folded = re.sub(r"\bste\b", "sainte", re.sub(r"\bst\b", "saint", folded))
    match = _ARRONDISSEMENT.match(folded)
    return match.group(1) if match else folded


def _number(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _right(name: str, expected: dict[str, Any], seen: Shown) -> bool:
    want, got = expected[name], getattr(seen, name)
    if name == "title":
        return _text(got) == _text(want)
    if name == "organization":
        return _text(got) in {_text(want), *(_text(x) for x in expected["organization_also"])}
    if name == "city":
        return _place(got) == _place(want)
    if name == "causes":
        return set(got) == set(want)
    if name in ("hours_min", "hours_max"):
        return _number(got) == _number(want)
    if name in ("rna", "siren"):
        also = expected[f"{name}_also"]
        return (got or "").upper() in {(want or "").upper(), *(x.upper() for x in also)}
    return (got or None) == (want or None)


# -- the figures -------------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


def _pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {
        (a, b) if a < b else (b, a)
        for members in groups.values()
        for a, b in itertools.combinations(members, 2)
    }


def score(truth: dict[str, Any], observation: Observation) -> dict[str, Any]:
    entries = {entry["key"]: entry for entry in truth["listings"]}
    expected = [e for e in entries.values() if e["expect"] == "ingested"]

    true_groups: dict[str, list[str]] = defaultdict(list)
    for entry in expected:
        true_groups[entry["cluster"]].append(entry["key"])
    seen_groups: dict[str, list[str]] = defaultdict(list)
    for key, root in observation.family.items():
        if key in entries:
            seen_groups[root].append(key)
    true_pairs, seen_pairs = _pairs(true_groups), _pairs(seen_groups)
    hits = true_pairs & seen_pairs
    precision = len(hits) / len(seen_pairs) if seen_pairs else 1.0
    recall = len(hits) / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    merged_negatives = [
        pair
        for pair in truth["hard_negatives"]
        if (min(pair["a"], pair["b"]), max(pair["a"], pair["b"])) in seen_pairs
    ]
    return {
        "listings": _accounting(entries, observation),
        "dedup": {
            "true_pairs": len(true_pairs),
            "merged_pairs": len(seen_pairs),
            "correct_pairs": len(hits),
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "wrong_merges": [_describe(entries, pair) for pair in sorted(seen_pairs - hits)],
            # Every pair, to compare two runs (two backends, two versions of the rules).
            "merged": [list(pair) for pair in sorted(seen_pairs)],
            "missed": [list(pair) for pair in sorted(true_pairs - hits)],
            "recall_by_pattern": _by_pattern(entries, true_pairs, seen_pairs),
        },
        "hard_negatives": {
            "pairs": len(truth["hard_negatives"]),
            "merged": len(merged_negatives),
            "merged_by_kind": _count(p["kind"] for p in merged_negatives),
            "pairs_by_kind": _count(p["kind"] for p in truth["hard_negatives"]),
            "merged_pairs": merged_negatives,
        },
        "fields": _fields(expected, true_groups, observation),
        "refused": [
            {
                "key": key,
                "reason": reason,
                "expected": entries.get(key, {}).get("expect") == "refused",
            }
            for key, reason in sorted(observation.refused.items())
        ],
        "notes": observation.notes,
    }


def _accounting(entries: dict[str, dict[str, Any]], observation: Observation) -> dict[str, Any]:
    ingested = set(observation.family)
    refused = set(observation.refused)
    expect_refused = {k for k, e in entries.items() if e["expect"] == "refused"}
    return {
        "total": len(entries),
        "expected_ingested": len(entries) - len(expect_refused),
        "expected_refused": len(expect_refused),
        "ingested": len(ingested & set(entries)),
        "refused": len(refused & set(entries)),
        "refused_unexpectedly": sorted(refused - expect_refused),
        "ingested_unexpectedly": sorted(ingested & expect_refused),
        "unaccounted": sorted(set(entries) - ingested - refused),
        "unknown": sorted((ingested | refused) - set(entries)),
    }


def _describe(entries: dict[str, dict[str, Any]], pair: tuple[str, str]) -> dict[str, Any]:
    def one(key: str) -> str:
        t = entries[key].get("truth") or {}
        return (
            f"{key} [{entries[key]['cluster']}] {t.get('title')} | {t.get('organization')} | "
            f"{t.get('city') or 'remote'} {t.get('postal_code') or ''} | {t.get('start_date')}"
        )

    return {"a": one(pair[0]), "b": one(pair[1])}


def _by_pattern(
    entries: dict[str, dict[str, Any]],
    true_pairs: set[tuple[str, str]],
    seen_pairs: set[tuple[str, str]],
) -> dict[str, dict[str, Any]]:
    """Recall over the duplicate pairs where either listing shows a pattern."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for a, b in true_pairs:
        patterns = set(entries[a]["patterns"]) | set(entries[b]["patterns"])
        partners = sorted((entries[a]["partner"], entries[b]["partner"]))
        patterns.add("platforms:" + "+".join(partners))
        for pattern in patterns:
            tally[pattern][0] += 1
            tally[pattern][1] += (a, b) in seen_pairs
    return {
        p: {"pairs": n, "merged": m, "recall": _ratio(m, n)} for p, (n, m) in sorted(tally.items())
    }


def _fields(
    expected: list[dict[str, Any]], groups: dict[str, list[str]], observation: Observation
) -> dict[str, Any]:
    """Per field: the share of listings whose merged record shows the true value.

    A listing expected in the catalogue but refused counts as wrong on every field.
    """
    out: dict[str, Any] = {}
    for name in FIELDS:
        tally = {"all": [0, 0], "clustered": [0, 0], "singletons": [0, 0]}
        misses: list[dict[str, Any]] = []
        for entry in expected:
            kind = "clustered" if len(groups[entry["cluster"]]) > 1 else "singletons"
            seen = observation.shown.get(entry["key"])
            right = seen is not None and _right(name, entry["truth"], seen)
            for bucket in ("all", kind):
                tally[bucket][0] += right
                tally[bucket][1] += 1
            if not right and len(misses) < EXAMPLES:
                got = getattr(seen, name) if seen else "(not in the catalogue)"
                misses.append({"key": entry["key"], "expected": entry["truth"][name], "seen": got})
        out[name] = {
            "accuracy": _ratio(*tally["all"]),
            "clustered": _ratio(*tally["clustered"]),
            "singletons": _ratio(*tally["singletons"]),
            "correct": tally["all"][0],
            "total": tally["all"][1],
            "misses": misses,
        }
    return out


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return dict(sorted(counts.items()))


def render(report: dict[str, Any]) -> str:
    """The headline figures, for a terminal (`pytest -s`)."""
    listings, dedup, hard = report["listings"], report["dedup"], report["hard_negatives"]
    lines = [
        "Fidelity of the merged catalogue",
        f"  listings: {listings['total']} ({listings['ingested']} ingested, "
        f"{listings['refused']} refused, {len(listings['unaccounted'])} unaccounted; "
        f"{listings['expected_refused']} expected refusals)",
        f"  dedup:    precision {dedup['precision']:.4f}  recall {dedup['recall']:.4f}  "
        f"F1 {dedup['f1']:.4f}  ({dedup['correct_pairs']} of {dedup['true_pairs']} true pairs "
        f"merged, {dedup['merged_pairs']} pairs merged)",
        f"  hard negatives merged: {hard['merged']} of {hard['pairs']} {hard['merged_by_kind']}",
        "  fields (all / in clusters / singletons):",
    ]
    for name, figures in report["fields"].items():
        lines.append(
            f"    {name:<13} {figures['accuracy']:.4f} / {figures['clustered']:.4f} / "
            f"{figures['singletons']:.4f}"
        )
    lines.append("  recall by pattern (pairs where either listing shows it):")
    for pattern, figures in report["dedup"]["recall_by_pattern"].items():
        lines.append(f"    {pattern:<32} {figures['merged']:>3} / {figures['pairs']:<3}")
    lines.append("  refused:")
    for refusal in report["refused"]:
        flag = "expected" if refusal["expected"] else "UNEXPECTED"
        lines.append(f"    {refusal['key']} ({flag}): {refusal['reason']}")
    for note in report["notes"]:
        lines.append(f"  note: {note}")
    return "\n".join(lines)
