"""What changed on each page, and when: the ``changes`` list in every page's front matter.

Why: readers of medical information need to know whether a page is current and
what was corrected (NHS, Cochrane and MedlinePlus all show it). The change list
is written by the contributor who makes the change, so it says what changed in
words, which a commit date cannot. It feeds, with no other source:

* the page foot: the latest change beside "Last reviewed" (overrides/partials/medical-notice.html);
* the "What's new" page (the ``whats-new`` generator, ``<!-- generate: whats-new -->``, and its template
  overrides/generated/whats-new.html);
* the Atom feed ``feed.xml`` (``atom_feed``), linked from every page's head.

Every date comes from front matter, never from the clock, so the same sources
always build the same page and the same feed.

The field, newest first, one short sentence per change::

    changes:
      - date: 2026-12-06
        summary: Added the dose table from the 2025 label.
      - date: 2026-11-21
        summary: First published after editorial review.

``check`` reports every problem with the file and the line of the front matter
it is on; the rest are plain functions of plain data.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from sitekit.contract import FRONT_MATTER
from sitekit.datafiles import parse_text
from sitekit.errors import SiteError

FIELD = "changes"
KEYS = ("date", "summary")
MAX_SUMMARY = 200
EXAMPLE = ("changes:\n  - date: 2026-12-06\n    summary: What changed, in one sentence.")
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]


@dataclass(frozen=True)
class Change:
    date: dt.date
    summary: str


@dataclass(frozen=True)
class PageChanges:
    url: str  # relative to the site root, directory style: "" (home), "routes/intranasal/"
    title: str
    changes: tuple[Change, ...]


# ---------------------------------------------------------------------------
# Checking one page


def _lines(source: str) -> dict:
    """Line numbers in the file: 'field' -> the changes key, and [i] -> the i-th entry (with its keys)."""
    m = FRONT_MATTER.match(source)
    if not m:
        return {}
    try:
        _, located = parse_text(m.group(1), "front matter")  # the data-file reader's map of lines
    except SiteError:
        return {}  # the page contract reports invalid YAML
    lines: dict = {}
    for loc, line in located.items():
        if loc[:1] != (FIELD,) or len(loc) > 3:
            continue
        key = "field" if len(loc) == 1 else loc[1] if len(loc) == 2 else (loc[1], str(loc[2]))
        lines[key] = line + 1  # +1: the opening '---' comes before the YAML
    return lines


def check(meta: dict, source: str, path: str) -> list[SiteError]:
    """Every problem with the page's ``changes`` field, each naming the file and line."""
    lines = _lines(source)
    errors: list[SiteError] = []

    def err(line, message):
        errors.append(SiteError(path, line or 1, message))

    value = meta.get(FIELD)
    if value in (None, "", []):
        err(lines.get("field"), f"front matter has no '{FIELD}' list: say what changed and when, newest first:\n"
                                f"{EXAMPLE}")
        return errors
    if not isinstance(value, list):
        err(lines.get("field"), f"'{FIELD}' must be a list of entries with 'date' and 'summary':\n{EXAMPLE}")
        return errors
    previous = None
    for i, item in enumerate(value):
        line = lines.get(i, lines.get("field"))
        if not isinstance(item, dict):
            err(line, f"{FIELD} entry {i + 1} must have 'date' and 'summary' (e.g. '- date: 2026-12-06')")
            continue
        for key in sorted(set(item) - set(KEYS), key=str):
            err(lines.get((i, str(key)), line), f"{FIELD} entry {i + 1}: unknown key '{key}' (allowed: date, summary)")
        for key in KEYS:
            if item.get(key) in (None, ""):
                err(line, f"{FIELD} entry {i + 1} is missing '{key}'")
        date, summary = item.get("date"), item.get("summary")
        if date not in (None, "") and (isinstance(date, dt.datetime) or not isinstance(date, dt.date)):
            err(lines.get((i, "date"), line), f"{FIELD} entry {i + 1}: 'date' must be an ISO date like 2026-12-06, "
                                              f"not {date!r}")
            date = None
        if summary not in (None, ""):
            where = lines.get((i, "summary"), line)
            if not isinstance(summary, str):
                err(where, f"{FIELD} entry {i + 1}: 'summary' must be text, not {summary!r}")
            else:
                text = " ".join(summary.split())
                if len(text) > MAX_SUMMARY:
                    err(where, f"{FIELD} entry {i + 1}: summary is {len(text)} characters; the limit is {MAX_SUMMARY}")
                if not re.search(r"[.!?]$", text):
                    err(where, f"{FIELD} entry {i + 1}: summary is not a full sentence (end it with '.'): {text!r}")
        if isinstance(date, dt.date):
            if previous and date > previous:
                err(lines.get((i, "date"), line), f"{FIELD} entry {i + 1} ({date}) is newer than the entry above it "
                                                  f"({previous}): list changes newest first")
            previous = date
    return errors


def page_changes(meta: dict) -> tuple[Change, ...]:
    """The page's changes, newest first (call ``check`` first: this trusts the shape)."""
    return tuple(Change(item["date"], " ".join(str(item["summary"]).split())) for item in meta.get(FIELD) or ())


# ---------------------------------------------------------------------------
# Every page


def page_url(src_uri: str) -> str:
    """'index.md' -> '', 'routes/index.md' -> 'routes/', 'routes/rectal.md' -> 'routes/rectal/' (directory URLs)."""
    stem = src_uri.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        stem = stem.removesuffix("index")
        return stem
    return stem + "/"


def collect(docs_dir: Path) -> list[PageChanges]:
    """Every page's changes, read from the front matter of docs/**/*.md, in path order."""
    from sitekit.nav import front_matter  # the same reader the navigation uses

    pages = []
    for path in sorted(docs_dir.rglob("*.md")):
        try:
            meta = front_matter(path)
        except SiteError:
            continue  # invalid YAML: the page contract reports it with its line
        items = meta.get(FIELD)
        if not isinstance(items, list):
            continue
        src_uri = path.relative_to(docs_dir).as_posix()
        try:
            changes = page_changes(meta)
        except (KeyError, TypeError):
            continue  # malformed: the page's own build reports it with its line
        pages.append(PageChanges(page_url(src_uri), str(meta.get("title") or src_uri), changes))
    return pages


def long_date(date: dt.date) -> str:
    return f"{date.day} {_MONTHS[date.month - 1]} {date.year}"


def timeline(pages: list[PageChanges]) -> list[tuple[dt.date, str, list[PageChanges]]]:
    """(date, summary, pages), newest first; pages that made the same change on the same day are grouped."""
    groups: dict[tuple[dt.date, str], list[PageChanges]] = {}
    for page in pages:
        for change in page.changes:
            groups.setdefault((change.date, change.summary), []).append(page)
    rows = [(date, summary, sorted(ps, key=lambda p: (p.title.lower(), p.url))) for (date, summary), ps in groups.items()]
    # newest day first; within a day, single-page changes by page title, then changes shared by several pages
    return sorted(rows, key=lambda r: (-r[0].toordinal(), len(r[2]) > 1, r[2][0].title.lower(), r[1]))


def days(pages: list[PageChanges], link) -> list[dict]:
    """The What's new page's data, newest day first: each day's changes, each with the pages it touched.
    ``link(url)`` makes a page URL relative to the page that shows the list."""
    out: list[dict] = []
    for date, summary, group in timeline(pages):
        if not out or out[-1]["date"] != date:
            out.append({"date": date, "iso": date.isoformat(), "label": long_date(date), "changes": []})
        out[-1]["changes"].append({"summary": summary, "pages": [(link(p.url), p.title) for p in group]})
    return out


# ---------------------------------------------------------------------------
# Atom feed (RFC 4287)

ATOM = "http://www.w3.org/2005/Atom"
FEED_FILE = "feed.xml"


def atom_feed(pages: list[PageChanges], *, site_url: str, site_name: str, author: str,
              whats_new_url: str) -> bytes:
    """The feed as UTF-8 XML: one entry per page and change, newest first. Deterministic: dates come from the
    front matter (midnight UTC), ids from the page URL, date and position."""
    site_url = site_url.rstrip("/") + "/"
    entries = []
    for page in pages:
        counts: dict[dt.date, int] = {}
        for change in reversed(page.changes):  # oldest first, so an entry keeps its id when newer ones are added
            counts[change.date] = counts.get(change.date, 0) + 1
            number = counts[change.date]
            suffix = f"-{number}" if number > 1 else ""
            entries.append((change.date, page, change, f"{site_url}{page.url}#changed-{change.date.isoformat()}{suffix}"))
    entries.sort(key=lambda e: (-e[0].toordinal(), e[1].title.lower(), e[1].url, e[3]))

    def stamp(date: dt.date) -> str:
        return f"{date.isoformat()}T00:00:00Z"

    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = site_url
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"{site_name}: what's new"
    ET.SubElement(feed, f"{{{ATOM}}}subtitle").text = "Every change to every page, newest first."
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = stamp(entries[0][0]) if entries else "1970-01-01T00:00:00Z"
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", type="application/atom+xml", href=site_url + FEED_FILE)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html",
                  href=site_url + posixpath.normpath(whats_new_url).lstrip("./") + "/")
    ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = author
    for date, page, change, entry_id in entries:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = entry_id
        ET.SubElement(entry, f"{{{ATOM}}}title").text = f"{page.title}: {change.summary}"
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = stamp(date)
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=site_url + page.url)
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = change.summary
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
