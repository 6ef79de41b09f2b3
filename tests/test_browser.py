"""The built site in a real browser: Debian's chromium driven by Playwright.

Covers what HTML assertions cannot. The site is served on 127.0.0.1 by a
server started inside the test session (no network), under the same path as
``site_url`` (as GitHub Pages serves it, so 404.html's absolute links work).

Gates:
  * every page, in one visit each (``visit``): no console error or uncaught
    exception, no request to any origin but the local server (every request of
    the browser context is recorded, workers included), no resource hint to
    another origin, and axe-core with the WCAG 2.1 A and AA rules finds nothing
    (any impact). A few pages, picked for the kinds of content they hold, are
    scanned again in dark mode;
  * search finds a page by a word from its body, typed key by key;
  * hovering or focusing a citation shows its reference (and a tap on touch);
  * the dark-mode toggle switches and persists across a reload;
  * at 375 px the navigation drawer opens and reaches a deep page.

Each gate is a function used both on the real site and on a copy of it with
one planted defect, which the gate must catch (the ``test_planted_*`` tests).

Run this file alone with ``.venv/bin/python -m pytest tests/test_browser.py`` (``-m browser`` also
runs the Lighthouse checks).
"""

from __future__ import annotations

import contextlib
import functools
import html
import http.server
import json
import os
import re
import shutil
import socketserver
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from axe_playwright_python.sync_playwright import Axe
from conftest import ROOT
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SITE_PATH = urlsplit(yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["site_url"]).path or "/"
AXE = Axe()
# WCAG 2.1 A and AA rules, plus aria-dialog-name (axe files it under best practice; Material's search dialog
# failed it, so the fix in overrides/main.html is kept by the gate).
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "rules": {"aria-dialog-name": {"enabled": True}},
               "resultTypes": ["violations"]}
SHARDS = 4  # the every-page gate is split so pytest-xdist can spread it over the cores
TIMEOUT = 15_000  # ms, for the real site
PLANTED_TIMEOUT = 3_000  # ms: a planted defect is expected to fail, so fail fast


# ---------------------------------------------------------------------------
# Local server


class _Site(http.server.SimpleHTTPRequestHandler):
    """Serves a built site under ``prefix``; like GitHub Pages, an unknown path gets 404.html with status 404."""

    prefix = "/"

    def log_message(self, *args):
        pass

    def translate_path(self, path):
        route = urlsplit(path).path
        if not route.startswith(self.prefix):
            return os.path.join(self.directory, "outside-the-site.does-not-exist")  # a 404
        return super().translate_path("/" + path[len(self.prefix):])

    def send_error(self, code, message=None, explain=None):
        not_found = Path(self.directory) / "404.html"
        if code != 404 or not not_found.is_file():
            return super().send_error(code, message, explain)
        body = not_found.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@contextlib.contextmanager
def serve(directory: Path, prefix: str = SITE_PATH):
    """Serve ``directory`` on 127.0.0.1 (a free port) under ``prefix``; yields the site's base URL."""
    handler = functools.partial(type("Handler", (_Site,), {"prefix": prefix}), directory=str(directory))
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------
# What a browser context does: every request, every console error


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Watch:
    """Records every request a browser context makes (pages, workers, service workers) and every console
    error or uncaught exception, each with the page it happened on."""

    origin: str
    requests: list[tuple[str, str]] = field(default_factory=list)  # (page, requested URL), in order
    errors: list[str] = field(default_factory=list)

    @classmethod
    def on(cls, context, base_url: str) -> Watch:
        watch = cls(_origin(base_url))
        context.on("request", watch._request)  # includes dedicated workers' requests (the search worker)
        context.on("page", watch._page)
        for page in context.pages:
            watch._page(page)
        return watch

    def _page(self, page):
        page.on("console", lambda msg: self.errors.append(f"{page.url}: console error: {msg.text} "
                                                          f"(at {msg.location.get('url') or '?'})")
                if msg.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(
            f"{page.url}: uncaught exception: {error.name}: {error.message}"))

    def _request(self, request):
        try:
            where = request.frame.url
        except Exception:  # a service worker's request has no frame
            where = "(service worker)"
        self.requests.append((where, request.url))

    def local(self, url: str) -> bool:
        return url.startswith(("data:", "blob:")) or _origin(url) == self.origin

    def outside(self, since: int = 0) -> list[tuple[str, str]]:
        return [(where, url) for where, url in self.requests[since:] if not self.local(url)]

    def problems(self, since_request: int = 0, since_error: int = 0) -> list[str]:
        left = [f"{where}: request left the local server: {url}" for where, url in self.outside(since_request)]
        if left:
            left[0] = "FIRST " + left[0]
        return left + self.errors[since_error:]


# ---------------------------------------------------------------------------
# The gates, shared by the real-site tests and the planted-defect tests


class Missing(AssertionError):
    """A gate waited for something that never happened."""


@contextlib.contextmanager
def expect(what: str):
    """Turn a Playwright timeout inside a gate into a failure that says what never happened."""
    try:
        yield
    except PlaywrightTimeout as error:
        raise Missing(f"{what}: {str(error).splitlines()[0]}") from None


# Settled = no finite animation or transition running for 10 frames in a row. Checking once is not
# enough: a scroll's handlers (Material fades the header's title on scroll) may start a transition a
# frame or two later, and axe then measures contrast mid-fade (seen on a loaded machine).
_SETTLED = """() => new Promise(resolve => {
  const busy = () => document.getAnimations().some(a => a.playState === "running" && a.effect
    && a.effect.getComputedTiming().endTime !== Infinity);
  let quiet = 0;
  const tick = () => { quiet = busy() ? 0 : quiet + 1; quiet >= 10 ? resolve(true) : requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})"""
_HINTS = """origin => [...document.querySelectorAll('link[rel][href]')]
  .filter(l => /(^|\\s)(preconnect|dns-prefetch|preload|prefetch|modulepreload|prerender)(\\s|$)/i.test(l.rel))
  .filter(l => !/^(data|blob):/.test(l.href) && new URL(l.href, location.href).origin !== origin)
  .map(l => l.outerHTML)"""


def axe_problems(page, where: str) -> list[str]:
    """Every node axe-core flags under the WCAG 2.1 A and AA rules, whatever its impact."""
    problems = []
    for rule in AXE.run(page, options=AXE_OPTIONS).response["violations"]:
        for node in rule["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            problems.append(f"{where}: axe {rule['id']} ({rule['impact']}): {rule['help']}\n"
                            f"      {node['html'][:240]}\n      {summary[:300]}")
    return problems


def visit(page, watch: Watch, url: str, *, axe: bool = True) -> list[str]:
    """One visit, every per-page gate: HTTP status, console errors, requests leaving the local server (the
    page is scrolled so lazy content loads; the search worker loads the index on every page), resource hints
    to other origins, and axe-core. Returns the problems, each naming the page."""
    since_request, since_error = len(watch.requests), len(watch.errors)
    response = page.goto(url)
    problems = [] if response and response.ok else [f"{url}: HTTP {response.status if response else 'no response'}"]
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function(_SETTLED)  # axe measures contrast as drawn: not mid-fade (the header's title fades)
    problems += [f"{url}: resource hint to another origin: {hint}" for hint in page.evaluate(_HINTS, watch.origin)]
    if axe:
        scheme = page.evaluate("document.body.dataset.mdColorScheme || 'default'")
        problems += axe_problems(page, f"{url} [{scheme}]")
    page.wait_for_load_state("networkidle")
    return watch.problems(since_request, since_error) + problems


def search_and_follow(page, base_url: str, word: str, expected: str) -> None:
    """Open search, type ``word`` key by key, find the link to page ``expected`` (a path under the site)
    among the results, follow it."""
    page.goto(base_url)
    page.keyboard.press("/")  # the theme's shortcut to open search, at any screen width
    with expect("the search box opening with the focus"):
        page.locator("input.md-search__input:focus").wait_for(state="visible")
    for key in word:
        page.keyboard.press(key)  # keydown, keypress, input, keyup: Material searches on keyup
    meta = page.locator(".md-search-result__meta")
    with expect(f"search results for {word!r}"):
        page.wait_for_function("el => /matching|no match/i.test(el.textContent)", arg=meta.element_handle())
    target = base_url + expected
    links = page.locator("a.md-search-result__link")
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    hits = [i for i, href in enumerate(hrefs) if href.split("?")[0].split("#")[0] == target]
    assert hits, f"searching {word!r}: no result links to {expected} ({meta.inner_text()!r}; results: {hrefs})"
    links.nth(hits[0]).click()
    with expect(f"following the result to {expected}"):
        page.wait_for_url(lambda url: url.split("?")[0].split("#")[0] == target)
    assert word.lower() in page.locator("article").inner_text().lower()


def citation_preview(page, url: str, how: str) -> None:
    """Hover (``how="hover"``) or keyboard-focus (``"focus"``) a citation: its formatted reference appears."""
    page.goto(url)
    first = page.locator("a.citation-ref").first
    if how == "hover":
        link = first
        link.hover()
    else:
        first.focus()
        page.keyboard.press("Tab")  # the next citation, reached by keyboard alone
        assert page.evaluate("document.activeElement.classList.contains('citation-ref')"), "Tab left the citations"
        link = page.locator("a.citation-ref:focus")
    key = link.get_attribute("href").split("#ref-")[1]
    expected = " ".join(page.locator(f"#ref-{key} .reference-text").inner_text().split())
    # Wait for the preview of *this* reference: after Tab, the previous citation's preview may still be
    # fading out (on a loaded machine, for a while), and it is also an active tooltip.
    shown = """text => [...document.querySelectorAll('.md-tooltip2--active')]
                  .some(t => t.innerText.split(/\\s+/).join(' ').includes(text))"""
    with expect(f"a preview of reference {key} on {how}"):
        page.wait_for_function(shown, arg=expected[:60])


def dark_mode_persists(page, url: str) -> None:
    """Click the palette toggle until the page is dark, reload: still dark (Material keeps the choice in
    localStorage under the site's scope)."""
    page.goto(url)
    scheme = "document.body.getAttribute('data-md-color-scheme')"
    for _ in range(3):  # auto -> light -> dark
        if page.evaluate(scheme) == "slate" and page.evaluate("__md_get('__palette')"):
            break
        with expect("a palette toggle in the header"):
            page.locator("label.md-header__button[for^='__palette']:visible").first.click()
    assert page.evaluate(scheme) == "slate", "the toggle never switched to dark mode"
    page.reload()
    assert page.evaluate(scheme) == "slate", "dark mode was lost on reload"
    assert page.evaluate("__md_get('__palette').color.scheme") == "slate"


PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}


def drawer_reaches(page, base_url: str, trail: list[str]) -> None:
    """At phone width, from the home page: open the navigation drawer, open the nested sections whose index
    pages are ``trail[:-1]`` (paths under the site, as the drawer links them), then tap the link to
    ``trail[-1]``; that page opens, its H1 the name the drawer gave it."""
    page.goto(base_url)
    with expect("the drawer button"):
        page.locator("label.md-header__button[for='__drawer']").tap()
    with expect("the drawer opening"):
        page.wait_for_function("() => document.getElementById('__drawer').checked")  # a function: CSP forbids eval
        page.locator("nav.md-nav--primary").wait_for(state="visible")
        # slid all the way in (a tap while it still moves can scroll the drawer sideways)
        page.wait_for_function("() => Math.abs(document.querySelector('.md-sidebar--primary')"
                               ".getBoundingClientRect().left) < 1")
    nav = page.locator("nav.md-nav--primary")

    def to(path):  # the link as built, or as the theme's instant navigation rewrites it (absolute)
        return f":is(a[href='{path}'], a[href='{base_url + path}'])"

    for section in trail[:-1]:
        toggle = nav.locator(f"li.md-nav__item--nested:has(> .md-nav__container > {to(section)}) "
                             "> input.md-nav__toggle").first
        with expect(f"the section {section} in the drawer"):
            toggle_id = toggle.get_attribute("id")
            page.locator(f"label.md-nav__link[for='{toggle_id}']").tap()  # the arrow beside the section
        nav = page.locator(f"nav[aria-labelledby='{toggle_id}_label']")
        with expect(f"the section {section} opening"):
            nav.wait_for(state="visible")
            page.wait_for_function("nav => Math.abs(nav.getBoundingClientRect().left) < 1",  # slid in
                                   arg=nav.element_handle())
    link = nav.locator(f"{to(trail[-1])}.md-nav__link").first
    with expect(f"the link to {trail[-1]} in the drawer"):
        link.wait_for(state="visible")
        name = " ".join(link.inner_text().split())
        link.tap()
        page.wait_for_url(base_url + trail[-1])
    heading = " ".join(page.locator("article h1").inner_text().split())
    assert heading == name, f"{page.url}: the H1 is {heading!r}, the drawer said {name!r}"


# ---------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def base_url(site):
    with serve(site.site) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    assert os.path.exists(CHROMIUM), (f"{CHROMIUM} not found: `make test` installs Debian's chromium "
                                      "(scripts/system-deps.sh)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@dataclass
class Tab:
    page: object
    watch: Watch

    def clean(self) -> None:
        problems = self.watch.problems()
        assert not problems, "\n".join(problems)


@pytest.fixture
def tab(browser, base_url):
    """A fresh context and page on the real site, watched: a test using it ends with ``tab.clean()``."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    watch = Watch.on(context, base_url)
    yield Tab(context.new_page(), watch)
    context.close()


@pytest.fixture
def phone(browser, base_url):
    context = browser.new_context(**PHONE)
    context.set_default_timeout(TIMEOUT)
    watch = Watch.on(context, base_url)
    yield Tab(context.new_page(), watch)
    context.close()


def site_pages(root: Path) -> list[str]:
    """Every built page, as a path under the site (``routes/`` for routes/index.html), 404.html included."""
    pages = []
    for path in sorted(root.rglob("*.html")):
        relative = path.relative_to(root).as_posix()
        pages.append(relative[: -len("index.html")] if relative.endswith("index.html") else relative)
    return pages


def _file(root: Path, page: str) -> Path:
    return root / (page if page.endswith(".html") else page + "index.html")


def shard(root: Path, number: int) -> list[str]:
    """Shard ``number`` of SHARDS: every page in exactly one shard, the shards about equally heavy (axe's
    time grows with the page; the printable edition alone is a quarter of the site)."""
    def size(page: str) -> int:
        return _file(root, page).stat().st_size

    shards: list[list[str]] = [[] for _ in range(SHARDS)]
    weights = [0] * SHARDS
    for page in sorted(site_pages(root), key=lambda p: (-size(p), p)):
        lightest = weights.index(min(weights))
        shards[lightest].append(page)
        weights[lightest] += size(page)
    return sorted(shards[number])


# ---------------------------------------------------------------------------
# Every page


@pytest.mark.parametrize("part", range(SHARDS), ids=lambda n: f"part {n + 1} of {SHARDS}")
def test_every_page_passes_the_gate(browser, site, base_url, part):
    pages = site_pages(site.site)
    assert len(pages) > 40 and "404.html" in pages and "" in pages
    assert sorted(p for n in range(SHARDS) for p in shard(site.site, n)) == sorted(pages)  # each page once
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    watch = Watch.on(context, base_url)
    page = context.new_page()  # one page for the whole shard: fast, and a leak between visits still shows
    problems = []
    for path in shard(site.site, part):
        problems += visit(page, watch, base_url + path)
    context.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


# Kinds of content whose colours or link styles differ; a page holding each is scanned in dark mode too.
KINDS = {
    "admonition": 'class="admonition', "table": "<table", "footnotes": 'class="footnote"',
    "page references": 'class="references"', "full bibliography": 'class="bibliography"',
    "highlighted code": 'class="highlight', "details": "<details", "timeline": 'class="timeline',
    "figure": "<figure", "glossary": 'class="glossary', "tabs": 'class="tabbed-set', "badge": "evidence-badge",
}


def test_dark_mode_pages_pass_axe(browser, site, base_url):
    sources = {path: _file(site.site, path).read_text(encoding="utf-8") for path in site_pages(site.site)}
    themed = [path for path, text in sources.items() if "data-md-color-scheme" in text]  # pages with the palette
    chosen = {"", "404.html"}
    for marker in KINDS.values():
        chosen.update([path for path in themed if marker in sources[path]][:1])
    context = browser.new_context(color_scheme="dark")  # the "automatic" palette follows the system: slate
    context.set_default_timeout(TIMEOUT)
    watch = Watch.on(context, base_url)
    page = context.new_page()
    problems = []
    for path in sorted(chosen):
        problems += visit(page, watch, base_url + path)
        assert page.evaluate("document.body.dataset.mdColorScheme") == "slate", path
    context.close()
    assert len(chosen) >= 8
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


# ---------------------------------------------------------------------------
# Interactions on the real site


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", html.unescape(re.sub(r"<[^>]+>", " ", text)).lower())


def distinctive_word(site_dir: Path) -> tuple[str, str]:
    """A word from the body of exactly one page (as the reader sees it, and as the search index has it),
    in no title, and no other page has a word starting like it: (word, page path)."""
    index = json.loads((site_dir / "search" / "search_index.json").read_text(encoding="utf-8"))
    bodies: dict[str, set[str]] = {}
    titles: set[str] = set()
    for doc in index["docs"]:
        bodies.setdefault(doc["location"].split("#")[0], set()).update(_words(doc["text"]))
        titles.update(_words(doc["title"]))
    candidates = sorted((word, path) for path, words in bodies.items() for word in words
                        if path and 8 <= len(word) <= 14 and word not in titles)
    for word, path in candidates:
        if any(w.startswith(word[:7]) for other, words in bodies.items() if other != path for w in words):
            continue
        article = (site_dir / path / "index.html").read_text(encoding="utf-8").split("<article", 1)[-1]
        if word in _words(article.split("</article>", 1)[0]):
            return word, path
    raise AssertionError("no distinctive word in the search index")


def test_search_finds_a_page_by_a_word_from_its_body(tab, site, base_url):
    word, path = distinctive_word(site.site)
    search_and_follow(tab.page, base_url, word, path)
    tab.clean()


@pytest.mark.parametrize("how", ["hover", "focus"])
def test_citation_shows_its_reference(tab, base_url, how):
    citation_preview(tab.page, base_url + "what-is-ketamine/", how)
    tab.clean()


def test_touch_tap_previews_then_follows(phone, base_url):
    page = phone.page
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
    phone.clean()


def test_dark_mode_toggle_persists_across_reload(tab, base_url):
    dark_mode_persists(tab.page, base_url + "routes/")
    page = tab.page
    curve = page.locator("svg.routes-figure path.curve").first  # figures are drawn in the dark palette too
    stroke = curve.evaluate("e => getComputedStyle(e).stroke")
    assert stroke not in ("none", page.evaluate("getComputedStyle(document.body).backgroundColor"))
    tab.clean()


@pytest.mark.parametrize("trail", [["routes/", "routes/intranasal/"], ["evidence/", "evidence/ptsd/"]],
                         ids=lambda t: " > ".join(t))
def test_phone_drawer_reaches_a_deep_page(phone, base_url, trail):
    drawer_reaches(phone.page, base_url, trail)
    phone.clean()


# What makes a page wider than the screen: the outermost elements that stick out, outside any box that scrolls.
_WIDE = """() => {
  const width = document.documentElement.clientWidth, found = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.getBoundingClientRect().right <= width + 1) continue;
    let box = el.parentElement, inside = false;
    for (; box && box !== document.body; box = box.parentElement) {
      if (/(auto|scroll|hidden|clip)/.test(getComputedStyle(box).overflowX)) { inside = true; break; }
    }
    if (!inside && !found.some(outer => outer.contains(el))) found.push(el);
  }
  return found.slice(0, 3).map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : '')
    + ' "' + (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60) + '"');
}"""


def sideways(page) -> int:
    """How far the page scrolls sideways, in CSS pixels (0: it fits)."""
    return page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")


def test_no_page_scrolls_sideways_on_a_phone(phone, site, base_url):
    """Every page, the printable edition and the 404 page included, at 375 px (a small phone) and at 320 px
    (WCAG 1.4.10 Reflow: a 1280 px screen zoomed to 400%): nothing widens the page; wide tables and code
    scroll inside the column."""
    page, problems = phone.page, []
    pages = site_pages(site.site)
    assert "print/" in pages and "404.html" in pages
    for path in pages:
        page.set_viewport_size({"width": 375, "height": 812})
        page.goto(base_url + path)
        for width in (375, 320):
            page.set_viewport_size({"width": width, "height": 812})
            overflow = sideways(page)
            if overflow > 0:
                problems.append(f"{path} at {width}px scrolls sideways by {overflow}px: {page.evaluate(_WIDE)}")
    assert not problems, "\n".join(problems)


def test_unknown_address_gets_the_404_page(tab, base_url):
    response = tab.page.goto(base_url + "no-such-page/")
    assert response.status == 404
    assert tab.page.locator("article h1").is_visible()
    assert tab.page.locator(".md-header").is_visible()  # the 404 page's styles and scripts load from any depth
    assert [url for _, url in tab.watch.requests if "assets/javascripts/bundle" in url]


# ---------------------------------------------------------------------------
# Planted defects: each gate must fail on a copy of the real site with one defect


@pytest.fixture
def planted(browser, site, tmp_path):
    """plant(edit) copies the real site, applies ``edit(root)`` and serves it; yields (base URL, page, Watch)."""
    stack = contextlib.ExitStack()

    def plant(edit, **context_options):
        root = tmp_path / "site"
        shutil.copytree(site.site, root)
        edit(root)
        base = stack.enter_context(serve(root))
        context = browser.new_context(**context_options)
        stack.callback(context.close)
        context.set_default_timeout(PLANTED_TIMEOUT)
        watch = Watch.on(context, base)
        return base, context.new_page(), watch

    with stack:
        yield plant


def _inject(root: Path, page: str, snippet: str, before: str = "</article>") -> None:
    """Plant ``snippet`` in a copy of a built page. The page's Content-Security-Policy is taken out, so a
    planted script runs and the gate itself must catch what it does (tests/test_csp.py proves the policy)."""
    path = root / page
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", path.read_text(encoding="utf-8"))
    assert before in text
    path.write_text(text.replace(before, snippet + before, 1), encoding="utf-8")


def test_planted_external_request_is_caught(planted):
    base, page, watch = planted(lambda root: _inject(root, "safety/index.html",
                                                      '<img src="https://example.org/x.png" alt="A planted image">'))
    problems = visit(page, watch, base + "safety/", axe=False)
    assert any("request left the local server: https://example.org/x.png" in p for p in problems), problems


def test_planted_request_from_a_worker_is_caught(planted):
    worker = ("<script>new Worker(URL.createObjectURL(new Blob([\"fetch('https://example.org/from-worker')"
              ".catch(function () {})\"], {type: 'text/javascript'})));</script>")
    base, page, watch = planted(lambda root: _inject(root, "history/index.html", worker))
    problems = visit(page, watch, base + "history/", axe=False)
    assert any("request left the local server: https://example.org/from-worker" in p for p in problems), problems


def test_planted_request_from_a_service_worker_is_caught(planted):
    def plant(root):
        (root / "sw.js").write_text("self.addEventListener('install', function (event) {\n"
                                    "  event.waitUntil(fetch('https://example.org/from-service-worker')"
                                    ".catch(function () {}));\n});\n", encoding="utf-8")
        _inject(root, "history/index.html", "<script>navigator.serviceWorker.register('../sw.js')</script>")

    base, page, watch = planted(plant)
    visit(page, watch, base + "history/", axe=False)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")  # installed: its request has been made
    for _ in range(20):  # the request's event reaches Python a moment later
        if watch.outside():
            break
        page.wait_for_timeout(100)
    problems = watch.problems()
    assert any("request left the local server: https://example.org/from-service-worker" in p
               for p in problems), problems


def test_planted_resource_hint_is_caught(planted):
    base, page, watch = planted(lambda root: _inject(root, "index.html",
                                                      '<link rel="preconnect" href="https://fonts.gstatic.com">',
                                                      before="</head>"))
    problems = visit(page, watch, base, axe=False)
    assert any("resource hint to another origin" in p and "fonts.gstatic.com" in p for p in problems), problems


@pytest.mark.parametrize("defect, expected", [
    ('<script>console.error("planted")</script>', "console error: planted"),
    ('<script>throw new Error("planted")</script>', "uncaught exception: Error: planted"),
    ('<img src="missing-planted.png" alt="A planted image">', "status of 404"),
], ids=["console.error", "exception", "missing file"])
def test_planted_console_error_is_caught(planted, defect, expected):
    base, page, watch = planted(lambda root: _inject(root, "mechanism/index.html", defect))
    problems = visit(page, watch, base + "mechanism/", axe=False)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("defect, rule", [
    ('<img src="../assets/images/favicon.png">', "image-alt"),
    ('<p style="color: #999; background: #fff">Planted pale text</p>', "color-contrast"),
    ('<p>Text with a <a href="#" style="text-decoration: none; color: #1a1a1a">planted link</a> that '
     'only its colour would set apart, in a paragraph long enough.</p>', "link-in-text-block"),
], ids=["image-alt", "color-contrast", "link-in-text-block"])
def test_planted_accessibility_violation_is_caught(planted, defect, rule):
    base, page, watch = planted(lambda root: _inject(root, "about/index.html", defect))
    problems = visit(page, watch, base + "about/")
    assert any(f"axe {rule} " in p for p in problems), problems


# Each fix this site makes to the theme's accessibility, undone on a copy: the gate must notice. CSS fixes
# are undone by appending the theme's own value, so the test does not depend on how site.css words them.
THEME_FIXES = {
    "search dialog name": ("aria-dialog-name", None),
    "progress bar name": ("aria-progressbar-name", None),
    "footer contrast": ("color-contrast", ".md-copyright { color: var(--md-footer-fg-color--lighter) !important }"),
    "code contrast": ("color-contrast", '[data-md-color-scheme="default"] '
                                         "{ --md-code-hl-generic-color: var(--md-default-fg-color--light) }"),
    "underlined links": ("link-in-text-block", ".md-typeset a { text-decoration: none !important }"),
}


@pytest.mark.parametrize("fix", THEME_FIXES)
def test_planted_loss_of_a_theme_fix_is_caught(planted, fix):
    rule, css = THEME_FIXES[fix]

    def undo(root):
        if css:
            with (root / "stylesheets" / "site.css").open("a", encoding="utf-8") as sheet:
                sheet.write("\n" + css + "\n")
        elif fix == "progress bar name":
            (root / "javascripts" / "a11y.js").write_text("", encoding="utf-8")
        else:
            path = root / "about" / "contributing" / "index.html"
            text = path.read_text(encoding="utf-8")
            assert ' role="dialog" aria-label=' in text
            path.write_text(re.sub(r' role="dialog" aria-label="[^"]*"', ' role="dialog"', text), encoding="utf-8")

    base, page, watch = planted(undo)
    problems = visit(page, watch, base + "about/contributing/")
    assert any(f"axe {rule} " in p for p in problems), problems


def test_planted_accessibility_violation_in_dark_mode_is_caught(planted):
    dark_only = "<style>[data-md-color-scheme=slate] .planted { color: #444 }</style><p class='planted'>Planted</p>"
    base, page, watch = planted(lambda root: _inject(root, "about/index.html", dark_only), color_scheme="dark")
    problems = visit(page, watch, base + "about/")
    assert any("axe color-contrast " in p and "[slate]" in p and "Planted" in p for p in problems), problems


def test_planted_unsearchable_page_is_caught(planted, site):
    word, path = distinctive_word(site.site)

    def unindex(root):  # the page's body is missing from the search index
        index_file = root / "search" / "search_index.json"
        index = json.loads(index_file.read_text(encoding="utf-8"))
        index["docs"] = [doc for doc in index["docs"] if doc["location"].split("#")[0] != path]
        index_file.write_text(json.dumps(index), encoding="utf-8")

    base, page, _ = planted(unindex)
    with pytest.raises(AssertionError, match=f"no result links to {re.escape(path)}"):
        search_and_follow(page, base, word, path)


def test_planted_missing_citation_preview_is_caught(planted):
    def no_tooltips(root):  # the theme feature behind the previews is switched off on the page
        path = root / "what-is-ketamine" / "index.html"
        text = path.read_text(encoding="utf-8")
        assert '"content.footnote.tooltips"' in text
        path.write_text(text.replace('"content.footnote.tooltips"', '"planted.nothing"'), encoding="utf-8")

    base, page, _ = planted(no_tooltips)
    for how in ("hover", "focus"):
        with pytest.raises(Missing, match="a preview of reference"):
            citation_preview(page, base + "what-is-ketamine/", how)


def test_planted_forgotten_dark_mode_is_caught(planted):
    forget = "<script>addEventListener('pagehide', function () { localStorage.clear(); });</script>"
    base, page, _ = planted(lambda root: _inject(root, "routes/index.html", forget))
    with pytest.raises(AssertionError, match="dark mode was lost on reload"):
        dark_mode_persists(page, base + "routes/")


def test_planted_unreachable_deep_page_is_caught(planted):
    hide = "<style>.md-nav--primary .md-nav[data-md-level='1'] { display: none !important }</style>"
    base, page, _ = planted(lambda root: _inject(root, "index.html", hide, before="</head>"), **PHONE)
    with pytest.raises(Missing, match="the section routes/ opening"):
        drawer_reaches(page, base, ["routes/", "routes/intranasal/"])
