"""The page contract every page must meet.

Why: a medical page is only trustworthy if readers can see what it claims in
plain words, how fresh it is and where its sources are. So every page has:

* front matter ``title``, ``description`` (<= 160 characters), ``reviewed``
  and ``next_review`` (ISO dates, the second after the first);
* as its first block, a ``!!! abstract "Key points"`` admonition holding a
  list of 3-5 plain sentences (no citations: the body carries them);
* no hand-written H1 (the title comes from front matter) and no hand-written
  "References" section (the build appends it, so a page always ends with it);
* no ``<script>``: the Content-Security-Policy never lets a script in a page's
  content run (``sitekit.themehtml``), so one would fail silently in the browser.

The disclaimer, urgent-help notice and review dates are added by the theme
(``overrides/main.html``), written once for every page.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import yaml

from sitekit import mdscan
from sitekit.datafiles import YAML_LOADER
from sitekit.errors import SiteError, line_of

KEY_POINTS_OPENER = '!!! abstract "Key points"'
MAX_DESCRIPTION = 160
MIN_POINTS, MAX_POINTS = 3, 5

_ITEM = re.compile(r"^ {4}[-*] (?P<text>.+)$")
_CONTINUATION = re.compile(r"^ {6}\S")


def check_meta(meta: dict, path: str, front_matter_lines: int) -> list[SiteError]:
    """Front matter rules. Errors point at the front matter (line 1)."""
    errors = []

    def err(message: str) -> None:
        errors.append(SiteError(path, 1, message))

    for name in ("title", "description", "reviewed", "next_review"):
        if name not in meta or meta[name] in (None, ""):
            err(f"front matter is missing '{name}'")
    if front_matter_lines == 0:
        return [SiteError(path, 1, "page has no front matter (--- title/description/reviewed/next_review ---)")]
    description = meta.get("description")
    if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
        err(f"description is {len(description)} characters; the limit is {MAX_DESCRIPTION}")
    dates = {}
    for name in ("reviewed", "next_review"):
        value = meta.get(name)
        if value in (None, ""):
            continue
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            err(f"'{name}' must be an ISO date like 2026-11-21, not {value!r}")
        else:
            dates[name] = value
    if len(dates) == 2 and dates["next_review"] <= dates["reviewed"]:
        err(f"next_review ({dates['next_review']}) must be after reviewed ({dates['reviewed']})")
    return errors


def key_points(body: str) -> tuple[list[str], int]:
    """The key-point sentences and the line they start on, or ([], 0)."""
    lines = body.split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or lines[i].rstrip() != KEY_POINTS_OPENER:
        return [], 0
    start = i + 1
    points: list[str] = []
    i += 1
    while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
        m = _ITEM.match(lines[i])
        if m:
            points.append(m.group("text").strip())
        elif _CONTINUATION.match(lines[i]) and points:
            points[-1] += " " + lines[i].strip()
        i += 1
    return points, start


def check_body(body: str, path: str, offset: int) -> list[SiteError]:
    """Key points first, 3-5 sentences; no H1; no hand-written References; no scripts."""
    errors = []
    points, start = key_points(body)
    first_line = offset + len(body[: len(body) - len(body.lstrip())].split("\n"))
    if not start:
        errors.append(SiteError(path, first_line, f"the page must open with {KEY_POINTS_OPENER} "
                                                   "and an indented list of 3-5 sentences"))
    else:
        line = offset + start
        if not MIN_POINTS <= len(points) <= MAX_POINTS:
            errors.append(SiteError(path, line, f"Key points has {len(points)} items; write {MIN_POINTS}-{MAX_POINTS}"))
        for p in points:
            if not re.search(r"[.!?]$", p):
                errors.append(SiteError(path, line, f"key point is not a full sentence (end it with '.'): {p!r}"))
            if "[@" in p:
                errors.append(SiteError(path, line, f"key points are plain language without citations: {p!r}"))
    protected = mdscan.protected(body)
    for m in re.finditer(r"(?m)^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", body):
        if m.start() in protected:
            continue
        line = line_of(body, m.start()) + offset
        if len(m.group(1)) == 1:
            errors.append(SiteError(path, line, "do not write an H1: the page title comes from front matter"))
        if re.fullmatch(r"(?i)references|bibliography", m.group(2).split("{")[0].strip()):
            errors.append(SiteError(path, line, "do not write a References section: the build appends one"))
    for m in re.finditer(r"(?i)<script\b", body):
        if m.start() not in protected:
            errors.append(SiteError(path, line_of(body, m.start()) + offset, "do not write <script> in a page: the "
                                    "site's Content-Security-Policy runs only the theme's scripts"))
    return errors


@dataclass(frozen=True)
class FrontMatter:
    meta: dict  # shared between callers: read it, never change it
    error: SiteError | None = None


FRONT_MATTER = re.compile(r"^-{3}[ \t]*\n(.*?\n)(?:\.{3}|-{3})[ \t]*\n", re.S)  # group 1: the YAML


def front_matter(source: str, path: str) -> FrontMatter:
    """A page's front matter, parsed once per text (the navigation and the page contract share it).

    MkDocs silently ignores front matter that is not valid YAML; here it is an error with its line."""
    meta, problem = _parse(source)
    return FrontMatter(meta, SiteError(path, *problem) if problem else None)


@functools.lru_cache(maxsize=4096)
def _parse(source: str) -> tuple[dict, tuple[int, str] | None]:
    m = FRONT_MATTER.match(source)
    if not m:
        return {}, None
    try:
        data = yaml.load(m.group(1), Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        return {}, (mark.line + 2 if mark else 1, f"front matter is not valid YAML ({problem}); "
                                                  "quote values that contain ': '")
    if not isinstance(data, dict):
        return {}, (1, "front matter must be a mapping of 'name: value' lines")
    return data, None


def check_page(meta: dict, body: str, path: str, offset: int, source: str = "") -> list[SiteError]:
    error = front_matter(source, path).error
    if error:
        return [error]
    return check_meta(meta, path, offset) + check_body(body, path, offset)
