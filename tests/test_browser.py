"""The built site in a real browser: Debian's chromium driven by Playwright.

Covers what HTML assertions cannot: citation previews on hover, keyboard focus
and touch; no request ever leaves the site's origin; pages fit a phone screen;
dark mode; and an axe-core accessibility scan. The site is served on 127.0.0.1
by a server started inside the test session (no network).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socketserver
import threading

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PAGES = ["", "what-is-ketamine/", "history/", "mechanism/", "routes/", "safety/", "evidence/", "evidence/faq/",
         "references/", "glossary/"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url(site):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site.site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} not found: `make test` installs Debian's chromium (scripts/system-deps.sh)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_hover_shows_the_formatted_reference(page, base_url):
    page.goto(base_url + "what-is-ketamine/")
    link = page.locator("a.citation-ref").first
    key = link.get_attribute("href").split("#ref-")[1]
    expected = page.locator(f"#ref-{key} .reference-text").inner_text()
    link.hover()
    tooltip = page.locator(".md-tooltip2--active")
    tooltip.wait_for(state="visible")
    assert expected[:60] in tooltip.inner_text()
    page.mouse.move(0, 0)
    tooltip.wait_for(state="detached")


def test_keyboard_focus_shows_the_formatted_reference(page, base_url):
    page.goto(base_url + "what-is-ketamine/")
    first = page.locator("a.citation-ref").first
    first.focus()
    page.keyboard.press("Tab")  # the next citation, reached by keyboard alone
    active = page.evaluate("document.activeElement.classList.contains('citation-ref')")
    assert active
    key = page.evaluate("document.activeElement.hash.split('#ref-')[1]")
    tooltip = page.locator(".md-tooltip2--active")
    tooltip.wait_for(state="visible")
    assert page.locator(f"#ref-{key} .reference-text").inner_text()[:60] in tooltip.inner_text()


def test_touch_tap_previews_then_follows(browser, base_url):
    context = browser.new_context(has_touch=True, is_mobile=True, viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto(base_url + "what-is-ketamine/")
    link = page.locator("a.citation-ref").nth(2)
    key = link.get_attribute("href").split("#ref-")[1]
    link.tap()
    panel = page.locator(".citation-panel")
    panel.wait_for(state="visible")
    assert page.locator(f"#ref-{key} .reference-text").inner_text()[:60] in panel.inner_text()
    assert "#ref-" not in page.url  # the first tap previews, it does not jump
    page.keyboard.press("Escape")
    panel.wait_for(state="detached")
    link.tap()
    panel.wait_for(state="visible")
    link.tap()  # a second tap on the same number follows the link
    page.wait_for_url(f"**#ref-{key}")
    context.close()


def test_no_request_leaves_the_site(page, base_url):
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base_url) else None)
    for path in PAGES:
        page.goto(base_url + path, wait_until="networkidle")
        page.mouse.wheel(0, 4000)
    assert not outside, outside


@pytest.mark.parametrize("path", ["history/", "routes/", "safety/", "evidence/", "mechanism/"])
def test_pages_fit_a_phone_screen(browser, base_url, path):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(base_url + path)
    overflow = page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    context.close()


def test_dark_mode_toggle_and_figures(page, base_url):
    page.goto(base_url + "routes/")
    page.locator("label.md-header__button[for^='__palette']:visible").first.click()
    page.locator("label.md-header__button[for^='__palette']:visible").first.click()
    scheme = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
    assert scheme == "slate"
    curve = page.locator("svg.routes-figure path.curve").first
    stroke = curve.evaluate("e => getComputedStyle(e).stroke")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert stroke not in ("none", background)


@pytest.mark.parametrize("path", PAGES)
def test_accessibility_axe(page, base_url, path):
    page.goto(base_url + path)
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, "\n".join(f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes) e.g. {v['nodes'][0]['html'][:200]}"
                                  for v in serious)
