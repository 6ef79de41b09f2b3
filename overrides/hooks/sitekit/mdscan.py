"""Find the parts of a Markdown page that must be left verbatim.

Why: mkdocs-bibtex 4.4 rewrites ``[@key]`` wherever it appears, including in
inline code and fenced code blocks, so documentation *about* citing was
silently corrupted. Every rewrite the build does first asks this module which
character spans are code (or HTML comments) and skips them.
"""

from __future__ import annotations

import bisect
import re

_FENCE_OPEN = re.compile(r"^[ \t>]*(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


class Protected:
    """Sorted, non-overlapping (start, end) spans with fast membership tests."""

    def __init__(self, spans: list[tuple[int, int]]):
        self.spans = sorted(spans)
        self._starts = [s for s, _ in self.spans]

    def __contains__(self, pos: int) -> bool:
        i = bisect.bisect_right(self._starts, pos) - 1
        return i >= 0 and self.spans[i][0] <= pos < self.spans[i][1]

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self._starts, end - 1) - 1
        return i >= 0 and self.spans[i][1] > start


def fenced_blocks(md: str) -> list[tuple[int, int]]:
    """Spans of fenced code blocks (``` or ~~~), including their fences."""
    spans, pos, open_at, fence = [], 0, None, ""
    for line in md.splitlines(keepends=True):
        stripped = line.rstrip("\n")
        if open_at is None:
            m = _FENCE_OPEN.match(stripped)
            if m and not (m.group("fence")[0] == "`" and "`" in m.group("info")):
                open_at, fence = pos, m.group("fence")
        else:
            body = stripped.lstrip(" \t>").rstrip()
            if body and set(body) == {fence[0]} and len(body) >= len(fence):
                spans.append((open_at, pos + len(line)))
                open_at = None
        pos += len(line)
    if open_at is not None:
        spans.append((open_at, len(md)))
    return spans


def inline_code(md: str, skip: Protected) -> list[tuple[int, int]]:
    """Spans of inline code (`x`, ``x``), not crossing a blank line."""
    spans, i, n = [], 0, len(md)
    while i < n:
        j = md.find("`", i)
        if j < 0:
            break
        if j in skip:
            i = j + 1
            continue
        run_end = j
        while run_end < n and md[run_end] == "`":
            run_end += 1
        run = run_end - j
        if j > 0 and md[j - 1] == "\\" and run == 1:
            i = run_end
            continue
        closer = re.compile(r"(?<!`)" + "`" * run + r"(?!`)")
        m = closer.search(md, run_end)
        if m and not _BLANK_LINE.search(md, run_end, m.start()) and not skip.overlaps(run_end, m.start()):
            spans.append((j, m.end()))
            i = m.end()
        else:
            i = run_end
    return spans


def html_comments(md: str, skip: Protected) -> list[tuple[int, int]]:
    spans = []
    for m in re.finditer(r"<!--.*?-->", md, re.S):
        if m.start() not in skip:
            spans.append((m.start(), m.end()))
    return spans


def protected(md: str, comments: bool = True) -> Protected:
    """Everything a rewrite must not touch: fenced code, inline code, comments."""
    fences = Protected(fenced_blocks(md))
    spans = fences.spans + inline_code(md, fences)
    if comments:
        spans += html_comments(md, Protected(spans))
    return Protected(spans)
