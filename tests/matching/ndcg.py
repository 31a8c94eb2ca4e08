"""NDCG@k with graded gains, as the judged set is scored.

Gain of a grade g is 2^g - 1 (a 3 is worth far more than a 1); a result nobody judged counts as
grade 0; the ideal ranking is the judged grades sorted best first, whatever the engine returned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["dcg", "ndcg_at"]


def dcg(grades: Sequence[int]) -> float:
    """Discounted cumulative gain of grades in rank order (rank 1 first)."""
    return sum((2**grade - 1) / math.log2(rank + 2) for rank, grade in enumerate(grades))


def ndcg_at(ranked: Sequence[str], judgments: Mapping[str, int], k: int = 10) -> float | None:
    """NDCG@k of a ranking of keys against graded judgments; None when no key is judged above 0
    (the profile cannot tell a good ranking from a bad one)."""
    ideal = dcg(sorted(judgments.values(), reverse=True)[:k])
    if ideal == 0:
        return None
    return dcg([judgments.get(key, 0) for key in ranked[:k]]) / ideal
