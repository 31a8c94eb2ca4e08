"""The NDCG@10 the relevance test reports, checked on rankings worked out by hand."""

from __future__ import annotations

import math

import pytest

from tests.matching.ndcg import dcg, ndcg_at


def test_the_ideal_ranking_scores_one_and_unjudged_results_score_nothing() -> None:
    judged = {"a": 3, "b": 1, "c": 0}
    assert ndcg_at(["a", "b", "c"], judged) == pytest.approx(1.0)
    assert ndcg_at(["x", "y", "z"], judged) == 0.0


def test_gains_are_graded_and_discounted_by_rank() -> None:
    judged = {"a": 3, "b": 1}
    swapped = ndcg_at(["b", "a"], judged)
    expected = (1 + 7 / math.log2(3)) / (7 + 1 / math.log2(3))
    assert swapped == pytest.approx(expected)
    assert dcg([2]) == pytest.approx(3.0)


def test_only_the_first_k_count_and_a_profile_without_good_missions_has_no_figure() -> None:
    judged = {"a": 2}
    assert ndcg_at(["x"] * 10 + ["a"], judged) == 0.0
    assert ndcg_at(["a"], {"a": 0, "b": 0}) is None
