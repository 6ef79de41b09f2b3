"""Data visuals are derived from the pages and data files they summarise.

Verdict chips, the claims summary, the grade under Key points, natural
frequencies with icon arrays, and the diagrams: unit tests of the arithmetic,
tiny sites proving that a change in the source changes the output and that bad
input fails naming its file and line, and assertions on the real site.
"""

from __future__ import annotations

import re
import textwrap

import pytest
import yaml

from conftest import ROOT, page
from sitekit import visuals
from sitekit.errors import SiteError

CLAIMS_PAGE = ROOT / "docs" / "evidence" / "claims.md"


# --- natural frequencies and icon arrays --------------------------------------------

@pytest.mark.parametrize("percent, text", [
    (46, "46 in 100"), (55.4, "about 55 in 100"), (17.6, "about 18 in 100"), (26.7, "about 27 in 100"),
    (12.5, "about 13 in 100"),  # half up, not to even
    (0.5, "5 in 1,000"), (0.35, "about 4 in 1,000"), (99.6, "about 99 in 100"), (100, "100 in 100"), (0, "0 in 100"),
])
def test_percent_becomes_an_honest_natural_frequency(percent, text):
    assert str(visuals.per_100(percent)) == text


@pytest.mark.parametrize("percent", [-1, 100.5, 0.04])
def test_percent_that_cannot_be_a_frequency_is_refused(percent):
    with pytest.raises(ValueError):
        visuals.per_100(percent)


@pytest.mark.parametrize("count", [0, 1, 9, 10, 27, 41, 99, 100])
def test_icon_array_fills_exactly_count_people(count):
    rects = visuals.icon_array(count)
    cell = visuals.ICON * visuals.ICON
    assert sum(r["w"] * r["h"] for r in rects if r["on"]) == count * cell
    assert sum(r["w"] * r["h"] for r in rects) == 100 * cell  # the whole grid, no overlap
    assert len(rects) <= 4


@pytest.mark.parametrize("text, value", [("41%", 41), ("9% (placebo spray)", 9), ("0.5% (placebo)", 0.5),
                                         ("55 of 91 patients", None), ("61-75% (CADSS-rated)", None)])
def test_percent_of_reads_only_a_plain_leading_rate(text, value):
    assert visuals.percent_of(text) == value


# --- verdicts -----------------------------------------------------------------------

@pytest.mark.parametrize("text, key, rest", [
    ("Partly supported.", "partly", "."), ("Supported, for the short term.", "supported", ", for the short term."),
    ("Not supported in humans.", "not", " in humans."), ("Unknown (source not verified here).", "unknown",
                                                         " (source not verified here)."),
])
def test_verdict_word_and_rest(text, key, rest):
    v = visuals.verdict(text)
    assert (v.key, v.rest) == (key, rest)


@pytest.mark.parametrize("text", ["Supportive.", "Maybe.", "Partly true."])
def test_unknown_verdicts_are_refused(text):
    assert visuals.verdict(text) is None


CLAIMS = textwrap.dedent('''\
    ## First topic

    ### "A claim"

    **Verdict: Supported, for the short term.** Because.

    ### "Another claim"

    **Verdict: Not supported.** Because.

    ## Second topic

    ### "A claim"

    **Verdict: Unknown.** Same words, so its heading id gets a suffix.
    ''')


def test_claims_are_read_with_their_sections_and_heading_ids():
    sections = visuals.claims(CLAIMS, "x.md")
    assert [s.title for s in sections] == ["First topic", "Second topic"]
    claims = [c for s in sections for c in s.claims]
    assert [(c.text, c.anchor, c.verdict.key, c.line) for c in claims] == [
        ("A claim", "a-claim", "supported", 3), ("Another claim", "another-claim", "not", 7),
        ("A claim", "a-claim_1", "unknown", 13)]


@pytest.mark.parametrize("change, line, message", [
    (lambda t: t.replace("**Verdict: Not supported.** Because.", "Because."), 7, "must be followed by"),
    (lambda t: t.replace("Verdict: Not supported.", "Verdict: Doubtful."), 9, "unknown verdict 'Doubtful.'"),
])
def test_a_claim_without_a_known_verdict_fails_at_its_line(change, line, message):
    with pytest.raises(SiteError) as exc:
        visuals.claims(change(CLAIMS), "docs/x.md")
    assert exc.value.path == "docs/x.md" and exc.value.line == line and message in exc.value.message


def test_every_claim_on_the_real_page_has_a_verdict():
    text = CLAIMS_PAGE.read_text(encoding="utf-8")
    claims = [c for s in visuals.claims(text, "docs/evidence/claims.md") for c in s.claims]
    assert len(claims) == len(re.findall(r'(?m)^### "', text)) > 20


def test_verdict_chips_show_icon_and_word(tiny):
    body = "Intro.\n\n**Verdict: Partly supported (mostly animal data).** Because.\n"
    build = tiny({"index.md": page(body)})
    assert build.ok, build.output
    chip = re.search(r'<span class="verdict verdict-partly">(.*?)</span>', build.html(), re.S)
    assert chip and '<svg class="verdict-icon"' in chip.group(1) and chip.group(1).endswith("Partly supported")
    assert "<strong> (mostly animal data).</strong>" in build.html()


def test_unknown_verdict_fails_the_build_at_its_line(tiny):
    build = tiny({"index.md": page("Intro.\n\n**Verdict: Probably.** Because.\n")})
    assert not build.ok
    line = page("Intro.\n\n**Verdict: Probably.** Because.\n").split("\n").index("**Verdict: Probably.** Because.") + 1
    assert f"docs/index.md:{line}: unknown verdict 'Probably.'" in build.output


def test_real_claims_page_shows_every_verdict_as_a_chip(site):
    html = site.html("evidence/claims/index.html")
    text = CLAIMS_PAGE.read_text(encoding="utf-8")
    words = re.findall(r"(?m)^\*\*Verdict: ([^*]+)\*\*", text)
    chips = re.findall(r'<strong class="verdict-label">Verdict:</strong> <span class="verdict verdict-(\w+)">'
                       r'<svg class="verdict-icon".*?</svg>([^<]+)</span>', html)
    assert len(chips) == len(words)
    for (key, word), written in zip(chips, words):
        assert written.startswith(word) and visuals.VERDICTS[key] == word


# --- the data file of trial results --------------------------------------------------

def test_outcomes_data_is_internally_consistent():
    """Every arm's events / n rounds to its reported percent; every trial shows its main outcome."""
    data = yaml.safe_load((ROOT / "data" / "outcomes.yml").read_text(encoding="utf-8"))
    for trial in data["trials"]:
        assert trial["main_outcome"] is True, trial["id"]
        for arm in trial.get("arms", []):
            if "events" in arm:
                assert round(100 * arm["events"] / arm["n"], 1) == arm["percent"], (trial["id"], arm)
