"""Assertions on the real site, built once per session (fixture ``site``)."""

from __future__ import annotations

import json
import re
from html import unescape as html_unescape
from html.parser import HTMLParser

import pytest

from conftest import ROOT
from sitekit import bibfile

DOCS = ROOT / "docs"
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))


def html_path(src: str) -> str:
    """docs path -> built html path (directory URLs)."""
    if src == "index.md":
        return "index.html"
    stem = src[:-3]
    if stem.endswith("/index"):
        return stem[: -len("index")] + "index.html"
    return stem + "/index.html"


def article(html: str) -> str:
    """The page's main content (without nav, header, footer)."""
    m = re.search(r'<article class="md-content__inner md-typeset">(.*?)</article>', html, re.S)
    assert m, "no article element"
    return m.group(1)


def expand(text: str) -> list[int]:
    """'1–3,5' -> [1, 2, 3, 5]"""
    out = []
    for part in text.split(","):
        low, _, high = part.partition("–")
        out += list(range(int(low), int(high or low) + 1))
    return out


def without_code(html: str) -> str:
    return re.sub(r"<(code|pre)\b.*?</\1>", "", html, flags=re.S)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.resources: list[tuple[str, str, str]] = []  # (tag, attr, url)
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for attr in ("src", "href", "srcset", "data"):
            if attrs.get(attr) and tag in ("script", "img", "link", "iframe", "source", "object", "embed", "audio", "video"):
                if tag == "link" and attrs.get("rel") in ("canonical",):
                    continue
                self.resources.append((tag, attr, attrs[attr]))


@pytest.mark.parametrize("src", PAGES)
def test_every_page_has_disclaimer_urgent_help_and_review_dates(site, src):
    html = site.html(html_path(src))
    assert "Education, not medical advice." in html
    assert "988" in html and "local emergency number" in html
    assert re.search(r"Last reviewed: <time datetime=\"\d{4}-\d{2}-\d{2}\">", html)
    assert re.search(r"Next review due: <time datetime=\"\d{4}-\d{2}-\d{2}\">", html)
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    data = json.loads(ld.group(1))
    assert data["@type"] == "MedicalWebPage" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["lastReviewed"])


@pytest.mark.parametrize("src", PAGES)
def test_no_unresolved_citation_outside_code(site, src):
    assert "[@" not in without_code(site.html(html_path(src)))


@pytest.mark.parametrize("src", PAGES)
def test_citations_numbered_in_order_with_reference_list(site, src):
    body = article(site.html(html_path(src)))
    sups = re.findall(r'<sup class="citation" id="cite-\d+">(.*?)</sup>', body)
    refs = re.findall(r'<li id="ref-([a-z0-9-]+)" value="(\d+)">(.*?)</li>', body, re.S)
    if not sups:
        assert not refs and 'id="references"' not in body
        return
    numbers = [n for s in sups for n in expand(re.sub(r"\([^)]*\)|<[^>]+>", "", s))]
    first_use = list(dict.fromkeys(numbers))
    assert first_use == sorted(first_use), "numbers must appear in order of first use"
    assert [int(v) for _, v, _ in refs] == list(range(1, len(refs) + 1))
    assert max(numbers) == len(refs)
    # the reference list is the last section of the page
    assert body.rfind("<h2") == body.find('<h2 id="references"')
    for key, _, li in refs:
        assert re.search(r'href="https?://[^"]+"', li), key
        entry = BIB[key]
        if entry.get("doi"):
            assert f'href="https://doi.org/{entry.get("doi")}"' in li, key
        if entry.get("pmid"):
            assert f'pubmed.ncbi.nlm.nih.gov/{entry.get("pmid")}/' in li, key
        assert f'evidence-{entry.get("evidence")}' in li


BIB = {e.key: e for e in bibfile.parse((ROOT / "references.bib").read_text(encoding="utf-8"))}


def test_what_is_ketamine_is_cited(site):
    body = article(site.html("what-is-ketamine/index.html"))
    assert len(re.findall(r'<li id="ref-', body)) >= 10
    words = len(re.sub(r"<[^>]+>", " ", body.split('<h2 id="references"')[0]).split())
    assert words >= 800


def test_full_bibliography_lists_every_entry_with_cited_on(site):
    html = site.html("references/index.html")
    for key in BIB:
        m = re.search(rf'<li id="bib-{key}">(.*?)</li>', html, re.S)
        assert m, key
        assert 'class="cited-on"' in m.group(1)
    cited_there = re.findall(r'<li id="ref-([a-z0-9-]+)"', site.html("what-is-ketamine/index.html"))
    assert cited_there
    for key in cited_there:
        entry = re.search(rf'<li id="bib-{key}">(.*?)</li>', html, re.S).group(1)
        assert re.search(r'Cited on: .*<a href="\.\./what-is-ketamine/">What is ketamine\?</a>', entry), key


def test_page_references_link_to_the_bibliography(site):
    html = site.html("what-is-ketamine/index.html")
    assert re.search(r'href="\.\./references/#bib-[a-z0-9-]+"', html)


def test_every_markdown_file_is_in_the_navigation(site):
    html = site.html("index.html")
    nav = re.search(r'<nav class="md-nav md-nav--primary".*?</nav>\s*</div>\s*</div>\s*</div>', html, re.S).group()
    hrefs = {h.split("#")[0] for h in re.findall(r'href="([^"]+)"', nav)}
    for src in PAGES:
        url = "." if src == "index.md" else html_path(src).removesuffix("index.html")
        assert url in hrefs or url.rstrip("/") in hrefs or f"./{url}" in hrefs, f"{src} is not in the nav"


def test_tooltip_markup(site):
    html = site.html("what-is-ketamine/index.html")
    assert re.search(r'<abbr title="[^"]+">NMDA</abbr>', html), "abbreviation tooltips"
    config = json.loads(re.search(r'<script id="__config" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert "content.footnote.tooltips" in config["features"]
    assert "content.tooltips" in config["features"]
    # citation links are footnote-style references, which the theme previews on hover
    assert re.search(r'<a class="footnote-ref citation-ref" href="#ref-[a-z0-9-]+"', html)


def test_no_third_party_requests(site):
    """Fonts, scripts, styles and images all come from the site itself."""
    for path in site.site.rglob("*.html"):
        collector = _Collector()
        collector.feed(path.read_text(encoding="utf-8"))
        external = [r for r in collector.resources if re.match(r"(https?:)?//", r[2])]
        assert not external, f"{path}: {external}"
    for css in site.site.rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        assert not re.search(r"@import\s+url\(\s*['\"]?https?:|fonts\.googleapis", text), css


def test_glossary_page_and_tooltips_come_from_one_file(site):
    """Every definition in includes/abbreviations.md is on the Glossary page and is the tooltip text."""
    from sitekit.generate import glossary_groups, read_glossary

    terms = read_glossary(ROOT / "includes" / "abbreviations.md")
    assert len(glossary_groups(terms)) >= 40
    html = site.html("glossary/index.html")
    shown = {}
    for term, definition in re.findall(r'<dt id="[a-z0-9-]+">(.*?)</dt><dd>(.*?)</dd>', html):
        shown[html_unescape(term.split(' <span class="glossary-also"')[0])] = html_unescape(definition)
        for also in re.findall(r'<span class="glossary-also" id="[a-z0-9-]+">\(also: ([^)<]*)\)</span>', term):
            shown[html_unescape(also)] = html_unescape(definition)  # a plural listed with its singular
    for term, definition in terms:
        folded = {k.lower(): v for k, v in shown.items()}
        assert shown.get(term) == definition or folded.get(term.lower()) == definition, term
    page = site.html("what-is-ketamine/index.html")
    tooltips = dict((t, d) for d, t in re.findall(r'<abbr title="([^"]*)">([^<]+)</abbr>', page))
    assert tooltips, "abbreviations get tooltips"
    for term, title in tooltips.items():
        assert dict(terms)[html_unescape(term)] == html_unescape(title), term


def test_edit_link_and_search(site):
    html = site.html("what-is-ketamine/index.html")
    assert "edit/main/docs/what-is-ketamine.md" in html
    assert (site.site / "search" / "search_index.json").exists()


def test_search_index_has_page_text_but_no_citation_tokens_or_markup(site):
    index = (site.site / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "\\u2063" not in index and "\u2063" not in index and "\u2064" not in index
    data = json.loads(index)
    section = next(d for d in data["docs"] if d["location"] == "what-is-ketamine/#a-medicine-with-two-lives")
    assert "Ketamine is a general anesthetic" in section["text"]
    assert "citation-ref" not in index


@pytest.mark.parametrize("address,publishing,problem", [
    ("feedback@example.org", False, None),  # placeholder: fine for local builds and tests
    ("feedback@example.org", True, "is a placeholder"),
    ("team@mail.example.com", True, "is a placeholder"),
    ("editors@ketamine.test", True, "is a placeholder"),
    ("editors@ketamine-explained.org", True, None),
    ("", False, "is missing"),
    (None, True, "is missing"),
    ("not an address", False, "is not an e-mail address"),
    ('a"b@x.org', False, "is not an e-mail address"),
])
def test_feedback_address(address, publishing, problem):
    from sitekit.mkbuild import feedback_address_problem

    got = feedback_address_problem(address, publishing)
    assert (got is None) if problem is None else (problem in got), got


def test_a_build_for_publishing_refuses_the_placeholder_feedback_address(tiny, monkeypatch):
    """The deploy workflow sets SITE_PUBLISH: a reader's report of an error must reach someone."""
    import conftest

    assert tiny().ok
    monkeypatch.setitem(conftest.ENV, "SITE_PUBLISH", "1")
    build = tiny()
    assert not build.ok
    assert "extra.feedback_email 'feedback@example.org' is a placeholder" in build.output
    assert "Traceback" not in build.output
    published = tiny(config_changes=lambda c: c["extra"].update(feedback_email="editors@ketamine-explained.org"))
    assert published.ok, published.output
    assert "SITE_PUBLISH: \"1\"" in (ROOT / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8")
