"""The hub's own full-text definition: folding and the light French stemmer."""

from __future__ import annotations

import pytest

from hub.catalogue.text import fold, search_text, stem, tokens


def test_fold_strips_case_accents_and_ligatures() -> None:
    assert fold("Mémoire ÉCOLE Œuvre Noël") == "memoire ecole oeuvre noel"


@pytest.mark.parametrize(
    ("words", "same"),
    [
        (("bénévole", "bénévoles", "BÉNÉVOLES"), True),
        (("associé", "associée", "associés", "associées"), True),
        (("animal", "animaux"), True),
        (("numérique", "numériques"), True),
        (("développeur", "développement"), False),  # light: meanings stay apart
        (("les", "le"), False),  # words of three letters or fewer are left alone
    ],
)
def test_stemmer_conflates_plurals_and_feminines_only(words: tuple[str, ...], same: bool) -> None:
    stems = {stem(fold(word)) for word in words}
    assert (len(stems) == 1) is same, stems


def test_numbers_are_kept() -> None:
    assert tokens("2 heures, 24h/semaine") == ["2", "heur", "24h", "semain"]


def test_search_text_joins_every_part() -> None:
    assert search_text("Jardin partagé", None, ["Les Amis"]) == "jardin partag les ami"
