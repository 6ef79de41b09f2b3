"""The printable edition (print/index.html) and its PDF.

The edition is built by every build (overrides/hooks/print_edition.py); the PDF by
scripts/build_pdf.py (WeasyPrint), here once per session into a temporary folder,
then its first pages are rendered to PNG and checked, and its text read.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from conftest import ROOT, page
from test_site import expand
from sitekit import edition

BUILD_PDF = ROOT / "scripts" / "build_pdf.py"


class _Doc(HTMLParser):
    """Ids, in-document links, chapters and citation links of one HTML document."""

    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.chapters: list[str] = []
        self.citations: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
            if "citation-ref" in (a.get("class") or ""):
                self.citations.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])
        if tag == "article" and "chapter" in (a.get("class") or ""):
            self.chapters.append(a["id"])


def _parse(path: Path) -> _Doc:
    doc = _Doc()
    doc.feed(path.read_text(encoding="utf-8"))
    return doc


@pytest.fixture(scope="module")
def edition_doc(site):
    return _parse(site.site / "print" / "index.html")


def _nav_urls(site) -> list[str]:
    """Page URLs in navigation order, following each built page's "Next" link from the home page."""
    import posixpath

    urls, url = [], ""
    while url not in urls:
        urls.append(url)
        html = (site.site / url / "index.html").read_text(encoding="utf-8")
        m = re.search(r'<a href="([^"]*)" class="md-footer__link md-footer__link--next"', html)
        if not m:
            break
        url = posixpath.normpath(posixpath.join(url, m.group(1))).lstrip("./") + "/"
        url = "" if url == "/" else url
    return urls


def test_every_page_is_a_chapter_in_navigation_order(site, edition_doc):
    """Every page but References and the contributor guide (``print_edition: false``: the reader edition)."""
    nav = [u for u in _nav_urls(site) if u not in ("references/", "about/contributing/")]
    assert len(nav) > 40
    assert edition_doc.chapters == [edition.chapter_id(u) for u in nav]
    assert "print_edition: false" in (ROOT / "docs" / "about" / "contributing.md").read_text(encoding="utf-8")


def test_ids_are_unique_and_every_internal_link_lands(edition_doc):
    duplicates = [i for i, n in Counter(edition_doc.ids).items() if n > 1]
    assert not duplicates
    ids = set(edition_doc.ids)
    broken = sorted({h for h in edition_doc.hrefs if h.startswith("#") and h[1:] not in ids})
    assert not broken


def test_relative_links_resolve_to_built_files(site, edition_doc):
    base = site.site / "print"
    in_site = [h for h in edition_doc.hrefs + edition_doc.srcs if not h.startswith(("#", "http:", "https:"))]
    assert any(h.endswith("mechanism.svg") for h in in_site) and any(h.endswith("print-edition.css") for h in in_site)
    for href in in_site:
        target = (base / href.split("#")[0]).resolve()
        assert target.exists() or (target / "index.html").exists(), href


def test_one_merged_reference_list_numbered_across_the_document(site, edition_doc):
    html = (site.site / "print" / "index.html").read_text(encoding="utf-8")
    assert html.count('<ol class="references">') == 1, "one reference list, not one per page"
    assert 'id="references"' in html and html.rindex('<ol class="references">') > html.rindex("<article")
    listed = re.findall(r'<li id="ref-([a-z0-9-]+)" value="(\d+)"', html)
    keys = [k for k, _ in listed]
    assert len(keys) == len(set(keys)), "each source once"
    assert [int(n) for _, n in listed] == list(range(1, len(listed) + 1))
    cited = {h.removeprefix("#ref-") for h in edition_doc.citations}
    assert cited == set(keys)
    # numbered in order of first citation across the whole document ("2–4" cites 3 without a link of its own)
    numbers = []
    for sup in re.findall(r'<sup class="citation"[^>]*>(.*?)</sup>', html):
        numbers += expand(re.sub(r"\([^)]*\)|<[^>]+>", "", sup))
    assert list(dict.fromkeys(numbers)) == list(range(1, len(keys) + 1))
    linked = re.findall(r'class="footnote-ref citation-ref" href="#ref-([a-z0-9-]+)"[^>]*>(\d+)<', html)
    assert all(keys[int(n) - 1] == key for key, n in linked), "every number links to its own entry"
    # every cited source of every page is in the edition's list
    for page_file in (site.site / "safety").glob("*/index.html"):
        assert set(re.findall(r'<li id="ref-([a-z0-9-]+)"', page_file.read_text(encoding="utf-8"))) <= set(keys)


def test_cover_contents_and_disclaimer(site, edition_doc):
    html = (site.site / "print" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<h1 class="cover-title">Ketamine Explained</h1>', html)
    assert "Education, not medical advice." in html and "988" in html
    contents = html[html.index('<nav class="contents"'):html.index("</nav>")]
    linked = re.findall(r'href="#([^"]+)"', contents)
    assert linked == edition_doc.chapters, "the contents lists every chapter, in order"
    assert "\u2063" not in html and "\u2064" not in html, "no citation token left behind"


# --- unit tests of the pieces -------------------------------------------------------------------

def test_rebase_rewrites_ids_and_links():
    targets = {"": "page-home", "routes/": "page-routes", "routes/intranasal/": "page-routes-intranasal"}
    html = ('<h2 id="dose">Dose</h2><a href="#dose">here</a> <a href="../">routes</a> '
            '<a href="../../#top">home</a> <a href="../../references/#bib-smith2020ketamine">ref</a> '
            '<a href="../../references/#bib-unknown2020x">other</a> '
            '<img src="../../assets/x.svg"> <a href="https://example.org/a">out</a> '
            '<svg aria-labelledby="t d"><title id="t">T</title></svg> <label for="x">x</label>')
    out = edition.rebase(html, "routes/intranasal/", targets, references_url="references/",
                         cited={"smith2020ketamine"})
    assert 'id="page-routes-intranasal-dose"' in out
    assert 'href="#page-routes-intranasal-dose"' in out
    assert 'href="#page-routes"' in out and 'href="#page-home-top"' in out
    assert 'href="#ref-smith2020ketamine"' in out and 'href="#references"' in out
    assert 'src="../assets/x.svg"' in out
    assert 'href="https://example.org/a"' in out
    assert 'aria-labelledby="page-routes-intranasal-t page-routes-intranasal-d"' in out
    assert 'for="page-routes-intranasal-x"' in out


def test_chapter_ids():
    assert edition.chapter_id("") == "page-home"
    assert edition.chapter_id("routes/intranasal/") == "page-routes-intranasal"


def test_tiny_site_edition_renumbers_citations(tiny):
    build = tiny({
        "index.md": page("## Intro\n\nHome cites B [@jones2021second].", title="Home"),
        "a.md": page("A cites A then B [@smith2020ketamine; @jones2021second]. [Home](index.md#intro)",
                     title="Alpha"),
    })
    assert build.ok, build.output
    html = (build.site / "print" / "index.html").read_text(encoding="utf-8")
    refs = re.findall(r'<li id="ref-([a-z0-9-]+)" value="(\d+)"', html)
    assert refs == [("jones2021second", "1"), ("smith2020ketamine", "2")]
    # On page "a" on its own, smith is 1; in the edition it is 2, after jones on the home page.
    assert 'href="#ref-smith2020ketamine" aria-label="Reference 2">2</a>' in html
    assert 'href="#page-home-intro"' in html and 'id="page-home-intro"' in html


# --- the PDF ------------------------------------------------------------------------------------

def test_pdf_pages_title_references_and_links(site, edition_doc, tmp_path):
    """One test (the PDF takes WeasyPrint about half a minute): build it as `make pdf` does, then check it."""
    pdf = tmp_path / "edition.pdf"
    proc = subprocess.run([sys.executable, str(BUILD_PDF), "--site-dir", str(site.site), "--output", str(pdf)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    document = pdfium.PdfDocument(str(pdf))
    pages = len(document)
    assert pages >= 2 * len(edition_doc.chapters), f"{pages} pages for {len(edition_doc.chapters)} chapters"
    first = document[0].get_textpage().get_text_range()
    assert "Ketamine Explained" in first and "Printable edition".upper() in first.upper()
    # The first pages, rendered to PNG: real, non-blank pages of A4 proportions.
    for i in range(3):
        image = document[i].render(scale=1).to_pil()
        image.save(tmp_path / f"page-{i + 1}.png")
        assert abs(image.height / image.width - 297 / 210) < 0.01
        dark = sum(image.convert("L").histogram()[:128])
        assert dark > 500, f"page {i + 1} looks blank"
    assert (tmp_path / "page-1.png").stat().st_size > 5000
    contents = document[1].get_textpage().get_text_range()
    assert "Contents" in contents and "What is ketamine?" in contents
    # The reference list is at the end: the last pages hold references, not chapters.
    tail = " ".join(document[i].get_textpage().get_text_range() for i in range(pages - 3, pages))
    assert "doi:" in tail and "PubMed" in tail
    assert "<https://pubmed" not in tail, "reference links are not followed by their addresses (the DOI is the text)"
    chapter = next(text for text in (document[i].get_textpage().get_text_range() for i in range(2, pages))
                   if text.lstrip().startswith("What is ketamine?"))
    assert chapter.count("https://ketamine-explained.github.io/ketamine-explained/") == 1, "the Online: address once"
    references_start = next(i for i in range(pages - 1, 0, -1)
                            if document[i].get_textpage().get_text_range().lstrip().startswith("References"))
    assert references_start > pages * 0.6
    _check_internal_links(document)


def _check_internal_links(document) -> None:
    """Contents entries and citations are links inside the PDF (to a page of the PDF itself)."""
    import ctypes

    import pypdfium2.raw as raw

    internal = 0
    for i in (1, 5):
        pg = document[i]
        pos = 0
        while True:
            start = ctypes.c_int(pos)
            link = raw.FPDF_LINK()
            if not raw.FPDFLink_Enumerate(pg.raw, ctypes.byref(start), ctypes.byref(link)):
                break
            pos = start.value
            dest = raw.FPDFLink_GetDest(document.raw, link)
            if dest:
                target = raw.FPDFDest_GetDestPageIndex(document.raw, dest)
                assert 0 <= target < len(document)
                internal += 1
    assert internal > 20, f"only {internal} internal links on the contents page and a chapter page"


def test_pdf_refuses_anything_outside_the_site(tmp_path):
    spec = importlib.util.spec_from_file_location("build_pdf", BUILD_PDF)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "print").mkdir()
    (tmp_path / "print" / "index.html").write_text(
        '<!doctype html><html lang="en"><head><title>x</title>'
        '<link rel="stylesheet" href="https://fonts.example.org/x.css"></head><body>x</body></html>')
    with pytest.raises(module.OfflineError, match=r"https://fonts\.example\.org/x\.css"):
        module.build_pdf(tmp_path)
    assert module.main(["--site-dir", str(tmp_path / "missing")]) == 1


def test_external_links_are_marked_for_print():
    html = ('<a href="https://example.org/x">out</a> <a href="https://site.org/k/safety/">in</a> '
            '<a class="c" href="http://other.org/">other</a> <a href="../x/">rel</a>')
    out = edition.mark_external_links(html, "https://site.org/k/")
    assert out.count("data-external") == 2
    assert '<a data-external href="https://example.org/x">' in out
    assert '<a data-external class="c" href="http://other.org/">' in out
    assert '<a href="https://site.org/k/safety/">' in out and '<a href="../x/">' in out
    assert edition.mark_external_links(out, "https://site.org/k/") == out  # idempotent
