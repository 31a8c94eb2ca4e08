"""The hub's own definition of full-text matching: fold, split, stem.

SQLite FTS5, PostgreSQL and the in-memory subscription matcher all index the output of
`search_text`, so they agree on what matches by construction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "clean_title",
    "expand_abbreviations",
    "fold",
    "organization_initials",
    "organization_names",
    "search_text",
    "stem",
    "tokens",
]

_NON_WORD = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"[a-z0-9]+")  # the parts `_NON_WORD` splits apart, found in one pass


class _Folding(dict[int, str]):
    """What each character folds to, worked out the first time it is met: its NFKD
    decomposition without the combining marks. Decomposing character by character is the same
    as decomposing the whole text, since the canonical reordering NFKD does moves only
    combining marks, which are dropped; a table lookup per character is about ten times
    cheaper than normalising every text (folding was the first cost of a sync's `prepare`)."""

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code))
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        self[code] = folded
        return folded


# Ligatures and letters that NFKD does not split into a base letter and a mark.
_FOLDING = _Folding(
    {ord(k): v for k, v in {"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l"}.items()}
)


class _Runs(dict[str, str]):
    """Each run of non-ASCII characters met, folded through the table; emptied when it holds
    65,536 (the runs of real text are few: "é", "è", "°", "’"...)."""

    def __missing__(self, run: str) -> str:
        if len(self) >= 65_536:
            self.clear()
        self[run] = folded = run.translate(_FOLDING)
        return folded


_RUNS = _Runs()
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _fold_run(match: re.Match[str]) -> str:
    return _RUNS[match[0]]


def fold(value: str) -> str:
    """Lower-case and strip accents: "Mémoire ÉCOLE Œuvre" -> "memoire ecole oeuvre"."""
    lowered = value.lower()
    if lowered.isascii():
        return lowered
    # Only the non-ASCII runs go through the table (the table maps ASCII to itself): `translate`
    # pays a dictionary lookup for every character of a text, most of them ASCII, where a
    # regular expression skips them in C (half the time on a French description: bench/fold.py).
    return _NON_ASCII.sub(_fold_run, lowered)


def stem(word: str) -> str:
    """A light French stemmer (plural and feminine endings only), applied to folded words.

    Light on purpose: it conflates "bénévoles"/"bénévole", "associées"/"associé",
    "animaux"/"animal", and never merges words of different meaning the way a full
    Snowball stemmer does ("développeur" and "développement" stay apart).
    """
    return _STEMS[word]


def _stem(word: str) -> str:
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


class _Stems(dict[str, str]):
    """The stem of each word met, worked out once: `tokens` looks its words up here in C (a
    text is tokenised word by word, and words repeat); emptied when it holds 65,536."""

    def __missing__(self, word: str) -> str:
        if len(self) >= 65_536:
            self.clear()
        self[word] = stemmed = _stem(word)
        return stemmed


_STEMS = _Stems()


def tokens(value: str) -> list[str]:
    """Folded, stemmed tokens of a text, in order."""
    return list(map(_STEMS.__getitem__, _WORD.findall(fold(value))))


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


# What platforms put around a title: a call for volunteers in front, a tag, a gender mark or a
# "remote" note after. Removing them leaves the mission's own wording.
_TITLE_PREFIX = re.compile(
    r"^\s*(?:appel\s+[àa]\s+b[ée]n[ée]voles?|recherche\s+b[ée]n[ée]voles?|mission|"
    r"b[ée]n[ée]volat|volunteer\s+opportunity|remote\s+volunteering|volunteers\s+needed)"
    r"\s*[:\-–]\s*",
    re.IGNORECASE,
)
_TITLE_TAG = re.compile(
    r"^\s*(?:\[[^\]]*\]|(?:urgent|nouveau|new)\s*[:\-–!])\s*|\s*\((?:h\s*/\s*f|f\s*/\s*h)\)\s*",
    re.IGNORECASE,
)
_TITLE_REMOTE = re.compile(
    r"\s*(?:\((?:[àa]\s+distance|remote|virtual)\)|[\-–]\s*(?:100\s*%\s*)?(?:[àa]\s+distance|"
    r"virtual|remote))\s*$",
    re.IGNORECASE,
)
# Abbreviations of titles cut to fit a field (folded forms), and what they stand for.
_ABBREVIATIONS = {
    "accomp": "accompagnement",
    "benev": "benevole",
    "asso": "association",
    "assoc": "association",
    "admin": "administratives",
    "pers": "personnes",
    "num": "numeriques",
    "info": "informatique",
    "ordis": "ordinateurs",
    "maths": "mathematiques",
    "anim": "animation",
    "orga": "organisation",
    "pro": "professionnelle",
}
_ABBREVIATED = re.compile(r"\b(" + "|".join(_ABBREVIATIONS) + r")\b\.?")


def clean_title(title: str) -> str:
    """The title without platform decoration: "[Urgent] Mission : Tri (H/F)" -> "Tri"."""
    previous = None
    while previous != title:
        previous = title
        title = _TITLE_TAG.sub(" ", title).strip()
        title = _TITLE_PREFIX.sub("", title).strip()
        title = _TITLE_REMOTE.sub("", title).strip()
    return title


def expand_abbreviations(folded: str) -> str:
    """Folded text with title abbreviations spelled out: "accomp. pers. agees" -> ..."""
    return _ABBREVIATED.sub(lambda m: _ABBREVIATIONS[m.group(1)], folded.replace("&", " et "))


# A local branch after an organization's name: "X - Antenne de Lyon", "X (Délégation de Lyon)".
_BRANCH = re.compile(r"\s+[\-–—]\s+.*$|\s*\([^)]*\)\s*$")
# Words that vary between spellings of one organization's name (articles, a national suffix).
_ORG_STOP = frozenset(
    {"le", "la", "les", "l", "d", "de", "du", "des", "et", "a", "au", "aux", "en", "pour", "sur"}
)
_ORG_NOISE = _ORG_STOP | {"association", "asso", "assoc", "france", "francais", "francaise"}


def organization_names(name: str) -> tuple[frozenset[str], ...]:
    """The token sets one organization name can be compared by: in full, and without a branch."""
    forms = [name]
    trunk = _BRANCH.sub("", name).strip()
    if trunk and trunk != name:
        forms.append(trunk)
    out = []
    for form in forms:
        words = [w for w in _NON_WORD.split(fold(form)) if w]
        key = frozenset(w for w in words if w not in _ORG_NOISE)
        if key:
            out.append(key)
    return tuple(out)


def organization_initials(name: str) -> frozenset[str]:
    """What an acronym of the name can be: "Médecins du Monde" -> {"mdm", "mm"}."""
    out = set()
    for form in {name, _BRANCH.sub("", name).strip()}:
        words = [w for w in _NON_WORD.split(fold(form)) if w]
        if len(words) < 2:
            continue
        out.add("".join(w[0] for w in words))
        significant = [w for w in words if w not in _ORG_STOP]
        out.add("".join(w[0] for w in significant))
        out.add("".join(w[0] for w in significant if w not in _ORG_NOISE))
    return frozenset(x for x in out if len(x) >= 2)
