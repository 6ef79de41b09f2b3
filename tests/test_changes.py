"""What changed (sitekit.changes), the reader marks on page HTML (sitekit.readerhtml) and the PDF link
(sitekit.offline): plain functions, tiny sites for the build's messages, and the real site's output.

The browser side (page foot, What's new, the feed link, the footer) is in tests/test_reader_browser.py.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from conftest import ROOT, page
from sitekit import changes, offline, readerhtml

ATOM = {"a": "http://www.w3.org/2005/Atom"}


def _page_with(changes_yaml: str) -> str:
    front = ("title: T\ndescription: D\nreviewed: 2026-01-01\nnext_review: 2027-01-01\n" + changes_yaml)
    return page(front=front)


def _check(source: str) -> list[str]:
    meta = yaml.safe_load(source.split("\n---", 1)[0].removeprefix("---"))
    return [str(e) for e in changes.check(meta, source, "docs/x.md")]


# --- the field, checked -------------------------------------------------------------------------

def test_a_good_change_list_passes():
    assert _check(_page_with("changes:\n  - date: 2026-02-01\n    summary: Newer.\n"
                             "  - date: 2026-01-01\n    summary: First version.\n")) == []


@pytest.mark.parametrize("changes_yaml, expected", [
    ("", r"^docs/x\.md:1: front matter has no 'changes' list"),
    ("changes: soon\n", r"^docs/x\.md:6: 'changes' must be a list"),
    ("changes:\n  - 2026-01-01\n", r"^docs/x\.md:7: changes entry 1 must have 'date' and 'summary'"),
    ("changes:\n  - date: 2026-01-01\n", r"^docs/x\.md:7: changes entry 1 is missing 'summary'"),
    ("changes:\n  - date: 2026-01-01\n    summary: Fine.\n    author: me\n",
     r"^docs/x\.md:9: changes entry 1: unknown key 'author'"),
    ("changes:\n  - date: January 2026\n    summary: Fine.\n",
     r"^docs/x\.md:7: changes entry 1: 'date' must be an ISO date like 2026-12-06, not 'January 2026'"),
    ("changes:\n  - date: 2026-01-01\n    summary: No full stop\n",
     r"^docs/x\.md:8: changes entry 1: summary is not a full sentence"),
    ("changes:\n  - date: 2026-01-01\n    summary: " + "x" * 201 + ".\n",
     r"^docs/x\.md:8: changes entry 1: summary is 202 characters; the limit is 200"),
    ("changes:\n  - date: 2026-01-01\n    summary: Older.\n  - date: 2026-03-01\n    summary: Newer.\n",
     r"^docs/x\.md:9: changes entry 2 \(2026-03-01\) is newer than the entry above it \(2026-01-01\): "
     "list changes newest first"),
], ids=["missing", "not a list", "not a mapping", "no summary", "unknown key", "bad date", "no full stop",
        "too long", "out of order"])
def test_each_bad_change_list_names_file_and_line(changes_yaml, expected):
    problems = _check(_page_with(changes_yaml))
    assert problems and re.search(expected, problems[0]), problems


def test_a_bad_change_list_fails_the_build_with_file_and_line(tiny):
    build = tiny({"index.md": page(), "other.md": _page_with("changes:\n  - date: 2026-01-01\n    summary: Oops\n")})
    assert not build.ok
    assert "docs/other.md:8: changes entry 1: summary is not a full sentence (end it with '.'): 'Oops'" in build.output
    assert "Traceback" not in build.output


def test_every_page_of_the_site_has_a_change_list():
    missing = []
    for path in sorted((ROOT / "docs").rglob("*.md")):
        source = path.read_text(encoding="utf-8")
        meta = yaml.safe_load(source.split("\n---", 1)[0].removeprefix("---"))
        if changes.check(meta, source, str(path)):
            missing.append(str(path.relative_to(ROOT)))
    assert not missing


# --- What's new and the feed --------------------------------------------------------------------

def _pages() -> list[changes.PageChanges]:
    d = dt.date
    return [
        changes.PageChanges("", "Home", (changes.Change(d(2026, 3, 1), "New cards."),
                                         changes.Change(d(2026, 1, 1), "First version."))),
        changes.PageChanges("a/", "Alpha", (changes.Change(d(2026, 1, 1), "First version."),)),
        changes.PageChanges("b/", "Beta", (changes.Change(d(2026, 2, 1), "Fixed a date."),
                                           changes.Change(d(2026, 2, 1), "Added a study."))),
    ]


def test_whats_new_groups_pages_by_day_and_change_newest_first():
    days = changes.days(_pages(), lambda url: "../" + url)
    assert [d["iso"] for d in days] == ["2026-03-01", "2026-02-01", "2026-01-01"]
    assert days[2]["changes"] == [{"summary": "First version.", "pages": [("../a/", "Alpha"), ("../", "Home")]}]
    assert [c["summary"] for c in days[1]["changes"]] == ["Added a study.", "Fixed a date."]
    assert days[0]["label"] == "1 March 2026"


def test_atom_feed_is_valid_deterministic_and_dated_by_front_matter():
    kwargs = dict(site_url="https://example.org/site/", site_name="Site", author="Us", whats_new_url="about/new/")
    feed = changes.atom_feed(_pages(), **kwargs)
    assert feed == changes.atom_feed(list(reversed(_pages())), **kwargs)  # order of pages does not matter
    root = ElementTree.fromstring(feed)
    assert root.find("a:updated", ATOM).text == "2026-03-01T00:00:00Z"
    entries = root.findall("a:entry", ATOM)
    assert len(entries) == 5
    ids = [e.find("a:id", ATOM).text for e in entries]
    assert len(set(ids)) == 5
    assert "https://example.org/site/b/#changed-2026-02-01-2" in ids  # two changes on one day keep distinct ids
    assert entries[0].find("a:title", ATOM).text == "Home: New cards."
    assert root.find("a:link[@rel='alternate']", ATOM).get("href") == "https://example.org/site/about/new/"


def test_the_built_feed_lists_every_change_of_every_page(site):
    root = ElementTree.fromstring((site.site / "feed.xml").read_bytes())
    pages = changes.collect(ROOT / "docs")
    assert len(pages) == len(list((ROOT / "docs").rglob("*.md")))
    assert len(root.findall("a:entry", ATOM)) == sum(len(p.changes) for p in pages)
    html = site.html("index.html")
    assert '<link rel="alternate" type="application/atom+xml"' in html and 'href="feed.xml"' in html


def test_page_urls_follow_directory_urls():
    assert [changes.page_url(s) for s in ("index.md", "routes/index.md", "routes/rectal.md", "glossary.md")] == \
        ["", "routes/", "routes/rectal/", "glossary/"]


# --- reader marks on page HTML ------------------------------------------------------------------

def test_key_points_are_marked_once():
    html = ('<div class="admonition abstract">\n<p class="admonition-title">Key points</p><ul></ul></div>'
            '<div class="admonition abstract">\n<p class="admonition-title">Key points</p></div>')
    marked = readerhtml.mark_key_points(html)
    assert marked.count("key-points") == 1 and marked.startswith('<div class="admonition abstract key-points">')


def test_repeated_terms_are_marked_per_section_by_definition():
    html = ('<p><abbr title="A test.">RCT</abbr> and <abbr title="A test.">RCTs</abbr> and '
            '<abbr title="Other.">NMDA</abbr></p><h2 id="x"><abbr title="A test.">RCT</abbr></h2>'
            '<p><abbr title="A test.">RCT</abbr> <abbr class="x" title="A test.">RCT</abbr></p>')
    marked = readerhtml.mark_repeated_terms(html)
    abbrs = re.findall(r"<abbr[^>]*>", marked)
    assert abbrs == ['<abbr title="A test.">', '<abbr title="A test." class="abbr-repeat">', '<abbr title="Other.">',
                     '<abbr title="A test.">',  # a heading starts a section (and is never underlined: CSS)
                     '<abbr title="A test." class="abbr-repeat">', '<abbr class="x abbr-repeat" title="A test.">']


def test_the_built_pages_mark_key_points_and_repeats(site):
    html = site.html("mechanism/index.html")
    assert html.count('class="admonition abstract key-points"') == 1
    assert 'class="abbr-repeat"' in html


# --- the PDF link -------------------------------------------------------------------------------

def test_human_size():
    assert [offline.human_size(n) for n in (400, 851_234, 999_999, 2_345_678, 12_000_000)] == \
        ["1 KB", "851 KB", "1000 KB", "2.3 MB", "12.0 MB"]


def test_stamp_points_the_footer_link_at_the_pdf_and_shows_its_size(tmp_path: Path):
    built = ('<a class="offline-edition__link" href="../print/" data-pdf="../ketamine-explained.pdf">'
             'Print / Download PDF</a> … updated <time>1 May 2026</time><span class="offline-edition__size"></span>.')
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text(built, encoding="utf-8")
    (tmp_path / "plain.html").write_text("<p>no footer</p>", encoding="utf-8")
    pdf = tmp_path / "ketamine-explained.pdf"
    pdf.write_bytes(b"x" * 1_234_567)
    assert offline.stamp_site(tmp_path, pdf) == 1
    stamped = (tmp_path / "a" / "index.html").read_text(encoding="utf-8")
    assert 'href="../ketamine-explained.pdf"' in stamped and 'type="application/pdf"' in stamped
    assert '<span class="offline-edition__size">; PDF, 1.2 MB</span>' in stamped
    assert offline.stamp_site(tmp_path, pdf) == 0  # stamping twice changes nothing


def test_the_built_footer_links_the_printable_edition_until_the_pdf_exists(site):
    html = site.html("safety/index.html")
    assert '<a class="offline-edition__link" href="../print/" data-pdf="../ketamine-explained.pdf">' in html
    assert not (site.site / "ketamine-explained.pdf").exists()
    assert (site.site / "print" / "index.html").exists()
