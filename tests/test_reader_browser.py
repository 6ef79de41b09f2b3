"""Reader features in a real browser: Cite this page copies, pages print cleanly, the 404 page searches,
and what issue #14 asked for: citation previews and tap targets, the home page, heading hierarchy, glossary
underlines and A-Z, what changed (page foot, What's new, Atom feed), page history, e-mail problem reports,
the accessibility statement, no contributor notes for readers, and the offline edition in every footer.

Uses the ``base_url`` and ``browser`` fixtures of tests/test_browser.py (the site is served
on 127.0.0.1 under its real path; nothing leaves the machine).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit
from xml.etree import ElementTree

import pytest
import yaml

from conftest import ROOT
from test_browser import PHONE, serve, site_pages
from test_browser import base_url, browser  # noqa: F401  (fixtures: the local server and Debian's chromium)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def context(browser):  # noqa: F811
    ctx = browser.new_context()
    yield ctx
    ctx.close()


def test_cite_this_page_copies_with_one_click(context, base_url):
    origin = base_url.split("/ketamine-explained/")[0]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    page = context.new_page()
    page.goto(base_url + "routes/intranasal/")
    page.locator("details.cite-this-page > summary").click()
    page.get_by_role("button", name="Copy AMA citation").click()
    status = page.locator(".cite-this-page .cite-status")
    status.wait_for(state="visible")
    assert status.inner_text() == "Copied to the clipboard."
    copied = page.evaluate("navigator.clipboard.readText()")
    today = dt.date.today()
    assert copied.startswith("Ketamine Explained contributors. Nasal ketamine and the esketamine spray. Ketamine Explained.")
    assert f"Accessed {today.strftime('%B')} {today.day}, {today.year}." in copied
    assert copied.endswith("/ketamine-explained/routes/intranasal/")
    page.get_by_role("button", name="Copy BibTeX").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("@misc{ketamineexplained") and "url          = {" in copied
    page.close()


def test_a_page_prints_without_chrome_and_with_link_addresses(context, base_url):
    page = context.new_page()
    page.goto(base_url + "safety/")
    page.emulate_media(media="print")
    for chrome in (".md-header", ".md-sidebar--primary", ".md-footer", ".md-announce", ".cite-this-page"):
        assert not page.locator(chrome).first.is_visible(), f"{chrome} is printed"
    citation = page.locator("a.citation-ref").first
    assert citation.is_visible()
    assert citation.evaluate("a => getComputedStyle(a, '::after').content") in ("none", "normal")
    assert page.locator("ol.references li").first.is_visible()
    page.goto(base_url + "about/editorial-policy/")  # a page whose text links to other sites
    page.emulate_media(media="print")
    external = page.locator(".md-content a[data-external]").first
    assert external.get_attribute("href").startswith("https://")
    after = external.evaluate("a => getComputedStyle(a, '::after').content")
    assert external.get_attribute("href") in after
    internal = page.locator(".md-content p a:not([data-external]):not(.citation-ref)").first
    assert internal.get_attribute("href").startswith("http://127.0.0.1")  # made absolute by the theme's script
    assert internal.evaluate("a => getComputedStyle(a, '::after').content") in ("none", "normal")
    page.emulate_media(media="screen")
    assert page.locator(".md-header").first.is_visible()
    page.close()


def test_not_found_page_offers_search(context, base_url):
    page = context.new_page()
    response = page.goto(base_url + "no/such/page/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    page.get_by_label("Search the site").fill("esketamine")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/ketamine-explained/?q=esketamine*")
    results = page.locator(".md-search-result__item")
    results.first.wait_for(state="visible")  # Material opened its search with the query
    assert results.count() > 0
    page.close()


# ---------------------------------------------------------------------------
# Issue #14: what a reader sees first, on a phone, and around every page

CONFIG = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
SITE_URL = CONFIG["site_url"]


def front_matter(md: str) -> dict:
    text = (ROOT / "docs" / md).read_text(encoding="utf-8")
    return yaml.safe_load(text.split("\n---", 1)[0].removeprefix("---"))


@pytest.fixture
def phone_page(browser):  # noqa: F811
    ctx = browser.new_context(**PHONE)
    yield ctx.new_page()
    ctx.close()


@pytest.fixture
def desktop_page(browser):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    yield ctx.new_page()
    ctx.close()


def _text(locator) -> str:
    return " ".join(locator.inner_text().split())


# --- Citations ----------------------------------------------------------------------------------

def test_citation_preview_keeps_the_reference_and_its_links_apart(desktop_page, base_url):
    """The theme's preview copies a reference's parts without the spaces between them ("…pub3PubMed")."""
    page = desktop_page
    page.goto(base_url + "evidence/")
    link = page.locator("a.citation-ref[href$='#ref-dean2021ketamine']").first
    link.hover()
    tooltip = page.locator(".md-tooltip2--active")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert "CD011612.pub3" in text and "PubMed" in text
    assert re.search(r"CD011612\.pub3\s+PubMed", text), f"the DOI and the PubMed link run together: {text!r}"


# The 24 x 24 px square centred on each citation group, sampled at 9 points: each must land on the group.
_TARGETS = """() => {
  const bad = [], sizes = [];
  for (const sup of document.querySelectorAll('article sup.citation')) {
    sup.scrollIntoView({block: 'center'});
    const r = sup.getBoundingClientRect(), cx = r.left + r.width / 2, cy = r.top + r.height / 2;
    const half = Math.max(r.width, 24) / 2 - 0.5, halfy = 12 - 0.5;
    for (const dx of [-half, 0, half]) for (const dy of [-halfy, 0, halfy]) {
      const hit = document.elementFromPoint(cx + dx, cy + dy);
      if (!hit || !sup.contains(hit)) {
        bad.push(sup.textContent + ' at (' + dx.toFixed(1) + ',' + dy.toFixed(1) + '): '
                 + (hit ? hit.tagName + '.' + hit.className : 'nothing'));
        break;
      }
    }
    const link = sup.querySelector('a').getBoundingClientRect();
    sizes.push([link.width, link.height]);
  }
  return {count: document.querySelectorAll('article sup.citation').length, bad, sizes};
}"""


@pytest.mark.parametrize("path", ["what-is-ketamine/", "evidence/depression/"])
def test_citation_tap_targets_are_at_least_24px(phone_page, base_url, path):
    """WCAG 2.2 target size (2.5.8): a 24 x 24 px area around every citation takes the tap, while the numbers
    themselves keep their small size (the text looks as it did)."""
    page = phone_page
    page.goto(base_url + path)
    result = page.evaluate(_TARGETS)
    assert result["count"] > 10
    assert not result["bad"], f"{len(result['bad'])} citations with a target under 24 x 24 px: {result['bad'][:5]}"
    assert all(h < 20 for _, h in result["sizes"]), "the citation numbers themselves grew"


def test_a_tap_beside_a_citation_number_previews_it(phone_page, base_url):
    """Inside the 24 px area but off the digit: a single citation previews its reference; a group previews all."""
    page = phone_page
    page.goto(base_url + "evidence/depression/")
    single = page.locator("article sup.citation:not(:has(a + a))").nth(3)
    single.scroll_into_view_if_needed()
    box = single.bounding_box()
    key = single.locator("a").get_attribute("href").split("#ref-")[1]
    page.touchscreen.tap(box["x"] + box["width"] / 2 + 10, box["y"] + box["height"] / 2 + 10)
    panel = page.locator(".citation-panel")
    panel.wait_for(state="visible")
    assert _text(page.locator(f"#ref-{key} .reference-text"))[:50] in _text(panel)
    assert "#ref-" not in page.url
    page.keyboard.press("Escape")
    panel.wait_for(state="detached")
    group = page.locator("article sup.citation:has(a + a)").first
    group.scroll_into_view_if_needed()
    box = group.bounding_box()
    keys = [a.get_attribute("href").split("#ref-")[1] for a in group.locator("a").all()]
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + 10)
    panel.wait_for(state="visible")
    for key in keys:
        assert _text(page.locator(f"#ref-{key} .reference-text"))[:50] in _text(panel), key
    assert panel.locator("a.citation-panel__go").count() == len(keys)


# --- Cite this page -----------------------------------------------------------------------------

def _today() -> str:
    today = dt.date.today()
    return f"{today.strftime('%B')} {today.day}, {today.year}"


def test_cite_this_page_shows_todays_date_and_no_double_full_stop(context, base_url):
    page = context.new_page()
    page.goto(base_url + "what-is-ketamine/")
    page.locator("details.cite-this-page > summary").click()
    shown = _text(page.locator("#cite-ama"))
    assert "What is ketamine? Ketamine Explained." in shown and "?." not in shown
    assert f"Accessed {_today()}." in shown and "[date accessed]" not in shown
    page.close()


def test_cite_this_page_copies_the_date_without_the_clipboard_api(browser, base_url):  # noqa: F811
    """The fallback copy (no asynchronous clipboard: older browsers, some embedded views) copies the date too."""
    ctx = browser.new_context()
    ctx.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined});"
                        "document.addEventListener('copy', e => { window.__copied = e.target.value; }, true);")
    page = ctx.new_page()
    page.goto(base_url + "what-is-ketamine/")
    page.locator("details.cite-this-page > summary").click()
    page.get_by_role("button", name="Copy AMA citation").click()
    page.wait_for_function("window.__copied !== undefined")
    copied = page.evaluate("window.__copied")
    assert f"Accessed {_today()}." in copied and "[date accessed]" not in copied
    assert "What is ketamine? Ketamine Explained." in copied
    ctx.close()


# --- Home page ----------------------------------------------------------------------------------

SECTIONS = ["history/", "mechanism/", "safety/", "routes/", "evidence/"]


def test_home_page_title_heading_and_first_screen(desktop_page, base_url):
    page = desktop_page
    page.goto(base_url)
    assert page.title() == CONFIG["site_name"], "the home page's title names the site once"
    assert _text(page.locator("article h1")) == CONFIG["site_name"]
    assert page.locator("article a.md-content__button").count() == 0, "no edit or history buttons on the home page"
    promise = page.locator("article .home-promise")
    assert promise.is_visible() and front_matter("index.md")["promise"] == _text(promise)
    urgent = page.locator("article .home-urgent")
    assert "Need help now?" in _text(urgent) and urgent.bounding_box()["y"] < 800, "urgent help on the first screen"
    assert urgent.get_by_role("link", name="Crisis lines in other countries").get_attribute("href").endswith(
        "safety/urgent-help/")
    assert page.locator(".md-banner").count() == 0, "the same notice is not shown twice"
    cards = page.locator("article .grid.cards").first.locator("li")
    assert cards.count() == 5
    links = [card.locator("a").first.get_attribute("href") for card in cards.all()]
    assert [h.split("/ketamine-explained/", 1)[-1] if "//" in h else h for h in links] == SECTIONS
    different = page.locator("article h2:has-text('What makes this site different') + .grid.cards")
    text = _text(different)
    for claim in ("Every number is cited", "Evidence is graded", "Claims are checked"):
        assert claim in text
    hrefs = " ".join(a.get_attribute("href") for a in different.locator("a").all())
    assert "evidence/grades/" in hrefs and "evidence/claims/" in hrefs and "editorial-policy/" in hrefs


def test_home_page_first_screen_on_a_phone(phone_page, base_url):
    page = phone_page
    page.goto(base_url)
    assert _text(page.locator("article h1")) == CONFIG["site_name"]
    assert page.locator("article .home-urgent").bounding_box()["y"] < 812


# --- Hierarchy ----------------------------------------------------------------------------------

_STYLE = """el => { const s = getComputedStyle(el);
  return {size: parseFloat(s.fontSize), weight: parseInt(s.fontWeight), color: s.color,
          background: s.backgroundColor, border: parseFloat(s.borderLeftWidth)}; }"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_title_is_the_strongest_heading_and_key_points_are_body_size(browser, base_url, scheme):  # noqa: F811
    ctx = browser.new_context(color_scheme=scheme)
    page = ctx.new_page()
    page.goto(base_url + "safety/acute-effects/")
    h1 = page.locator("article h1").evaluate(_STYLE)
    h2 = page.locator("article h2").first.evaluate(_STYLE)
    body = page.locator("article > p").first.evaluate(_STYLE)
    assert h1["size"] > h2["size"] and h1["weight"] >= 700 and h1["weight"] >= h2["weight"], (h1, h2)
    assert h1["color"] == body["color"], "the title is drawn in the text colour, not a lighter grey"
    box = page.locator("article .admonition.key-points")
    assert box.count() == 1
    point = box.locator("li").first.evaluate(_STYLE)
    assert point["size"] >= body["size"], (point, body)
    style = box.evaluate(_STYLE)
    page_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert style["border"] >= 4 or style["background"] not in (page_background, "rgba(0, 0, 0, 0)"), style
    ctx.close()


def test_glossary_terms_are_underlined_on_first_use_per_section_only(desktop_page, base_url):
    page = desktop_page
    page.goto(base_url + "mechanism/")
    sections = page.evaluate("""() => {
      const out = []; let seen = new Set(), section = 'top';
      const nodes = document.querySelectorAll('article h2, article h3, article h4, article abbr');
      for (const el of nodes) {
        if (/^H[2-4]$/.test(el.tagName)) { seen = new Set(); section = el.textContent; continue; }
        if (el.closest('h1, h2, h3, h4, h5, h6')) {
          out.push(['heading', el.textContent, getComputedStyle(el).borderBottomStyle]); continue; }
        const key = el.title.toLowerCase(), first = !seen.has(key); seen.add(key);
        out.push([first ? 'first' : 'repeat', el.textContent, getComputedStyle(el).borderBottomStyle, el.title]);
      }
      return out; }""")
    firsts = [s for s in sections if s[0] == "first"]
    repeats = [s for s in sections if s[0] == "repeat"]
    assert firsts and repeats
    assert all(s[2] == "dotted" for s in firsts), [s for s in firsts if s[2] != "dotted"][:3]
    assert all(s[2] == "none" and s[3] for s in repeats), [s for s in repeats if s[2] != "none"][:3]
    assert all(s[2] == "none" for s in sections if s[0] == "heading")


# --- Glossary -----------------------------------------------------------------------------------

PLURALS = {"bile duct": "bile ducts", "cytokine": "cytokines", "enzyme inducer": "enzyme inducers", "HNK": "HNKs",
           "lozenge": "lozenges", "MAOI": "MAOIs", "metabolite": "metabolites",
           "pharmacokinetic": "pharmacokinetics", "RCT": "RCTs"}


def test_glossary_has_one_entry_per_term_and_an_a_to_z(desktop_page, base_url):
    page = desktop_page
    page.goto(base_url + "glossary/")
    terms = [_text(dt) for dt in page.locator("dl.glossary > dt").all()]
    shown = {t.split(" (also:")[0].lower() for t in terms}
    for singular, plural in PLURALS.items():
        assert singular.lower() in shown, singular
        assert plural.lower() not in shown, f"{plural} has an entry of its own beside {singular}"
        entry = next(t for t in terms if t.split(" (also:")[0].lower() == singular.lower())
        assert f"(also: {plural})" in entry, entry
    az = page.get_by_role("navigation", name="Glossary, A to Z")
    assert [_text(x) for x in az.locator("li").all()] == [chr(c) for c in range(65, 91)]
    az.get_by_role("link", name="M", exact=True).click()
    page.wait_for_url("**#glossary-m")
    heading = page.locator("#glossary-m")
    assert heading.evaluate("h => h.getBoundingClientRect().top") < 200  # scrolled to the letter
    first = _text(page.locator("#glossary-m + dl.glossary > dt").first)
    assert first[0].upper() == "M"


def test_singular_and_plural_terms_share_one_tooltip(desktop_page, base_url):
    page = desktop_page
    page.goto(base_url + "mechanism/")
    singular = page.locator("article abbr", has_text=re.compile(r"^metabolite$")).first
    plural = page.locator("article abbr", has_text=re.compile(r"^metabolites$")).first
    assert singular.get_attribute("title") and singular.get_attribute("title") == plural.get_attribute("title")


# --- What changed, history, feedback --------------------------------------------------------------

def test_page_foot_shows_the_latest_change_beside_last_reviewed(desktop_page, base_url):
    page = desktop_page
    page.goto(base_url + "history/story/")
    dates = page.locator(".medical-notice .page-dates")
    assert dates.locator(".review-dates").count() == 1
    latest = front_matter("history/story.md")["changes"][0]
    change = dates.locator(".latest-change")
    assert change.locator("time").get_attribute("datetime") == latest["date"].isoformat()
    assert latest["summary"] in _text(change)
    change.get_by_role("link", name="What's new on the site").click()
    page.wait_for_url("**/about/whats-new/")
    assert latest["summary"] in _text(page.locator("article"))


def test_whats_new_lists_every_change_and_the_feed_is_linked_and_reproducible(desktop_page, base_url, site):
    page = desktop_page
    page.goto(base_url + "about/whats-new/")
    pages = sorted((ROOT / "docs").rglob("*.md"))
    changes = {p: front_matter(p.relative_to(ROOT / "docs").as_posix()).get("changes") for p in pages}
    assert all(changes.values()), [str(p) for p, c in changes.items() if not c]  # every page has an entry
    article = _text(page.locator("article"))
    newest = max(c["date"] for cs in changes.values() for c in cs)
    assert article.index(f"{newest.day} {newest.strftime('%B %Y')}") < article.index("21 November 2026")
    feed_link = page.locator("head link[rel='alternate'][type='application/atom+xml']")
    href = feed_link.get_attribute("href")
    response = page.request.get(urljoin(page.url, href))
    assert response.ok
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ElementTree.fromstring(response.body())
    entries = feed.findall("a:entry", ns)
    assert len(entries) == sum(len(cs) for cs in changes.values())
    assert feed.find("a:updated", ns).text == f"{newest.isoformat()}T00:00:00Z"  # from front matter, not the clock
    assert len({e.find("a:id", ns).text for e in entries}) == len(entries)
    assert (site.site / "feed.xml").read_bytes() == response.body()


def test_page_history_sits_beside_edit(desktop_page, base_url):
    page = desktop_page
    page.goto(base_url + "routes/intranasal/")
    edit = page.locator("article a.md-content__button[rel='edit']")
    history = page.locator("article a.md-content__button.page-history")
    assert history.get_attribute("href") == f"{CONFIG['repo_url']}/commits/main/docs/routes/intranasal.md"
    e, h = edit.bounding_box(), history.bounding_box()
    assert abs(e["y"] - h["y"]) < 2 and 0 <= h["x"] - (e["x"] + e["width"]) < 16, (e, h)
    foot = page.locator(".medical-notice .page-actions")
    assert foot.get_by_role("link", name="Page history").get_attribute("href") == history.get_attribute("href")


def test_report_a_problem_by_email_needs_no_account(desktop_page, base_url):
    page = desktop_page
    page.goto(base_url + "what-is-ketamine/")
    report = page.locator(".medical-notice .report-error")
    assert "Report a problem with this page" in _text(report)
    mail = urlsplit(report.get_by_role("link", name="by e-mail").get_attribute("href"))
    assert mail.scheme == "mailto" and mail.path == CONFIG["extra"]["feedback_email"]
    query = parse_qs(mail.query)
    assert "What is ketamine?" in query["subject"][0] and SITE_URL + "what-is-ketamine/" in query["subject"][0]
    assert SITE_URL + "what-is-ketamine/" in query["body"][0]
    issue = urlsplit(report.get_by_role("link", name="on GitHub").get_attribute("href"))
    assert f"{issue.scheme}://{issue.netloc}{issue.path}" == CONFIG["repo_url"] + "/issues/new"
    assert "What is ketamine?" in parse_qs(issue.query)["title"][0]


def test_accessibility_statement(desktop_page, base_url):
    page = desktop_page
    page.goto(base_url)
    page.locator(".md-footer").get_by_role("link", name="Accessibility").click()
    page.wait_for_url("**/about/accessibility/")
    headings = [_text(h).rstrip("¶") for h in page.locator("article h2").all()]
    for heading in ("Our standard", "How we test", "Known limits", "Report a barrier"):
        assert heading in headings
    text = _text(page.locator("article"))
    for word in ("WCAG 2.2", "level AA", "axe-core", "Nu HTML Checker", "Lighthouse", "keyboard", "400%"):
        assert word in text, word


# --- Contributor noise --------------------------------------------------------------------------

def test_reader_pages_show_no_contributor_notes(desktop_page, base_url):
    page = desktop_page
    page.goto(base_url + "references/")
    keys = page.locator("ul.bibliography code.bib-key")
    assert keys.count() > 100 and not keys.first.is_visible(), "citation keys are for contributors"
    assert "[@" not in page.locator("article").inner_text()
    page.goto(base_url + "history/story/")
    assert "this site started from" not in page.locator("article").inner_text()


# --- Print and offline --------------------------------------------------------------------------

def test_every_page_offers_the_offline_edition(site, base_url, desktop_page):
    """Each built page's footer has "Print / Download PDF"; without a PDF it opens the printable edition,
    dated by the latest change, which leaves out the contributor guide."""
    missing = [p for p in site_pages(site.site) if p != "print/" and "Print / Download PDF" not in
               (site.site / (p if p.endswith(".html") else p + "index.html")).read_text(encoding="utf-8")]
    assert not missing, missing
    page = desktop_page
    page.goto(base_url + "safety/")
    link = page.locator(".md-footer").get_by_role("link", name="Print / Download PDF")
    about = _text(page.locator(".md-footer .offline-edition"))
    newest = max(c["date"] for p in (ROOT / "docs").rglob("*.md")
                 for c in front_matter(p.relative_to(ROOT / "docs").as_posix())["changes"])
    assert "Offline edition" in about and f"updated {newest.day} {newest.strftime('%B %Y')}" in about
    link.click()
    page.wait_for_url("**/print/")
    chapters = page.locator("article.chapter > h1")
    titles = [_text(h) for h in chapters.all()]
    assert "What is ketamine?" in titles and "Contributing" not in titles
    assert "BibTeX" not in _text(page.locator("main"))


def test_the_pdf_link_shows_the_pdfs_measured_size(browser, site, tmp_path):  # noqa: F811
    """After `make pdf` (scripts/build_pdf.py) every footer links the PDF and shows its size, measured from the
    file. A stand-in PDF of a known size keeps this test fast; tests/test_print_edition.py renders the real one."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_pdf

    copy = tmp_path / "site"
    shutil.copytree(site.site, copy)

    def fake_render(site_dir, output=None):
        output = output or Path(site_dir) / build_pdf.PDF_NAME
        output.write_bytes(b"%PDF-1.7\n" + b"0" * 2_345_678 + b"\n%%EOF\n")
        return output

    original = build_pdf.build_pdf
    build_pdf.build_pdf = fake_render
    try:
        assert build_pdf.main(["--site-dir", str(copy)]) == 0
    finally:
        build_pdf.build_pdf = original
    size = (copy / build_pdf.PDF_NAME).stat().st_size
    ctx = browser.new_context()
    page = ctx.new_page()
    with serve(copy) as base:
        page.goto(base + "routes/")
        link = page.locator(".md-footer").get_by_role("link", name="Print / Download PDF")
        assert urljoin(page.url, link.get_attribute("href")) == base + "ketamine-explained.pdf"
        assert f"PDF, {size / 1_000_000:.1f} MB" in _text(page.locator(".md-footer .offline-edition"))
        response = page.request.get(base + "ketamine-explained.pdf")
        assert response.ok and len(response.body()) == size
    ctx.close()
