"""Data visuals in a real browser (Debian's chromium driven by Playwright), light and dark.

What readers see first and on a phone: the evidence grade right under Key
points on every condition page, the claims summary table with verdict chips,
natural frequencies with icon arrays, the NMDA receptor diagram and the compact
mechanism flowchart on phones. Each page holding them also passes axe-core in
both colour schemes.

Uses the fixtures of tests/test_browser.py (the site served on 127.0.0.1; nothing leaves the machine).
"""

# ruff: noqa: F811  (pytest fixtures imported from test_browser are redefined as arguments)
from __future__ import annotations

import re

import pytest
import yaml

from conftest import ROOT
from test_browser import PHONE, TIMEOUT, Watch, base_url, browser, phone, tab, visit  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

GRADES = yaml.safe_load((ROOT / "data" / "grades.yml").read_text(encoding="utf-8"))
CONDITION_PAGES = sorted({"evidence/" + row["page"].split("#")[0].removesuffix(".md") + "/" for row in GRADES})
VISUAL_PAGES = ["evidence/claims/", "evidence/depression/", "safety/", "mechanism/", "mechanism/nmda-receptor/"]


@pytest.mark.parametrize("path", CONDITION_PAGES)
def test_evidence_grade_sits_right_under_key_points(tab, base_url, path):
    """The grade (letter and word), what it means, and every condition of the page, directly after Key points."""
    page = tab.page
    page.goto(base_url + path)
    summary = page.locator("article .admonition.abstract + .grade-summary")
    assert summary.count() == 1, f"{path}: no evidence grade right after the Key points box"
    text = " ".join(summary.inner_text().split())
    for row in (r for r in GRADES if "evidence/" + r["page"].split("#")[0].removesuffix(".md") + "/" == path):
        assert f"{row['grade']} {('Established', 'Promising', 'Preliminary', 'Insufficient')['ABCD'.index(row['grade'])]}" \
               f": {row['condition']}" in text, (path, row["condition"], text)
        assert f"{row['grade']} means:" in text
    # on a laptop screen it is on the first screen, before the first section heading
    top = summary.bounding_box()["y"]
    assert top < 900, f"{path}: the grade starts {top:.0f}px down the page"
    first_h2 = page.locator("article h2").first.bounding_box()["y"]
    assert top < first_h2
    tab.clean()


def test_claims_page_opens_with_a_summary_of_every_verdict(tab, base_url):
    page = tab.page
    page.goto(base_url + "evidence/claims/")
    claims = page.locator("article h3[id]").evaluate_all("hs => hs.filter(h => /^[\"“]/.test(h.textContent.trim()))"
                                                        ".map(h => h.id)")
    table = page.locator("article .claims-summary table")
    assert table.count() == 1, "no summary table on the claims page"
    assert table.bounding_box()["y"] < page.locator("article h3").first.bounding_box()["y"], "summary not at the top"
    links = table.locator("td a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert [h.split("#", 1)[1] for h in links] == claims, "the summary must list every claim, in order"
    chips = table.locator(".verdict")
    assert chips.count() == len(claims)
    # follow one link: the page scrolls to that claim
    table.locator("td a").nth(5).click()
    page.wait_for_function("id => location.hash === '#' + id", arg=claims[5])
    assert page.locator(f"[id='{claims[5]}']").is_visible()
    tab.clean()


def test_verdict_chips_carry_icon_word_and_colour(tab, base_url):
    page = tab.page
    page.goto(base_url + "evidence/claims/")
    chips = page.locator("article .verdict")
    assert chips.count() > 40, "verdicts are not shown as chips"
    info = chips.evaluate_all("""cs => cs.map(c => ({word: c.textContent.trim(), icon: !!c.querySelector('svg'),
        bg: getComputedStyle(c).backgroundColor, cls: c.className}))""")
    page_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    words = {"verdict-supported": "Supported", "verdict-partly": "Partly supported", "verdict-not": "Not supported",
             "verdict-unknown": "Unknown"}
    colours = {}
    for chip in info:
        key = chip["cls"].split()[-1]
        assert chip["word"] == words[key] and chip["icon"], chip  # never colour alone
        assert chip["bg"] not in (page_bg, "rgba(0, 0, 0, 0)"), chip
        colours.setdefault(key, set()).add(chip["bg"])
    assert len({c for s in colours.values() for c in s}) == len(colours) == 4  # one colour per verdict
    tab.clean()


def _drawn_people(svg) -> int:
    return svg.evaluate("s => [...s.querySelectorAll('rect[data-people]')]"
                        ".reduce((n, r) => n + Number(r.dataset.people), 0)")


def test_trial_results_as_natural_frequencies_with_icon_arrays(tab, base_url):
    """Each drawn group: its sentence says 'N in 100' and its drawing fills exactly N of 100 people."""
    page = tab.page
    page.goto(base_url + "evidence/depression/")
    boxes = page.locator("article figure.sof")
    assert boxes.count() >= 4, "no trial results drawn as people"
    drawn = 0
    for i in range(boxes.count()):
        box = boxes.nth(i)
        assert box.locator("a.citation-ref").count() >= 1, "a result without its citation"
        assert re.search(r"Main outcome\s+.+, (at|after|during) ", box.inner_text()), "outcome or timepoint missing"
        for svg in box.locator("svg.icon-array").all():
            label = svg.get_attribute("aria-label")
            m = re.match(r"(?:About )?(\d+) in 100 people", label or "")
            assert m and svg.get_attribute("role") == "img", label
            assert _drawn_people(svg) == int(m.group(1)), label
            assert svg.bounding_box()["width"] > 100
            drawn += 1
    assert drawn >= 8
    tab.clean()


def test_label_side_effects_as_icon_arrays(tab, base_url):
    page = tab.page
    page.goto(base_url + "safety/")
    block = page.locator("article .sof-harms")
    assert block.count() == 1, "no side-effect drawings on the safety page"
    text = " ".join(block.inner_text().split())
    assert "346" in text and "222" in text  # the group sizes behind the rates
    assert re.search(r"Dissociation: 41 in 100 with esketamine, compared with 9 in 100 with placebo", text)
    for svg in block.locator("svg.icon-array").all():
        m = re.search(r"(\d+) in 100 people", svg.get_attribute("aria-label"))
        assert m and _drawn_people(svg) == int(m.group(1))
    assert "treatment-resistant depression" in text  # the same trials' main result is one link away
    tab.clean()


def test_nmda_receptor_diagram(tab, base_url):
    page = tab.page
    page.goto(base_url + "mechanism/nmda-receptor/")
    panels = page.locator("article figure.nmda-diagram svg[role='img']")
    assert panels.count() == 3, "the NMDA page has no receptor diagram"
    for svg in panels.all():
        assert svg.is_visible()
        ids = svg.get_attribute("aria-labelledby").split()
        assert [svg.locator(f"[id='{i}']").count() for i in ids] == [1, 1]  # a title and a description
    caption = page.locator("article figure.nmda-diagram").inner_text()
    assert "PCP" in caption and "Trapped" in caption and "not known" in caption
    tab.clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_diagrams_are_drawn_in_the_page_colours(browser, base_url, scheme):  # noqa: F811
    context = browser.new_context(color_scheme=scheme)
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(base_url + "mechanism/nmda-receptor/")
    colours = page.locator("article figure.nmda-diagram svg").first.evaluate(
        "s => ({text: getComputedStyle(s.querySelector('text')).fill, bg: getComputedStyle(document.body).backgroundColor})")
    assert colours["text"] != colours["bg"]
    lum = [sum(map(int, re.findall(r"\d+", c)[:3])) for c in (colours["text"], colours["bg"])]
    assert abs(lum[0] - lum[1]) > 300, colours  # dark text on light, light text on dark
    context.close()


def test_mechanism_flowchart_is_compact_and_readable_on_a_phone(phone, base_url):
    page = phone.page
    page.goto(base_url + "mechanism/")
    shown = page.locator("article figure.diagram svg[role='img']:visible")
    assert shown.count() == 1, "exactly one version of the flowchart is shown"
    svg = shown.first
    box = svg.bounding_box()
    assert box["width"] <= 375
    # the font size as drawn: the SVG's font size scaled with the drawing
    smallest = svg.evaluate("""s => Math.min(...[...s.querySelectorAll('text')].map(t =>
        parseFloat(getComputedStyle(t).fontSize) * s.getBoundingClientRect().width / s.viewBox.baseVal.width))""")
    assert smallest >= 12, f"flowchart text is drawn at {smallest:.1f}px on a phone"
    assert box["height"] < 720, f"the flowchart is {box['height']:.0f}px tall on a phone"
    phone.clean()


def test_mechanism_flowchart_keeps_the_full_version_on_wide_screens(tab, base_url):
    page = tab.page
    page.goto(base_url + "mechanism/")
    shown = page.locator("article figure.diagram svg[role='img']:visible")
    assert shown.count() == 1 and shown.first.get_attribute("aria-labelledby") == "mech-title mech-desc"
    tab.clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_with_visuals_pass_axe_in_both_schemes(browser, base_url, scheme):  # noqa: F811
    context = browser.new_context(color_scheme=scheme)
    context.set_default_timeout(TIMEOUT)
    watch = Watch.on(context, base_url)
    page = context.new_page()
    problems = []
    for path in VISUAL_PAGES + CONDITION_PAGES[:2]:
        problems += visit(page, watch, base_url + path)
    context.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", VISUAL_PAGES)
def test_pages_with_visuals_fit_a_phone(phone, base_url, path):
    phone.page.goto(base_url + path)
    overflow = phone.page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    phone.clean()
