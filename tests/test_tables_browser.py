"""Generated tables look like tables and work on a phone (issue #14: "Generated tables have no styling").

Material styles only ``table:not([class])``; the generated tables carry a class, so
docs/stylesheets/tables.css styles them. In a real browser (Debian's chromium, the site served on
127.0.0.1), in light and dark schemes:

* each generated table has a visible border and a shaded header row;
* at 375 px no generated table hides content: each row stacks into a card inside the screen, its caption
  wraps, and the page does not scroll sideways; axe-core finds nothing in the stacked layout;
* where a table is wider than its column (the seven-column routes table on a desktop), the scrolling box
  shows a shadow on the side with more to see and can be scrolled from the keyboard.

A planted copy of the site without tables.css proves the checks catch the unstyled tables.
"""

from __future__ import annotations

import pytest

from test_browser import (_SETTLED, PHONE, TIMEOUT, axe_problems, base_url, browser, planted,  # noqa: F401
                          site_pages)

pytestmark = pytest.mark.browser

# page -> class of the generated table on it
TABLES = {"routes/": "routes-table", "safety/": "effects-table", "evidence/": "grades-table"}

_STYLE = """cls => {
  const table = document.querySelector('table.' + cls);
  const stacked = getComputedStyle(table).display === 'block';  // phones: each row is a card
  const th = table.querySelector('thead th'), td = table.querySelector('tbody tr:nth-child(2) td');
  const framed = stacked ? table.querySelector('tbody tr') : table;
  const opaque = c => { const m = c.match(/[\\d.]+/g) || []; return m.length >= 3 && (m.length < 4 || +m[3] > 0); };
  const f = getComputedStyle(framed), d = getComputedStyle(td);
  const border = ['Top', 'Right', 'Bottom', 'Left'].every(s => parseFloat(f['border' + s + 'Width']) > 0
                                                           && opaque(f['border' + s + 'Color']));
  const header = stacked ? table.querySelector('tbody th') : th;  // the shaded heading of a card
  return {border, shaded: opaque(getComputedStyle(header).backgroundColor),
          rule: parseFloat(d.borderTopWidth) > 0 && opaque(d.borderTopColor),
          thAlign: getComputedStyle(th).textAlign, padding: parseFloat(d.paddingLeft)};
}"""


def context_for(browser, scheme: str, **options):  # noqa: F811
    ctx = browser.new_context(color_scheme=scheme, **options)  # the "automatic" palette follows the system
    ctx.set_default_timeout(TIMEOUT)
    return ctx


def styled(page, cls: str) -> list[str]:
    s = page.evaluate(_STYLE, cls)
    problems = []
    if not s["border"]:
        problems.append(f"{cls}: no visible border around the table")
    if not s["shaded"]:
        problems.append(f"{cls}: the header row is not shaded")
    if not s["rule"]:
        problems.append(f"{cls}: no line between rows")
    if s["thAlign"] not in ("left", "start"):
        problems.append(f"{cls}: headers are aligned {s['thAlign']}, not left")
    if s["padding"] < 4:
        problems.append(f"{cls}: cells have no padding")
    return problems


_FIT = """() => {
  const SELECTOR = 'table.routes-table, table.effects-table, table.grades-table';
  const vw = document.documentElement.clientWidth, problems = [];
  for (const table of document.querySelectorAll(SELECTOR)) {
    const box = table.parentElement, cls = table.className;  // the box that scrolls, if anything does
    const scrolls = box.scrollWidth > box.clientWidth + 1;
    const cue = getComputedStyle(box).backgroundImage.includes('gradient') && box.tabIndex === 0;
    if (scrolls && !cue) problems.push(cls + ': content hidden to the side with no sign that it scrolls');
    const caption = table.closest('figure')?.querySelector('figcaption') || table.querySelector('caption');
    const cap = caption.getBoundingClientRect();
    if (cap.right > vw + 1 || cap.left < -1) problems.push(cls + ': caption is cut off');
    for (const cell of table.querySelectorAll('tbody th, tbody td')) {
      const r = cell.getBoundingClientRect();
      if (!scrolls && (r.right > vw + 1 || r.left < -1)) {
        problems.push(cls + ': a cell is cut off: ' + cell.textContent.trim().slice(0, 40)); break;
      }
    }
  }
  const page = document.scrollingElement;
  if (page.scrollWidth > page.clientWidth) problems.push('the page scrolls sideways by ' + (page.scrollWidth - page.clientWidth) + 'px');
  return problems;
}"""


def fits(page) -> list[str]:
    return page.evaluate(_FIT)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_generated_tables_have_borders_and_a_shaded_header(browser, base_url, scheme):  # noqa: F811
    ctx = context_for(browser, scheme, viewport={"width": 1280, "height": 900})
    page, problems = ctx.new_page(), []
    for path, cls in TABLES.items():
        page.goto(base_url + path)
        assert page.evaluate("document.body.dataset.mdColorScheme") == ("slate" if scheme == "dark" else "default")
        problems += [f"{path} [{scheme}] {p}" for p in styled(page, cls)]
    ctx.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_generated_tables_fit_a_phone_and_pass_axe(browser, base_url, scheme):  # noqa: F811
    ctx = context_for(browser, scheme, **PHONE)
    page, problems = ctx.new_page(), []
    for path, cls in TABLES.items():
        page.goto(base_url + path)
        problems += [f"{path} [{scheme}, 375 px] {p}" for p in fits(page) + styled(page, cls)]
        page.locator("table." + cls).scroll_into_view_if_needed()
        page.wait_for_timeout(400)  # the header title starts fading a moment after a scroll:
        page.wait_for_function(_SETTLED)  # measure contrast as drawn, not mid-fade
        problems += axe_problems(page, f"{path} [{scheme}, 375 px]")
    ctx.close()
    assert not problems, "\n".join(problems)


def test_every_page_with_a_generated_table_fits_a_phone(browser, site, base_url):  # noqa: F811
    """Not only the three known pages: any page that shows a generated table.

    The printable edition (print/) is left out: it is laid out for paper by its own stylesheets
    (docs/stylesheets/print-edition.css, listed in sitekit/mkedition.py), not by tables.css.
    """
    pages = [p for p in site_pages(site.site) if p != "print/"
             and 'class="data-table"' in (site.site / (p if p.endswith(".html") else p + "index.html")).read_text("utf-8")]
    assert set(TABLES) <= set(pages)
    ctx = context_for(browser, "light", **PHONE)
    page, problems = ctx.new_page(), []
    for path in pages:
        page.goto(base_url + path)
        problems += [f"{path} {p}" for p in fits(page)]
    ctx.close()
    assert not problems, "\n".join(problems)


def test_a_wide_table_shows_it_scrolls_and_scrolls_from_the_keyboard(browser, base_url):  # noqa: F811
    ctx = context_for(browser, "light", viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(base_url + "routes/")
    box = page.locator("figure.data-table-figure .data-table").first
    assert fits(page) == []  # either it fits or it shows that it scrolls
    if box.evaluate("b => b.scrollWidth > b.clientWidth"):
        box.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("b => b.scrollLeft > 0", arg=box.element_handle())
        assert box.evaluate("b => getComputedStyle(b).backgroundImage").count("gradient") == 4
    ctx.close()


def test_planted_unstyled_tables_are_caught(planted):  # noqa: F811
    def unstyle(root):
        (root / "stylesheets" / "tables.css").write_text("/* planted: no table styles */\n", encoding="utf-8")

    base, page, _ = planted(unstyle, **PHONE)
    page.goto(base + "routes/")
    problems = fits(page) + styled(page, "routes-table")
    assert any("no sign that it scrolls" in p for p in problems), problems
    assert any("no visible border" in p for p in problems) and any("not shaded" in p for p in problems), problems
