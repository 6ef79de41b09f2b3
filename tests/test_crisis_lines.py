"""Urgent-help numbers come from data/crisis_lines.yml, each with its source and check date.

Unit tests prove the schema (``sitekit.schemas.CrisisLines``) names the data
file's line for every kind of bad entry; a tiny site proves a bad entry fails the real build with that line; the
real site proves the "Getting urgent help" page lists every entry and that
every page's urgent-help notice links to it.
"""

from __future__ import annotations

import html
import re
import textwrap

import pytest
import yaml

from conftest import ROOT, page
from sitekit import datafiles, generate, schemas
from sitekit.errors import SiteError

GOOD = textwrap.dedent("""\
    - country: Testland
      service: Test Crisis Line
      kind: crisis
      contact: Call 12345.
      hours: Any time
      source: https://example.org/help
      checked: 2026-01-02
    - country: Testland
      service: Emergency services
      kind: emergency
      contact: Call 999.
      source:
        - https://example.org/emergency
        - https://example.org/more
      checked: 2026-01-03
    """)


def parse(text: str, tmp_path) -> list:
    path = tmp_path / "crisis_lines.yml"
    path.write_text(text, encoding="utf-8")
    return datafiles.validate(schemas.CrisisLines, path, "data/crisis_lines.yml").root


@pytest.fixture
def error_of(tmp_path):
    def error(text: str) -> str:
        with pytest.raises(SiteError) as exc:
            parse(text, tmp_path)
        return str(exc.value)
    return error


def test_good_entries_parse(tmp_path):
    lines = parse(GOOD, tmp_path)
    assert [(x.country, x.service, x.kind, x.contact, x.hours, x.source, x.checked) for x in lines] == [
        ("Testland", "Test Crisis Line", "crisis", "Call 12345.", "Any time", ["https://example.org/help"], "2026-01-02"),
        ("Testland", "Emergency services", "emergency", "Call 999.", "",
         ["https://example.org/emergency", "https://example.org/more"], "2026-01-03"),
    ]


@pytest.mark.parametrize("bad, line, message", [
    (GOOD.replace("  source: https://example.org/help\n", ""), 1, r"missing 'source'"),
    (GOOD.replace("  checked: 2026-01-02\n", ""), 1, r"missing 'checked'"),
    (GOOD.replace("checked: 2026-01-02", "checked: last week"), 7, r"must be a date"),
    (GOOD.replace("source: https://example.org/help", "source: http://example.org/help"), 6, r"https address"),
    (GOOD.replace("    - https://example.org/more", "    - see the website"), 14, r"https address"),
    (GOOD.replace("kind: crisis", "kind: hotline"), 3, r"'kind' must be one of emergency, crisis, drugs, directory"),
    (GOOD.replace("  hours: Any time\n", "  phone: 12345\n"), 5, r"unknown field 'phone'"),
    (GOOD.replace("contact: Call 12345.", "contact: ''"), 4, r"'contact' is empty"),
    (GOOD.replace("service: Emergency services", "service: Test Crisis Line"), 8, r"already listed \(entry 1\)"),
])
def test_bad_entry_names_its_line(error_of, bad, line, message):
    error = error_of(bad)
    assert error.startswith(f"data/crisis_lines.yml:{line}: "), error
    assert re.search(message, error), error


def test_every_problem_is_reported_together(error_of):
    bad = GOOD.replace("kind: crisis", "kind: hotline").replace("checked: 2026-01-03", "checked: soon")
    error = error_of(bad)
    assert "2 problems in all" in error
    assert "data/crisis_lines.yml:3:" in error and "data/crisis_lines.yml:15:" in error


def test_not_a_list_fails(error_of):
    assert error_of("country: Testland\n").startswith("data/crisis_lines.yml:1: must be a list")


def test_invalid_yaml_names_its_line(error_of):
    assert re.match(r"data/crisis_lines\.yml:2: not valid YAML", error_of("- country: Testland\n  service: a: b\n"))


def render(tmp_path, text: str) -> str:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "crisis_lines.yml").write_text(text, encoding="utf-8")
    return generate.render("crisis-lines", generate.Context(tmp_path, "docs/page.md", 3))


def test_table_escapes_text_and_links_every_source(tmp_path):
    out = render(tmp_path, GOOD.replace("Test Crisis Line", "Line <b>&</b> Co"))
    assert "\n" not in out
    assert "Line &lt;b&gt;&amp;&lt;/b&gt; Co" in out and "<b>&" not in out
    assert out.count('rowspan="2">Testland</th>') == 1  # the country cell spans its group
    for url in ("https://example.org/help", "https://example.org/emergency", "https://example.org/more"):
        assert f'href="{url}"' in out
    assert '<time datetime="2026-01-03">2026-01-03</time>' in out
    assert "Not stated" in out  # the second entry gives no hours


def test_registered_as_a_generator():
    assert "crisis-lines" in generate.REGISTRY


# --- tiny sites: the real build, the real hook ------------------------------

MARKER = page("Intro.\n\n<!-- generate: crisis-lines -->\n\nAfter.\n")


def test_tiny_site_renders_the_table(tiny):
    build = tiny({"index.md": MARKER}, files={"data/crisis_lines.yml": GOOD})
    assert build.ok, build.output
    out = build.html()
    assert "Test Crisis Line" in out and "Call 12345." in out and 'href="https://example.org/help"' in out


def test_tiny_site_bad_entry_fails_with_file_and_line(tiny):
    bad = GOOD.replace("  source: https://example.org/help\n", "")
    build = tiny({"index.md": MARKER}, files={"data/crisis_lines.yml": bad})
    assert not build.ok, build.output
    assert re.search(r"data/crisis_lines\.yml:1: service 'Test Crisis Line': missing 'source'", build.output), build.output
    assert "Traceback" not in build.output


def test_tiny_site_missing_data_file_fails(tiny):
    build = tiny({"index.md": MARKER})
    assert not build.ok, build.output
    assert "data/crisis_lines.yml: data file not found" in build.output


# --- the real site ----------------------------------------------------------

REAL = yaml.safe_load((ROOT / "data" / "crisis_lines.yml").read_text(encoding="utf-8"))


def test_real_file_is_valid_and_covers_the_required_places():
    lines = datafiles.validate(schemas.CrisisLines, ROOT / "data" / "crisis_lines.yml", "data/crisis_lines.yml").root
    countries = {x.country for x in lines}
    for place in ("United States", "United Kingdom", "Canada", "Australia", "Ireland", "New Zealand",
                  "European Union"):
        assert place in countries, place
    assert any(x.kind == "directory" for x in lines), "an international directory"
    assert any("112" in x.contact for x in lines if x.country == "European Union")
    assert any("988" in x.contact for x in lines if x.country == "United States")


def test_urgent_help_page_lists_every_entry(site):
    out = html.unescape(site.html("safety/urgent-help/index.html"))
    assert len(REAL) >= 10
    for entry in REAL:
        assert entry["service"] in out, entry["service"]
        assert entry["contact"] in out, entry["contact"]
        sources = entry["source"] if isinstance(entry["source"], list) else [entry["source"]]
        for url in sources:
            assert f'href="{url}"' in out, url
        assert f'<time datetime="{entry["checked"]}">' in out


def test_every_page_links_to_urgent_help(site):
    pages = [p for p in site.site.rglob("index.html") if "Urgent help:" in p.read_text(encoding="utf-8")]
    assert len(pages) > 40
    for path in pages:
        text = path.read_text(encoding="utf-8")
        if path.parent.name == "print":
            assert "Crisis lines in other countries: " in text and "safety/urgent-help/" in text
            continue
        match = re.search(r'<strong>Urgent help:</strong>.*?<a href="([^"]*)">Crisis lines in other countries</a>',
                          text, re.S)
        assert match, path
        target = (path.parent / match.group(1)).resolve()
        assert target == (site.site / "safety" / "urgent-help").resolve(), (path, match.group(1))
