#!/usr/bin/env python
"""Text folding: hub.catalogue.text.fold (its table applied to the non-ASCII runs only) beside
its definition (NFKD of the whole text, combining marks dropped) and beside the table applied to
every character (fold until 2026-12-05), in one process, interleaved rounds, on French mission
text (a sentence and a whole description) and on plain ASCII. Reports each as a ratio to the
definition measured in the same round.

    .venv/bin/python bench/fold.py [--calls 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
import unicodedata
from collections.abc import Callable

from hub.catalogue.text import _FOLDING, fold

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l"})
TEXTS = {
    "French": "Accompagnement des bénévoles à la création d'un site internet pour l'Œuvre "
    "de la Mémoire ÉCOLE, deux à trois heures par semaine, à distance ou à Besançon.",
    "French, 425 chars": "Aide aux devoirs en visio (n°0)\nGraphisme : nous cherchons une personne "
    "pour nous aider, quelques heures par semaine, auprès de l'équipe de Bourg-en-Bresse.\n"
    "Développement web : nous cherchons une personne pour nous aider, quelques heures par "
    "semaine, auprès de l'équipe de Bourg-en-Bresse.\nÉcoute active : nous cherchons une "
    "personne pour nous aider, quelques heures par semaine, auprès de l'équipe.",
    "ASCII": "Mentoring young people online: two to three hours a week, remote, from January.",
}


def by_definition(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.lower().translate(_LIGATURES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def every_character(value: str) -> str:
    """The table applied to every character of the text (fold until 2026-12-05)."""
    lowered = value.lower()
    return lowered if lowered.isascii() else lowered.translate(_FOLDING)


def _us_per_call(function: Callable[[str], str], text: str, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        function(text)
    return (time.perf_counter() - started) * 1e6 / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for name, text in TEXTS.items():
        assert fold(text) == by_definition(text) == every_character(text)
        ratios, table, definition, whole = [], [], [], []
        for _ in range(args.rounds):
            d = _us_per_call(by_definition, text, args.calls)
            t = _us_per_call(fold, text, args.calls)
            w = _us_per_call(every_character, text, args.calls)
            definition.append(d)
            table.append(t)
            whole.append(w)
            ratios.append(d / t)
        print(
            f"{name:17} definition {statistics.median(definition):6.2f} µs  "
            f"table on every character {statistics.median(whole):6.2f} µs  "
            f"fold {statistics.median(table):6.2f} µs  "
            f"fold is {statistics.median(ratios):4.1f}x cheaper than the definition "
            f"(median of {args.rounds} rounds)"
        )


if __name__ == "__main__":
    main()
