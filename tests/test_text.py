"""The hub's own full-text definition: folding and the light French stemmer."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.catalogue.text import fold, search_text, stem, tokens


def test_fold_strips_case_accents_and_ligatures() -> None:
    assert fold("Mémoire ÉCOLE Œuvre Noël") == "memoire ecole oeuvre noel"


_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l"})


def _fold_by_definition(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.lower().translate(_LIGATURES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# fold works character by character from a table; it must equal the definition (NFKD of the
# whole text, combining marks dropped), whatever the text: decomposed accents, ligatures, marks
# on their own, any script.
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
    | st.sampled_from(
        ["Éé\u0301 œuvre ŒUVRE", "ﬁ ½ ² ™", "e\u0301\u0327", "Łódź Øresund Straße", "\u0301"]
    )
)
def test_fold_is_nfkd_without_marks(text: str) -> None:
    assert fold(text) == _fold_by_definition(text)


# tokens finds words and stems them through caches of its own; it must equal its definition:
# the folded text split on anything but a-z and 0-9, each part stemmed.
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
    | st.sampled_from(["Bénévoles n°2 : 3h/semaine — l’équipe «Œuvre» à Besançon", " -- ", ""])
)
def test_tokens_are_the_stemmed_words_of_the_folded_text(text: str) -> None:
    words = re.split(r"[^a-z0-9]+", _fold_by_definition(text))
    assert tokens(text) == [stem(word) for word in words if word]


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
