"""Generated content comes from its data file, and every value carries a citation.

Tiny sites prove the generators read the data (change the data, the output
changes) and that a value without a citation, an unknown key or malformed data
fails the build naming the data file and line.
"""

from __future__ import annotations

import re
import textwrap
from html import unescape

import pytest

from conftest import page
from sitekit import generate

TIMELINE = textwrap.dedent("""\
    - date: 1962
      title: First event
      text: Something happened.
      cite: [smith2020ketamine]
    - date: "1999-08-12"
      title: Second event
      text: Something else happened.
      cite: [jones2021second, brown2022third]
    """)

ROUTES = textwrap.dedent("""\
    routes:
      - id: iv
        name: Intravenous
        bioavailability_pct: {fixed: 100, note: by definition, cite: [smith2020ketamine]}
        tmax_min: {fixed: 40, note: end of infusion, cite: [smith2020ketamine]}
        onset: {text: within minutes, cite: [jones2021second]}
        duration: {text: hours, cite: [jones2021second]}
        settings: {text: hospital, cite: [brown2022third]}
        depression_evidence: {text: several trials, cite: [green2023fourth]}
      - id: oral
        name: Oral
        bioavailability_pct:
          studies:
            - {low: 10, high: 10, n: 11, population: healthy volunteers, cite: [jones2021second]}
            - {low: 20, high: 30, n: 6, population: patients, note: lozenge, cite: [brown2022third]}
        tmax_min:
          studies:
            - {low: 20, high: 60, n: 8, population: healthy men, cite: [jones2021second]}
        onset: {unknown: true, note: no data}
        duration: {text: hours, cite: [jones2021second]}
        settings: {text: home, cite: [brown2022third]}
        depression_evidence: {text: small trials, cite: [green2023fourth]}
      - id: rectal
        name: Rectal
        bioavailability_pct:
          studies:
            - {low: 25, high: 35, n: 3, population: volunteers, cite: [brown2022third]}
        tmax_min: {unknown: true, note: not measured}
        onset: {unknown: true, note: no data}
        duration: {unknown: true, note: no data}
        settings: {text: children, cite: [brown2022third]}
        depression_evidence: {unknown: true, note: no trials}
    """)

EFFECTS = textwrap.dedent("""\
    - effect: Dissociation
      source: Test trial
      active: "41%"
      control: "9%"
      cite: [smith2020ketamine]
    - effect: Nausea
      source: Other trial
      active: "28%"
      control: "9%"
      cite: [jones2021second]
    """)


def with_marker(name: str) -> str:
    return page(f"Intro.\n\n<!-- generate: {name} -->\n\nAfter.\n")


def fails_with(build, pattern: str) -> None:
    assert not build.ok, "the build should have failed:\n" + build.output
    assert re.search(pattern, build.output), f"expected /{pattern}/ in:\n{build.output}"


# --- timeline ---------------------------------------------------------------

def test_timeline_is_generated_from_its_data_file(tiny):
    build = tiny({"index.md": with_marker("timeline")}, files={"data/timeline.yml": TIMELINE})
    assert build.ok, build.output
    html = build.html()
    events = re.findall(r'<li class="timeline-event">(.*?)</li>', html, re.S)
    assert len(events) == 2
    assert '<time class="timeline-date" datetime="1962">1962</time>' in events[0]
    assert '<time class="timeline-date" datetime="1999-08-12">12 August 1999</time>' in events[1]
    assert "First event" in events[0] and "Something else happened." in events[1]
    for event in events:
        assert '<sup class="citation"' in event
    assert re.sub(r"<[^>]+>", "", re.search(r'<sup class="citation".*?</sup>', events[1]).group()) == "2,3"


@pytest.mark.parametrize("change,expected", [
    (lambda t: t.replace("  cite: [smith2020ketamine]\n", ""),
     r"data/timeline\.yml:1: event 1962: missing 'cite': every value needs a non-empty 'cite: \[key, \.\.\.\]' list"),
    (lambda t: t.replace("[smith2020ketamine]", "[]"), r"data/timeline\.yml:4: event 1962: 'cite' is empty: every value needs"),
    (lambda t: t.replace("[smith2020ketamine]", "[nope2020missing]"),
     r"data/timeline\.yml:4: event 1962: cite: unknown citation key\(s\) nope2020missing \(not in references\.bib\)"),
    (lambda t: t.replace("1962", "2050"), r"data/timeline\.yml:5: event 1999-08-12: events must be in date order: 1999-08-12 comes after 2050"),
    (lambda t: t.replace('"1999-08-12"', "August 1999"), r"data/timeline\.yml:5: event August 1999: date: 'August 1999' must be YYYY"),
    (lambda t: t.replace("  text: Something happened.\n", "  text: Something happened.\n  colour: red\n"),
     r"data/timeline\.yml:4: event 1962: unknown field 'colour'"),
    (lambda t: t + "- [not, a, mapping]\n", r"data/timeline\.yml:9: event must be a mapping"),
    (lambda t: t.replace("  title: First event\n", ""), r"data/timeline\.yml:1: event 1962: missing 'title': a short title"),
    (lambda t: t.replace("First event", "x" * 81), r"data/timeline\.yml:2: event 1962: 'title' is 81 characters; keep it to 80"),
    (lambda t: t.replace("  text: Something happened.\n", "  text: Something happened.\n  text: Twice.\n"),
     r"data/timeline\.yml:4: 'text' is given twice \(first on line 3\)"),
    (lambda t: t.replace("title: Second event", "title: [Second event"), r"data/timeline\.yml:7: not valid YAML"),
])
def test_bad_timeline_data_fails_naming_the_line(tiny, change, expected):
    fails_with(tiny({"index.md": with_marker("timeline")}, files={"data/timeline.yml": change(TIMELINE)}), expected)


def test_missing_data_file_fails(tiny):
    fails_with(tiny({"index.md": with_marker("timeline")}), r"data/timeline\.yml: data file not found")


# --- routes table and figure -------------------------------------------------

def test_routes_table_is_generated_with_a_citation_on_every_value(tiny):
    build = tiny({"index.md": with_marker("routes-table")}, files={"data/routes.yml": ROUTES})
    assert build.ok, build.output
    html = build.html()
    rows = re.findall(r'<tr id="route-([a-z-]+)"><th scope="row">(.*?)</th>(.*?)</tr>', html, re.S)
    assert [r[0] for r in rows] == ["iv", "oral", "rectal"]
    for _, _, cells in rows:
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S):
            assert '<sup class="citation"' in cell or re.search(r'<span class="unknown">Unknown</span>', cell), cell
    cells = dict((rid, re.findall(r"<td[^>]*>(.*?)</td>", c, re.S)) for rid, _, c in rows)
    text = {rid: [re.sub(r"<sup.*?</sup>|<[^>]+>", "", c) for c in cs] for rid, cs in cells.items()}
    assert text["iv"][0].startswith("100% (by definition)")
    # several studies: the range across them, the evidence size, then each study with its own citation
    assert text["oral"][0].startswith("10–30% (2 studies, 17 people)")
    assert "10% in 11 healthy volunteers" in text["oral"][0] and "20–30% in 6 patients; lozenge" in text["oral"][0]
    assert cells["oral"][0].count('<sup class="citation"') == 2
    # one study: the value with its population and n
    assert text["oral"][1].startswith("20–60 min (8 healthy men, one study)")
    assert text["rectal"][0].startswith("25–35% (3 volunteers, one study)")
    assert text["rectal"][1] == "Unknown (not measured)"


def test_routes_figure_is_computed_from_the_data(tiny):
    build = tiny({"index.md": with_marker("routes-figure")}, files={"data/routes.yml": ROUTES})
    assert build.ok, build.output
    svg = re.search(r"<svg class=\"routes-figure\".*?</svg>", build.html(), re.S).group()
    paths = re.findall(r'<path class="curve curve-\d" d="([^"]+)"><title>([^<]+)</title>', svg)
    assert [t for _, t in paths] == ["Intravenous", "Oral"]  # rectal has no time to peak: not drawn
    assert "Not shown, because no study gives both a bioavailability and a time to peak: Rectal" in build.html()
    legends = re.findall(r'<text class="legend"[^>]*>([^<]+)</text><text class="legend-size"[^>]*>([^<]+)</text>', svg)
    assert legends == [("Intravenous", "the reference route"),
                       ("Oral", "bioavailability: 2 studies, 17 people; time to peak: 1 study, 8 people")]

    def peak(d: str) -> tuple[float, float]:
        points = [tuple(map(float, p[1:].split())) for p in re.findall(r"[ML][\d.]+ [\d.]+", d)]
        return min(points, key=lambda p: p[1])  # smallest y = highest point

    (iv_x, iv_y), (oral_x, oral_y) = peak(paths[0][0]), peak(paths[1][0])
    x0, y100 = generate._xy(0, 100)
    _, y0 = generate._xy(0, 0)
    assert abs((y0 - iv_y) / (y0 - y100) - 1.0) < 0.01  # IV peaks at 100
    assert abs((y0 - oral_y) / (y0 - y100) - 0.20) < 0.01  # oral: midpoint of the 10-30 % range across studies
    assert abs(generate._xy(40, 0)[0] - iv_x) < 3 and abs(generate._xy(40, 0)[0] - oral_x) < 3  # both peak at 40 min


def test_routes_value_without_citation_fails(tiny):
    bad = ROUTES.replace("{low: 10, high: 10, n: 11, population: healthy volunteers, cite: [jones2021second]}",
                         "{low: 10, high: 10, n: 11, population: healthy volunteers}")
    fails_with(tiny({"index.md": with_marker("routes-table")}, files={"data/routes.yml": bad}),
               r"data/routes\.yml:14: route oral: bioavailability_pct: study 1: missing 'cite': every value needs")


@pytest.mark.parametrize("change,expected", [
    (lambda t: t.replace("{low: 20, high: 30,", "{low: 30, high: 20,"),
     r"data/routes\.yml:15: route oral: bioavailability_pct: study 2: low \(30\) is above high \(20\)"),
    (lambda t: t.replace("{low: 20, high: 30,", "{low: 20, high: 130,"),
     r"data/routes\.yml:15: route oral: bioavailability_pct: study 2: need 0 <= low <= high <= 100, got 20\.\.130"),
    (lambda t: t.replace("tmax_min: {unknown: true, note: not measured}", "tmax_min: {unknown: true}"),
     r"data/routes\.yml:28: route rectal: tmax_min: an unknown value needs a 'note'"),
    (lambda t: t.replace("    duration: {text: hours, cite: [jones2021second]}\n    settings: {text: home", "    settings: {text: home"),
     r"data/routes\.yml:10: route oral: missing 'duration': write \{unknown: true, note: why no primary human study"),
    (lambda t: t.replace("id: oral", "id: iv"), r"data/routes\.yml:10: route iv: id 'iv' is used twice"),
    # the evidence size is required for every number: no n, no population, no value
    (lambda t: t.replace("n: 11, population: healthy volunteers, ", ""),
     r"data/routes\.yml:14: route oral: bioavailability_pct: study 1: missing 'n': how many people"),
    (lambda t: t.replace("n: 8, population: healthy men, ", "n: 8, "),
     r"data/routes\.yml:18: route oral: tmax_min: study 1: missing 'population': who they were"),
    (lambda t: t.replace("n: 8,", "n: 0,"), r"data/routes\.yml:18: route oral: tmax_min: study 1: n: n must be a number of people"),
    (lambda t: t.replace("n: 8,", "n: several,"), r"data/routes\.yml:18: .*n must be a number of people \(1 or more\) or 'not stated'"),
    (lambda t: t.replace("{fixed: 100, note: by definition, cite: [smith2020ketamine]}", "{fixed: 100, cite: [smith2020ketamine]}"),
     r"data/routes\.yml:4: route iv: bioavailability_pct: a fixed value needs a 'note'"),
    (lambda t: t.replace("tmax_min: {unknown: true, note: not measured}", "tmax_min: {unknown: true, note: x, fixed: 3, cite: [smith2020ketamine]}"),
     r"data/routes\.yml:28: route rectal: tmax_min: give exactly one of .* \(found fixed, unknown\)"),
    (lambda t: t.replace("settings: {text: children, cite: [brown2022third]}", "settings: {text: children}"),
     r"data/routes\.yml:31: route rectal: settings: missing 'cite'"),
    (lambda t: t.replace("onset: {text: within minutes, cite: [jones2021second]}", "onset: {text: within minutes, cite: [nope]}"),
     r"data/routes\.yml:6: route iv: onset: unknown citation key\(s\) nope"),
])
def test_bad_routes_data_fails_naming_the_line(tiny, change, expected):
    fails_with(tiny({"index.md": with_marker("routes-table")}, files={"data/routes.yml": change(ROUTES)}), expected)


def test_every_problem_in_a_data_file_is_reported_at_once(tiny):
    bad = ROUTES.replace("n: 8, population: healthy men, ", "").replace("{text: children, cite: [brown2022third]}", "{text: children}")
    build = tiny({"index.md": with_marker("routes-table")}, files={"data/routes.yml": bad})
    fails_with(build, r"3 problems in all")
    assert re.search(r"data/routes\.yml:18: .*missing 'n'", build.output)
    assert re.search(r"data/routes\.yml:18: .*missing 'population'", build.output)
    assert re.search(r"data/routes\.yml:31: .*settings: missing 'cite'", build.output)


def test_data_text_is_escaped(tiny):
    build = tiny({"index.md": with_marker("timeline")},
                 files={"data/timeline.yml": TIMELINE.replace("Something happened.", "<script>alert(1)</script> & more")})
    assert build.ok, build.output
    assert "<script>alert(1)</script>" not in build.html()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in build.html()


# --- adverse effects ------------------------------------------------------------

def test_adverse_effects_table_comes_from_its_data_file(tiny):
    build = tiny({"index.md": with_marker("adverse-effects-table")}, files={"data/adverse_effects.yml": EFFECTS})
    assert build.ok, build.output
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>', build.html(), re.S)
    assert [(r[0], r[2], r[3]) for r in rows] == [("Dissociation", "41%", "9%"), ("Nausea", "28%", "9%")]
    assert all('<sup class="citation"' in r[1] for r in rows)


def test_adverse_effect_without_citation_fails(tiny):
    bad = EFFECTS.replace("  cite: [jones2021second]\n", "")
    fails_with(tiny({"index.md": with_marker("adverse-effects-table")}, files={"data/adverse_effects.yml": bad}),
               r"data/adverse_effects\.yml:6: row 'Nausea': missing 'cite': every value needs a non-empty 'cite")


# --- evidence grades and diagrams -------------------------------------------------

GRADES = "- condition: Depression\n  page: index.md\n  grade: A\n  summary: Works.\n  cite: [smith2020ketamine]\n"


def test_evidence_grades_table(tiny):
    build = tiny({"evidence/index.md": with_marker("evidence-grades")}, files={"data/grades.yml": GRADES})
    assert build.ok, build.output
    html = build.html("evidence/index.html")
    assert re.search(r'<a href="\./">Depression</a></th><td data-label="Grade"><span class="grade grade-A">A</span> Established', html)
    bad = GRADES.replace("grade: A", "grade: E").replace("page: index.md", "page: nowhere.md")
    build = tiny({"evidence/index.md": with_marker("evidence-grades")}, files={"data/grades.yml": bad})
    fails_with(build, r"data/grades\.yml:3: condition 'Depression': 'grade' must be one of A, B, C, D")
    assert "docs/evidence/nowhere.md does not exist" in build.output


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" role="img" aria-labelledby="t d">'
       '<title id="t">A diagram</title><desc id="d">What it shows.</desc><rect class="box" x="1" y="1" width="8" height="8"/></svg>')


COMPACT = SVG.replace('"t d"', '"tc dc"').replace('id="t"', 'id="tc"').replace('id="d">What it shows.', 'id="dc">Phone version.')


def test_diagram_is_inlined_with_its_text_alternative(tiny):
    build = tiny({"mechanism/index.md": with_marker("mechanism-diagram"), "assets/diagrams/mechanism.svg": SVG,
                  "assets/diagrams/mechanism-compact.svg": COMPACT})
    assert build.ok, build.output
    html = build.html("mechanism/index.html")
    assert re.search(r'<figure class="diagram"><div class="diagram-wide"><svg [^>]*role="img"', html)
    assert re.search(r'<div class="diagram-compact" hidden><svg [^>]*role="img"[^>]*"tc dc"', html)  # phone version
    assert "<desc id=\"d\">What it shows.</desc>" in html and "<desc id=\"dc\">Phone version.</desc>" in html
    assert 'href="../assets/diagrams/mechanism.svg"' in html


@pytest.mark.parametrize("svg,expected", [
    (SVG.replace("<rect", "<script>alert(1)</script><rect"), "no scripts or external resources"),
    (SVG.replace('role="img" ', ""), 'diagrams need role="img"'),
    (SVG.replace("<desc id=\"d\">What it shows.</desc>", ""), "a <desc>"),
])
def test_bad_diagram_fails(tiny, svg, expected):
    build = tiny({"mechanism/index.md": with_marker("mechanism-diagram"), "assets/diagrams/mechanism.svg": svg,
                  "assets/diagrams/mechanism-compact.svg": COMPACT})
    fails_with(build, r"docs/assets/diagrams/mechanism\.svg: .*" + re.escape(expected))


# --- the real site: every generated block matches its data file ---------------

def _load(name):
    import yaml

    from conftest import ROOT
    return yaml.safe_load((ROOT / "data" / name).read_text(encoding="utf-8"))


def test_real_timeline_matches_its_data_file(site):
    events = _load("timeline.yml")
    assert len(events) >= 15
    html = site.html("history/index.html")
    rendered = re.findall(r'<li class="timeline-event">(.*?)</li>', html, re.S)
    assert len(rendered) == len(events)
    for event, li in zip(events, rendered):
        assert event["title"] in unescape(li)
        numbers = re.sub(r"<[^>]+>", "", re.search(r'<sup class="citation".*?</sup>', li).group())
        assert numbers, f"no citation on {event['date']}"


def test_real_routes_table_and_figure_match_their_data_file(site):
    routes = _load("routes.yml")["routes"]
    html = site.html("routes/index.html")
    rows = re.findall(r'<tr id="route-([a-z-]+)">(.*?)</tr>', html, re.S)
    assert [r[0] for r in rows] == [r["id"] for r in routes]
    for (rid, cells), route in zip(rows, routes):
        tds = re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)
        assert len(tds) == 6
        for cell in tds:
            assert '<sup class="citation"' in cell or re.search(r'<span class="unknown">Unknown</span>', cell), (rid, cell)
        for field, cell in zip(("bioavailability_pct", "tmax_min"), tds):
            plain = unescape(re.sub(r"<sup.*?</sup>|<[^>]+>", "", cell))
            for study in route[field].get("studies", []):  # every number shows who it comes from
                who = (f"{study['population']}, number not stated" if study["n"] == "not stated"
                       else f"{study['n']} {study['population']}")
                assert who in plain, (rid, field, study, plain)
    drawn = re.findall(r'<path class="curve curve-\d" d="[^"]+"><title>([^<]+)</title>', html)
    known = [r["name"] for r in routes if not r["bioavailability_pct"].get("unknown") and not r["tmax_min"].get("unknown")]
    assert drawn == known and len(drawn) >= 2
    legends = re.findall(r'<text class="legend"[^>]*>([^<]+)</text><text class="legend-size"[^>]*>([^<]+)</text>', html)
    assert [unescape(n) for n, _ in legends] == drawn
    size = r"(fixed|\d+ stud(y|ies), \d+ people|\d+ sources?, people not stated)"
    assert all(re.fullmatch(rf"the reference route|bioavailability: {size}; time to peak: {size}", text)
               for _, text in legends), legends
    assert "Illustrative model, not dosing guidance." in html


def test_real_adverse_effects_table_matches_its_data_file(site):
    rows = _load("adverse_effects.yml")
    html = site.html("safety/index.html")
    rendered = re.findall(r'<table class="effects-table"[^>]*>.*?</table>', html, re.S)[0]
    cells = re.findall(r'<tr><th scope="row">(.*?)</th><td[^>]*>(.*?)</td>', rendered, re.S)
    assert len(cells) == len(rows) >= 12
    assert all('<sup class="citation"' in source for _, source in cells)


def test_real_grades_table_matches_its_data_file(site):
    rows = _load("grades.yml")
    html = site.html("evidence/index.html")
    rendered = re.findall(r'<span class="grade grade-([ABCD])">', html)
    assert rendered == [r["grade"] for r in rows]


def test_every_generator_has_a_template_and_every_template_a_generator():
    names = {p.stem for p in generate.TEMPLATES.glob("*.html") if not p.name.startswith("_")}
    assert names == {gen.template or name for name, gen in generate.REGISTRY.items()}
    for name, gen in generate.REGISTRY.items():
        assert (gen.data is None) == (gen.schema is None), name


def test_a_template_error_names_the_template_and_line(tmp_path, monkeypatch):
    from sitekit.errors import SiteError
    (tmp_path / "glossary.html").write_text("<dl>\n{% for t in entries %}\n<dt>{{ t.nope.deeper }}</dt>\n{% endfor %}</dl>\n")
    (tmp_path / "evidence-types.html").write_text("<table>\n{% for x in %}\n</table>\n")
    monkeypatch.setattr(generate, "TEMPLATES", tmp_path)
    generate.environment.cache_clear()
    try:
        root = tmp_path / "site"
        (root / "includes").mkdir(parents=True)
        (root / "includes" / "abbreviations.md").write_text("*[A]: One.\n")
        ctx = generate.Context(root, "docs/glossary.md", 3)
        with pytest.raises(SiteError, match=r"^overrides/generated/glossary\.html:3: .*nope"):
            generate.render("glossary", ctx)
        with pytest.raises(SiteError, match=r"^overrides/generated/evidence-types\.html:2: "):
            generate.render("evidence-types", ctx)
    finally:
        generate.environment.cache_clear()


def test_one_line_keeps_words_apart_and_drops_layout_breaks():
    assert generate.one_line("<p>\n  Two\n  words <a>x</a>\n</p>\n") == "<p>Two words <a>x</a></p>"
    assert generate.one_line("<td>\n  text [@k]\n</td>") == "<td>text [@k]</td>"


def test_route_values_in_prose_come_from_the_data_file(tiny):
    pages = {"index.md": with_marker("routes-bioavailability"), "oral.md": with_marker("routes-bioavailability-oral")}
    build = tiny(pages, files={"data/routes.yml": ROUTES})
    assert build.ok, build.output
    items = re.findall(r'<ul class="route-values"><li><strong>(.*?)</strong>', build.html())
    every = re.findall(r"<li><strong>([^<]+):</strong>", build.html())
    assert items == ["Intravenous:"] and every == ["Intravenous", "Oral", "Rectal"]
    oral = build.html("oral/index.html")
    assert re.findall(r"<li><strong>([^<]+):</strong>", oral) == ["Oral"]
    assert "10–30% (2 studies, 17 people)" in re.sub(r"<[^>]+>", "", oral)


def test_real_pages_read_route_figures_from_the_data_file(site):
    """The routes, pharmacokinetics, oral and claims pages show the data file's figures, not typed copies."""
    routes = {r["id"]: r for r in _load("routes.yml")["routes"]}
    for built, ids in {"routes/index.html": list(routes), "routes/pharmacokinetics/index.html": list(routes),
                      "routes/oral-sublingual/index.html": ["oral", "sublingual"],
                      "evidence/claims/index.html": ["oral"]}.items():
        html = site.html(built)
        lists = re.findall(r'<ul class="route-values">(.*?)</ul>(?!</li>)', html, re.S)  # not a nested list's end
        shown = [unescape(n) for block in lists for n in re.findall(r"<li><strong>([^<]+):</strong>", block)]
        assert shown == [routes[i]["name"] for i in ids], (built, shown)
        text = unescape(re.sub(r"<sup.*?</sup>|<[^>]+>", "", "".join(lists)))
        for i in ids:
            for study in routes[i]["bioavailability_pct"].get("studies", []):
                if study["n"] != "not stated":
                    assert f"{study['n']} {study['population']}" in text, (built, i, study)
