"""The hub's own definition of full-text matching: fold, split, stem.

SQLite FTS5, PostgreSQL and the in-memory subscription matcher all index the output of
`search_text`, so they agree on what matches by construction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["fold", "search_text", "stem", "tokens"]

_NON_WORD = re.compile(r"[^a-z0-9]+")
# Ligatures and letters that NFKD does not split into a base letter and a mark.
_SPECIAL = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l"})


def fold(value: str) -> str:
    """Lower-case and strip accents: "Mémoire ÉCOLE Œuvre" -> "memoire ecole oeuvre"."""
    lowered = value.lower().translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light French stemmer (plural and feminine endings only), applied to folded words.

    Light on purpose: it conflates "bénévoles"/"bénévole", "associées"/"associé",
    "animaux"/"animal", and never merges words of different meaning the way a full
    Snowball stemmer does ("développeur" and "développement" stay apart).
    """
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("aux") and len(word) > 5:
        word = word[:-3] + "al"
    elif word[-1] in "sx":
        word = word[:-1]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word.endswith("e"):  # "associee" -> "associ"
        word = word[:-1]
    return word


def tokens(value: str) -> list[str]:
    """Folded, stemmed tokens of a text, in order."""
    return [stem(part) for part in _NON_WORD.split(fold(value)) if part]


def search_text(*parts: str | Iterable[str] | None) -> str:
    """The indexed form of a document: its tokens joined by single spaces."""
    out: list[str] = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, str):
            out.extend(tokens(part))
        else:
            for item in part:
                out.extend(tokens(item))
    return " ".join(out)
