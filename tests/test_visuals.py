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
    for (key, word), written in zip(chips, words, strict=True):
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


# --- generators on tiny sites: the data changes, the output changes; bad data names its line ---------------

def with_marker(name: str, before: str = "Intro.\n\n") -> str:
    return page(f"{before}<!-- generate: {name} -->\n\nAfter.\n")


def fails_with(build, pattern: str) -> None:
    assert not build.ok, "the build should have failed:\n" + build.output
    assert re.search(pattern, build.output), f"expected /{pattern}/ in:\n{build.output}"


GRADES = textwrap.dedent("""\
    - condition: Depression, nasal spray
      page: x.md
      grade: A
      summary: Approved and well tested.
      cite: [smith2020ketamine]
    - condition: Depression, infusions
      page: x.md
      grade: C
      summary: Small trials.
      cite: [jones2021second]
    - condition: Something else
      page: y.md
      grade: D
      summary: No trials.
      cite: [brown2022third]
    """)


def test_grade_summary_shows_this_pages_rows_with_what_the_grade_means(tiny):
    build = tiny({"evidence/x.md": with_marker("grade-summary"), "evidence/y.md": page()},
                 files={"data/grades.yml": GRADES})
    assert build.ok, build.output
    aside = re.search(r'<aside class="grade-summary".*?</aside>', build.html("evidence/x/index.html"), re.S).group()
    items = re.findall(r"<li>(.*?)</li>", aside, re.S)
    assert len(items) == 2  # y.md's row is not shown on x.md
    assert '<span class="grade grade-A">A</span> <strong>Established:</strong> Depression, nasal spray' in items[0]
    assert "A means: Several good trials agree" in items[0] and "Why: Approved and well tested." in items[0]
    assert '<strong>Preliminary:</strong> Depression, infusions' in items[1] and "C means:" in items[1]
    assert all('<sup class="citation"' in item for item in items)


def test_grade_summary_on_a_page_without_a_grade_fails_at_the_marker(tiny):
    build = tiny({"evidence/x.md": page(), "evidence/y.md": page(), "evidence/z.md": with_marker("grade-summary")},
                 files={"data/grades.yml": GRADES})
    line = with_marker("grade-summary").split("\n").index("<!-- generate: grade-summary -->") + 1
    fails_with(build, rf"docs/evidence/z\.md:{line}: grade-summary: no row of data/grades\.yml has 'page: z\.md'")


def test_claims_summary_lists_every_claim_with_a_link_to_it(tiny):
    build = tiny({"claims.md": with_marker("claims-summary") + "\n" + CLAIMS})
    assert build.ok, build.output
    html = build.html("claims/index.html")
    rows = re.findall(r'<tr><td><a href="#([^"]+)">“([^”]+)”</a></td><td><span class="verdict verdict-(\w+)">', html)
    assert rows == [("a-claim", "A claim", "supported"), ("another-claim", "Another claim", "not"),
                    ("a-claim_1", "A claim", "unknown")]
    for anchor, _, _ in rows:
        assert f'id="{anchor}"' in html  # the heading the link goes to
    assert re.findall(r'<th scope="rowgroup" colspan="2">([^<]+)</th>', html) == ["First topic", "Second topic"]
    assert '<span class="verdict-rest">for the short term</span>' in html
    assert "This page checks 3 claims." in html


def test_claims_summary_fails_at_a_claim_without_a_verdict(tiny):
    text = with_marker("claims-summary") + "\n" + CLAIMS.replace("**Verdict: Not supported.** Because.", "Because.")
    line = text.split("\n").index('### "Another claim"') + 1
    fails_with(tiny({"claims.md": text}), rf"docs/claims\.md:{line}: a claim heading .* must be followed by")


OUTCOMES = textwrap.dedent("""\
    trials:
      - id: trial-a
        trial: Trial A
        design: randomized, open-label trial
        population: adults
        comparison: drug or control
        outcome: remission
        event: were in remission
        main_outcome: true
        timepoint: at week 8
        better: higher
        arms:
          - {name: drug, percent: 27.1, n: 336}
          - {name: control, percent: 17.6, n: 340}
        cite: [smith2020ketamine]
      - id: trial-b
        trial: Trial B
        design: randomized withdrawal trial
        population: adults in remission
        comparison: continue or stop
        outcome: relapse
        event: relapsed
        main_outcome: true
        timepoint: during follow-up
        better: lower
        arms:
          - {name: continued, percent: 26.7, events: 24, n: 90}
          - {name: stopped, percent: 45.3, events: 39, n: 86}
        cite: [jones2021second]
      - id: trial-c
        trial: Trial C
        design: double-blind trial with an active placebo
        population: adults in hospital
        comparison: drug or active placebo
        outcome: change in a depression score
        main_outcome: true
        timepoint: at the end of treatment
        n_total: 62
        result: Scores did not differ significantly.
        cite: [brown2022third]
    label_harms:
      source: Drug spray, pooled trials (label)
      min_percent: 20
      arms:
        - {name: drug spray, n: 346}
        - {name: placebo spray, n: 222}
      cite: [green2023fourth]
    """)

EFFECTS = textwrap.dedent("""\
    - effect: Dissociation
      source: Drug spray, pooled trials (label)
      active: "41%"
      control: "9% (placebo spray)"
      cite: [green2023fourth]
    - effect: Vomiting
      source: Drug spray, pooled trials (label)
      active: "9%"
      control: "2% (placebo spray)"
      cite: [green2023fourth]
    - effect: Dizziness
      source: Another trial
      active: "38.3%"
      control: "13.8%"
      cite: [smith2020ketamine]
    - effect: Headache
      source: Drug spray, pooled trials (label)
      active: "20%"
      control: "17% (placebo spray)"
      cite: [green2023fourth]
    """)


def _arrays(html: str) -> list[tuple[str, int]]:
    """(text alternative, people drawn filled) of every icon array."""
    out = []
    for label, body in re.findall(r'<svg class="icon-array" viewBox="0 0 100 100"[^>]* role="img" aria-label="([^"]+)">'
                                  r"(.*?)</svg>", html, re.S):
        out.append((label, sum(int(n) for n in re.findall(r'data-people="(\d+)"', body))))
    return out


def test_trial_outcomes_are_natural_frequencies_computed_from_the_data(tiny):
    build = tiny({"index.md": with_marker("trial-outcomes")}, files={"data/outcomes.yml": OUTCOMES})
    assert build.ok, build.output
    html = build.html()
    assert _arrays(html) == [
        ("About 27 in 100 people in the drug group were in remission.", 27),
        ("About 18 in 100 people in the control group were in remission.", 18),
        ("About 27 in 100 people in the continued group relapsed.", 27),
        ("About 45 in 100 people in the stopped group relapsed.", 45)]
    assert "Reported: 27.1% of 336" in html and "Reported: 24 of 90 (26.7%)" in html
    assert "(fewer is better)" in html and "(more is better)" in html
    assert "Scores did not differ significantly." in html and "adults in hospital; 62 people counted" in html
    assert "676 people counted" in html  # 336 + 340
    boxes = re.findall(r'<figure class="sof" id="trial-[a-z-]+">(.*?)</figure>', html, re.S)
    assert len(boxes) == 3 and all('<sup class="citation"' in box for box in boxes)
    changed = tiny({"index.md": with_marker("trial-outcomes")},
                   files={"data/outcomes.yml": OUTCOMES.replace("percent: 27.1, n: 336", "percent: 61, n: 336")})
    assert ("61 in 100 people in the drug group were in remission.", 61) in _arrays(changed.html())


@pytest.mark.parametrize("change, pattern", [
    (lambda t: t.replace("events: 24, n: 90", "events: 25, n: 90"),
     r"data/outcomes\.yml:27: .*25 of 90 is 27\.78%, which does not round to the reported 26\.7%"),
    (lambda t: t.replace("main_outcome: true\n    timepoint: at week 8", "main_outcome: false\n    timepoint: at week 8"),
     r"data/outcomes\.yml:2: .*Trial A: show the trial's main outcome too"),
    (lambda t: t.replace("{name: drug, percent: 27.1, n: 336}", "{name: drug, percent: 27.1}"),
     r"data/outcomes\.yml:2: .*'n' for each group, or 'n_total'"),
    (lambda t: t.replace("[smith2020ketamine]", "[nobody1999]"), r"data/outcomes\.yml:15: .*unknown citation key"),
])
def test_bad_outcomes_data_fails_naming_the_line(tiny, change, pattern):
    fails_with(tiny({"index.md": with_marker("trial-outcomes")}, files={"data/outcomes.yml": change(OUTCOMES)}),
               pattern)


def test_side_effect_arrays_come_from_the_adverse_effects_file(tiny):
    build = tiny({"index.md": with_marker("side-effect-icons")},
                 files={"data/outcomes.yml": OUTCOMES, "data/adverse_effects.yml": EFFECTS})
    assert build.ok, build.output
    html = build.html()
    # rows of the label source at or above 20% with the drug, largest first; vomiting (9%) and the other source not
    assert _arrays(html) == [("Dissociation: 41 in 100 people using drug spray.", 41),
                             ("Dissociation: 9 in 100 people using placebo spray.", 9),
                             ("Headache: 20 in 100 people using drug spray.", 20),
                             ("Headache: 17 in 100 people using placebo spray.", 17)]
    assert "346 people used drug spray and 222 used placebo spray" in html


@pytest.mark.parametrize("effects, outcomes, pattern", [
    (EFFECTS.replace('active: "41%"', 'active: "55 of 91 patients"'), OUTCOMES,
     r"data/adverse_effects\.yml:3: row 'Dissociation': 'active' must start with a percentage"),
    (EFFECTS, OUTCOMES.replace("source: Drug spray, pooled trials (label)", "source: Nothing like it"),
     rf"data/outcomes\.yml:{OUTCOMES.split(chr(10)).index('  source: Drug spray, pooled trials (label)') + 1}: "
     r"label_harms: no row of data/adverse_effects\.yml has source 'Nothing like it'"),
])
def test_side_effect_arrays_fail_naming_the_line(tiny, effects, outcomes, pattern):
    fails_with(tiny({"index.md": with_marker("side-effect-icons")},
                    files={"data/outcomes.yml": outcomes, "data/adverse_effects.yml": effects}), pattern)


PANEL = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" role="img" aria-labelledby="{p}-t {p}-d">'
         '<title id="{p}-t">Panel {p}</title><desc id="{p}-d">What panel {p} shows.</desc></svg>')


def test_nmda_diagram_inlines_three_panels(tiny):
    panels = {f"assets/diagrams/nmda-{p}.svg": PANEL.format(p=p) for p in ("open", "blocked", "trapped")}
    bib = __import__("conftest").GOOD_BIB + "".join(
        f"@article{{{key},\n  author = {{A, B}},\n  title = {{T}},\n  journal = {{J}},\n  year = {{2020}},\n"
        f"  doi = {{10.1000/{key}}},\n  evidence = {{review}},\n  verified = {{https://doi.org/10.1000/{key}}}\n}}\n\n"
        for key in ("traynelis2010glutamate", "zhang2021structural", "lodge2015ketamine"))
    synthetic = lambda config: config["extra"]["references"].update(editorial=False)  # noqa: E731 (stand-in entries)
    build = tiny({"index.md": with_marker("nmda-diagram"), **panels}, bib=bib, config_changes=synthetic)
    assert build.ok, build.output
    html = build.html()
    assert re.findall(r'<div class="nmda-panel"><svg [^>]*role="img"[^>]*><title id="([a-z]+)-t">', html) == [
        "open", "blocked", "trapped"]
    del panels["assets/diagrams/nmda-trapped.svg"]
    fails_with(tiny({"index.md": with_marker("nmda-diagram"), **panels}, bib=bib, config_changes=synthetic),
               r"docs/index\.md:\d+: diagram docs/assets/diagrams/nmda-trapped\.svg not found")


# --- the real site ------------------------------------------------------------------

def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_every_condition_page_shows_its_grades_under_key_points(site):
    rows = yaml.safe_load((ROOT / "data" / "grades.yml").read_text(encoding="utf-8"))
    for name in {r["page"].split("#")[0] for r in rows}:
        html = site.html(f"evidence/{name.removesuffix('.md')}/index.html")
        asides = re.findall(r'<aside class="grade-summary".*?</aside>', html, re.S)
        assert len(asides) == 1, name
        abstract_end = html.index('class="admonition abstract')
        assert abstract_end < html.index('<aside class="grade-summary"') < html.index("<h2"), name
        for r in (r for r in rows if r["page"].split("#")[0] == name):
            assert f'<span class="grade grade-{r["grade"]}">{r["grade"]}</span>' in asides[0]
            assert r["condition"] in _text(asides[0]).replace("’", "'"), (name, r["condition"])


def test_real_claims_summary_matches_the_claims(site):
    html = site.html("evidence/claims/index.html")
    claims = [c for s in visuals.claims(CLAIMS_PAGE.read_text(encoding="utf-8"), "claims.md") for c in s.claims]
    links = re.findall(r'<tr><td><a href="#([^"]+)">', html)
    assert links == [c.anchor for c in claims]
    assert all(f'id="{a}"' in html for a in links)
    assert html.index('class="claims-summary"') < html.index('<h3 id="')


def test_real_trial_outcomes_match_their_data_file(site):
    data = yaml.safe_load((ROOT / "data" / "outcomes.yml").read_text(encoding="utf-8"))
    html = site.html("evidence/depression/index.html")
    arrays = _arrays(html)
    expected = [(arm, t) for t in data["trials"] for arm in t.get("arms", [])]
    assert len(arrays) == len(expected)
    for (label, drawn), (arm, _trial) in zip(arrays, expected, strict=True):
        freq = visuals.per_100(arm["percent"])
        assert label.lower().startswith(f"{freq} people in the {arm['name']} group".lower()), label
        assert drawn == freq.count
    for t in data["trials"]:
        box = re.search(rf'<figure class="sof" id="trial-{t["id"]}">(.*?)</figure>', html, re.S).group(1)
        assert t["trial"] in box and t["timepoint"] in _text(box) and '<sup class="citation"' in box


def test_real_side_effect_arrays_match_the_label_rows(site):
    data = yaml.safe_load((ROOT / "data" / "outcomes.yml").read_text(encoding="utf-8"))["label_harms"]
    effects = yaml.safe_load((ROOT / "data" / "adverse_effects.yml").read_text(encoding="utf-8"))
    rows = [r for r in effects if r["source"] == data["source"] and visuals.percent_of(r["active"]) >= data["min_percent"]]
    assert len(rows) >= 4
    arrays = _arrays(site.html("safety/index.html"))
    assert len(arrays) == 2 * len(rows)
    for row in rows:
        for pct, (label, drawn) in zip((visuals.percent_of(row["active"]), visuals.percent_of(row["control"])),
                                       [a for a in arrays if a[0].startswith(row["effect"] + ":")], strict=True):
            assert drawn == visuals.per_100(pct).count and f": {visuals.per_100(pct)} people" in label


def test_real_diagrams_are_inlined_with_text_alternatives(site):
    nmda = site.html("mechanism/nmda-receptor/index.html")
    assert len(re.findall(r'<div class="nmda-panel"><svg [^>]*role="img" aria-labelledby="(nmda-\w+)-title \1-desc"',
                          nmda)) == 3
    mechanism = site.html("mechanism/index.html")
    assert '<div class="diagram-wide"><svg' in mechanism
    assert '<div class="diagram-compact" hidden><svg' in mechanism  # shown by CSS on phones only, never in print
    ids = re.findall(r'\sid="([^"]+)"', mechanism)
    assert len(ids) == len(set(ids))  # the two versions share no id


def test_print_edition_keeps_every_svg_reference(site):
    """The printable edition prefixes every id with its chapter; url(#id) references (arrowheads, the icon
    arrays' people) must follow, or the PDF loses them."""
    html = site.html("print/index.html")
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    refs = re.findall(r'="url\(#([^)]+)\)"', html)
    # the edition loads only site.css and print-edition.css: the people carry their own colours
    assert re.search(r'<circle class="person-off" fill="none" stroke="#[0-9a-f]{6}"', html)
    assert any("people" in r for r in refs) and any("arrow" in r for r in refs)
    assert not sorted({r for r in refs if r not in ids})


FACTS = textwrap.dedent("""\
    trial_a_result:
      text: In Trial A, 27.1% of people given the drug were in remission, against 17.6% with the control
      cite: [smith2020ketamine]
      checked: 2026-12-06
    """)


def test_a_trial_result_stated_in_a_fact_must_agree_with_it(tiny):
    linked = OUTCOMES.replace("    cite: [smith2020ketamine]", "    fact: trial_a_result\n    cite: [smith2020ketamine]")
    build = tiny({"index.md": with_marker("trial-outcomes")},
                 files={"data/outcomes.yml": linked, "data/facts.yml": FACTS})
    assert build.ok, build.output
    line = linked.split("\n").index("    fact: trial_a_result") + 1
    fails_with(tiny({"index.md": with_marker("trial-outcomes")},
                    files={"data/outcomes.yml": linked, "data/facts.yml": FACTS.replace("27.1%", "28.1%")}),
               rf"data/outcomes\.yml:{line}: trial trial-a: 27\.1% not in the text of fact 'trial_a_result' "
               r"\(data/facts\.yml:1\)")
