"""Reader features in a real browser: Cite this page copies, pages print cleanly, the 404 page searches.

Uses the ``base_url`` and ``browser`` fixtures of tests/test_browser.py (the site is served
on 127.0.0.1 under its real path; nothing leaves the machine).
"""

from __future__ import annotations

import datetime as dt

import pytest

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
