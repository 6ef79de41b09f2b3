"""Flesch-Kincaid grade level, for checking that key points stay plain.

Why our own: the common packages fetch a pronunciation dictionary from the
internet at run time. This uses the classic vowel-group syllable heuristic,
which is what most readability tools do for words they do not know; it is an
estimate, good enough to catch jargon-heavy key points.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*")


def syllables(word: str) -> int:
    w = word.lower().replace("’", "'")
    if len(w) <= 3:
        return 1
    w = re.sub(r"(?:[^laeiouy]es|[^laeiouy]ed|[^laeiouy]e)$", "", w)  # silent endings
    w = re.sub(r"^y", "", w)
    return max(1, len(re.findall(r"[aeiouy]{1,2}", w)))


def grade(sentences: list[str]) -> float:
    """Flesch-Kincaid grade of a list of sentences."""
    words = [w for s in sentences for part in _WORD.findall(s) for w in part.split("-")]
    if not words or not sentences:
        return 0.0
    syl = sum(syllables(w) for w in words)
    return 0.39 * len(words) / len(sentences) + 11.8 * syl / len(words) - 15.59
