"""Structured data, Open Graph, canonical URLs, sitemap dates, Cite this page, 404 page.

Every built page's JSON-LD is parsed and checked field by field against the
page's own front matter and the references the page cites.
"""

from __future__ import annotations

import datetime as dt
import html as htmlmod
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from conftest import ROOT
from sitekit import bibfile, metadata

SITE_URL = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["site_url"]
BIB = {e.key: e for e in bibfile.parse((ROOT / "references.bib").read_text(encoding="utf-8"))}


def _front_matter(md: Path) -> dict:
    text = md.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---", 2)[1])


def _pages() -> list[tuple[Path, str]]:
    """(source file, URL) of every page."""
    out = []
    for md in sorted((ROOT / "docs").rglob("*.md")):
        rel = md.relative_to(ROOT / "docs").as_posix()
        url = "" if rel == "index.md" else rel.removesuffix("index.md").removesuffix(".md") + ("" if rel.endswith("index.md") else "/")
        out.append((md, url))
    return out


PAGES = _pages()


def _jsonld(html: str) -> dict:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1, f"{len(blocks)} JSON-LD blocks"
    return json.loads(blocks[0])


def _meta(html: str, attr: str, name: str) -> str | None:
    m = re.search(rf'<meta {attr}="{re.escape(name)}" content="([^"]*)"', html)
    return htmlmod.unescape(m.group(1)) if m else None


@pytest.mark.parametrize("md,url", PAGES, ids=[u or "home" for _, u in PAGES])
def test_structured_data_matches_front_matter(site, md, url):
    meta = _front_matter(md)
    html = (site.site / url / "index.html").read_text(encoding="utf-8")
    data = _jsonld(html)
    canonical = SITE_URL + url
    assert data["@context"] == "https://schema.org" and data["@type"] == "MedicalWebPage"
    assert data["name"] == meta["title"]
    assert data["description"] == meta["description"]
    assert data["lastReviewed"] == meta["reviewed"].isoformat()
    assert data["expires"] == meta["next_review"].isoformat()
    assert data["url"] == canonical
    assert data["about"]["@type"] == "Drug" and data["about"]["name"] == "Ketamine"
    audiences = {a["@type"] for a in data["medicalAudience"]}
    assert audiences == {"PeopleAudience", "MedicalAudience"}
    # citation: exactly the page's references, in the page's order, with their DOIs and PMIDs
    keys = re.findall(r'<li id="ref-([a-z0-9-]+)" value="\d+"', html)
    assert len(data["citation"]) == len(keys)
    for key, work in zip(keys, data["citation"]):
        entry = BIB[key]
        ids = {i["propertyID"]: i["value"] for i in work.get("identifier", [])}
        if entry.get("doi"):
            assert ids["DOI"] == entry.get("doi") and work["sameAs"] == f"https://doi.org/{entry.get('doi')}"
        if entry.get("pmid"):
            assert ids["PMID"] == entry.get("pmid")
        assert work["name"] == metadata.plain(entry.get("title"))
        assert "url" in work
    # the tags search engines and link previews read
    assert _meta(html, "name", "description") == meta["description"]
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert _meta(html, "property", "og:title") == meta["title"]
    assert _meta(html, "property", "og:description") == meta["description"]
    assert _meta(html, "property", "og:url") == canonical
    assert _meta(html, "property", "og:type") == "article"
    assert _meta(html, "name", "twitter:card") == "summary"


def test_every_page_was_checked(site):
    built = {p.parent.relative_to(site.site).as_posix() for p in site.site.rglob("index.html")}
    built = {"" if b == "." else b + "/" for b in built} - {"print/"}
    assert built == {u for _, u in PAGES}


def test_sitemap_lastmod_is_each_pages_review_date(site):
    tree = ElementTree.parse(site.site / "sitemap.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    lastmod = {u.find("s:loc", ns).text: u.find("s:lastmod", ns).text for u in tree.findall("s:url", ns)}
    assert len(lastmod) == len(PAGES)
    for md, url in PAGES:
        assert lastmod[SITE_URL + url] == _front_matter(md)["reviewed"].isoformat(), url


@pytest.mark.parametrize("md,url", [p for p in PAGES if p[1] in ("", "routes/intranasal/", "safety/")],
                         ids=["home", "intranasal", "safety"])
def test_cite_this_page(site, md, url):
    meta = _front_matter(md)
    html = (site.site / url / "index.html").read_text(encoding="utf-8")
    box = html[html.index('<details class="cite-this-page">'):]
    box = box[:box.index("</details>")]
    ama = re.search(r'<p class="cite-text" id="cite-ama">(.*?)</p>', box, re.S).group(1)
    assert '<span class="cite-accessed">[date accessed]</span>' in ama  # filled in by docs/javascripts/cite-page.js
    ama = htmlmod.unescape(re.sub(r"<[^>]+>", "", ama))
    reviewed = meta["reviewed"]
    assert ama == (f"Ketamine Explained contributors. {meta['title']}. Ketamine Explained. "
                   f"Updated {reviewed.strftime('%B')} {reviewed.day}, {reviewed.year}. Accessed [date accessed]. "
                   f"{SITE_URL}{url}")
    bibtex = htmlmod.unescape(re.search(r'<code id="cite-bibtex">(.*?)</code>', box, re.S).group(1))
    parsed = bibfile.parse(bibtex, "cite-this-page")
    assert len(parsed) == 1 and parsed[0].type == "misc"
    assert parsed[0].get("title") == "{" + meta["title"] + "}"
    assert parsed[0].get("url") == SITE_URL + url
    assert parsed[0].get("date") == reviewed.isoformat()
    assert parsed[0].get("howpublished") == "Ketamine Explained"
    assert box.count('data-copy="cite-ama"') == 1 and box.count('data-copy="cite-bibtex"') == 1


def test_page_citation_escapes_bibtex_and_keys():
    cite = metadata.page_citation(title="Drugs & 50% doses", site_name="Ketamine Explained",
                                  reviewed=dt.date(2026, 3, 9), url="https://x.org/k/safety/monitoring/",
                                  path="safety/monitoring/")
    assert cite["key"] == "ketamineexplained2026monitoring"
    assert r"title        = {{Drugs \& 50\% doses}}," in cite["bibtex"]
    assert "month        = mar," in cite["bibtex"]
    assert "Updated March 9, 2026." in cite["ama"]
    assert metadata.citation_key("Ketamine Explained", dt.date(2026, 1, 1), "./") == "ketamineexplained2026home"
    assert metadata.citation_key("Ketamine Explained", dt.date(2026, 1, 1), "") == "ketamineexplained2026home"


def test_scholarly_work_from_a_bib_entry():
    entry = bibfile.parse(
        "@article{smith2020ketamine,\n  author = {Smith, Jane A. and {World Health Organization}},\n"
        "  title = {{NMDA} and {\\&} more},\n  journal = {J Tests},\n  year = {2020},\n"
        "  doi = {10.1/x},\n  pmid = {123}\n}\n")[0]
    work = metadata.scholarly_work(entry)
    assert work["@type"] == "ScholarlyArticle" and work["name"] == "NMDA and & more"
    assert work["author"][0] == {"@type": "Person", "name": "Jane A. Smith", "familyName": "Smith",
                                 "givenName": "Jane A."}
    assert work["author"][1] == {"@type": "Organization", "name": "World Health Organization"}
    assert work["isPartOf"] == {"@type": "Periodical", "name": "J Tests"}
    assert work["url"] == "https://doi.org/10.1/x"


def test_not_found_page_offers_search(site):
    html = site.html("404.html")
    assert "<h1>Page not found</h1>" in html
    form = re.search(r'<form class="not-found-search" role="search" action="([^"]+)" method="get">(.*?)</form>',
                     html, re.S)
    assert form and form.group(1) == "/ketamine-explained/"
    assert 'name="q"' in form.group(2)  # Material opens its search with ?q=
    for section in ("history/", "safety/", "routes/", "evidence/", "mechanism/"):
        assert f'href="/ketamine-explained/{section}"' in html
    assert "988" in html


def test_hard_names_in_json_ld(tiny):
    """Accents, Polish letters, von/van, Jr, initials without dots, PubMed-style names, First Last order,
    a corporate author in double braces and 'and others' (et al., not a person named "others")."""
    from conftest import GOOD_BIB, page

    bib = GOOD_BIB + (ROOT / "tests" / "corpus" / "hard-names.bib").read_text(encoding="utf-8")
    build = tiny({"index.md": page("A claim [@ledare2015ketamine].\n")}, bib=bib)
    assert build.ok, build.output
    work = _jsonld(build.html())["citation"][0]
    people = [(a["@type"], a.get("givenName"), a.get("familyName"), a["name"]) for a in work["author"]]
    assert people == [
        ("Person", "B.", "Le Daré", "B. Le Daré"),
        ("Person", "W. J.", "Cubała", "W. J. Cubała"),
        ("Person", "C. A.", "Zarate", "C. A. Zarate, Jr"),
        ("Person", "A.", "van der Berg", "A. van der Berg"),
        ("Person", "M. A.", "Reyna", "M. A. Reyna"),
        ("Person", "J. A.", "Smith", "J. A. Smith"),
        ("Person", "Carlos A.", "Zarate", "Carlos A. Zarate"),
        ("Organization", None, None, "World Health Organization"),
    ]
    assert work["author"][2]["honorificSuffix"] == "Jr"
    assert work["name"] == "Ketamine in Annales Pharmaceutiques Françaises: 50% of μg – a test"
    assert work["isPartOf"]["name"] == "Annales Pharmaceutiques Françaises"
    assert not re.search(r"[\\{}$]", " ".join(a["name"] for a in work["author"]) + work["name"])
    li = re.search(r'<li id="ref-ledare2015ketamine".*?</li>', build.html()).group()
    assert "Le Daré B, Cubała WJ, Zarate CA Jr, et al. Ketamine in Annales Pharmaceutiques Françaises: 50% of " in li


def test_jsonld_is_what_jinja_tojson_wrote_with_each_work_serialised_once():
    """Each cited work is serialised once per build and spliced into every page citing it; the script
    text must equal Jinja2's ``tojson`` of the whole page object (the template used before), including
    the escapes that keep ``</script>`` and quotes in a title from ending the script."""
    from jinja2.utils import htmlsafe_json_dumps

    hard = {"@type": "CreativeWork", "name": "</script><b>\"quoted\" & 'single' — ünïcode",
            "author": [{"@type": "Person", "name": "B. Le Daré"}]}
    works = [hard, metadata.scholarly_work(next(iter(BIB.values())))]
    meta = {"title": "A page", "description": 'Says "citation": [] in its text', "reviewed": dt.date(2026, 1, 2),
            "next_review": dt.date(2027, 1, 2)}
    got = metadata.page_metadata(meta, title="A page", url="https://example.org/a/", path="a/", site_name="Site",
                                 site_url="https://example.org/", site_description="",
                                 cited=[metadata.script_json(w) for w in works])["jsonld"]
    expected = metadata.medical_webpage(title="A page", description=meta["description"], reviewed=meta["reviewed"],
                                        next_review=meta["next_review"], url="https://example.org/a/",
                                        site_name="Site", site_url="https://example.org/", cited=works)
    assert str(got) == htmlsafe_json_dumps(expected, dumps=json.dumps, sort_keys=True)
    assert "</script>" not in got and json.loads(got)["citation"] == works
