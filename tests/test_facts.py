"""Single-source facts: data/facts.yml and ``{{fact:NAME}}`` (sitekit.facts).

Unit tests pin the parser and the expansion; tiny sites prove that an unknown
name, in a page or in a data file, and a malformed facts file fail the real
build with ``file:line``; the real site proves every fact's text appears on the
pages that use it, so no page can carry a copy that disagrees.
"""

from __future__ import annotations

import html
import re
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT, page
from sitekit import facts
from sitekit.errors import SiteError

KEYS = frozenset({"smith2020ketamine", "jones2021second", "brown2022third", "green2023fourth"})

FACTS = textwrap.dedent("""\
    # test facts
    approval:
      text: The drug was approved in 1970
      cite: [smith2020ketamine]
      checked: 2026-12-06
    trial:
      text: In the trial, 63% improved with one treatment and 46% with the other
      cite: [jones2021second, brown2022third]
      checked: "2026-11-30"
    """)


def parsed(text: str = FACTS) -> dict[str, facts.Fact]:
    return facts.parse(text, "data/facts.yml", KEYS)


def error_of(fn, *args) -> str:
    with pytest.raises(SiteError) as info:
        fn(*args)
    return str(info.value)


# --- parsing ---------------------------------------------------------------

def test_facts_file_is_parsed_with_its_lines_and_dates():
    got = parsed()
    assert list(got) == ["approval", "trial"]
    assert got["approval"].line == 2 and got["trial"].line == 6
    assert got["trial"].cite == ("jones2021second", "brown2022third")
    assert str(got["approval"].checked) == "2026-12-06" and str(got["trial"].checked) == "2026-11-30"


def test_missing_or_empty_facts_file_means_no_facts(tmp_path):
    assert facts.load(tmp_path / "facts.yml") == {}
    assert facts.parse("# nothing yet\n") == {}


BAD_FACTS = [
    ("approval:\n  text: x\n  checked: 2026-12-06\n", r"data/facts\.yml:1: fact 'approval': missing 'cite'"),
    ("approval:\n  cite: [smith2020ketamine]\n  checked: 2026-12-06\n", r"data/facts\.yml:1: fact 'approval': missing 'text'"),
    ("approval:\n  text: x\n  cite: [smith2020ketamine]\n", r"data/facts\.yml:1: fact 'approval': missing 'checked'"),
    ("approval:\n  text: x\n  cite: [nobody1999x]\n  checked: 2026-12-06\n", r"data/facts\.yml:3: .*unknown citation key\(s\) nobody1999x"),
    ("approval:\n  text: x\n  cite: []\n  checked: 2026-12-06\n", r"data/facts\.yml:3: .*non-empty list"),
    ("approval:\n  text: x\n  cite: [smith2020ketamine]\n  checked: last week\n", r"data/facts\.yml:4: .*ISO date"),
    ("approval:\n  text: x\n  cite: [smith2020ketamine]\n  checked: 2026-12-06\n  source: web\n", r"data/facts\.yml:5: .*unknown field 'source'"),
    ("Approval Date:\n  text: x\n  cite: [smith2020ketamine]\n  checked: 2026-12-06\n", r"data/facts\.yml:1: fact name 'Approval Date'"),
    ("approval:\n  text: Approved [@smith2020ketamine]\n  cite: [smith2020ketamine]\n  checked: 2026-12-06\n", r"data/facts\.yml:2: .*must not contain a citation"),
    ("approval:\n  text: Approved <b>1970</b>\n  cite: [smith2020ketamine]\n  checked: 2026-12-06\n", r"data/facts\.yml:2: .*must not contain markup"),
    ("approval:\n  text: Approved in 1970.\n  cite: [smith2020ketamine]\n  checked: 2026-12-06\n", r"data/facts\.yml:2: .*full stop"),
    (FACTS + "approval:\n  text: again\n  cite: [smith2020ketamine]\n  checked: 2026-12-06\n", r"data/facts\.yml:10: fact 'approval' is defined twice \(first at line 2\)"),
    ("- text: a list, not a mapping\n", r"data/facts\.yml:1: expected a mapping"),
    ("approval: [1, 2\n", r"data/facts\.yml:2: not valid YAML"),
    ("approval: just text\n", r"data/facts\.yml:1: fact 'approval' must be a mapping"),
]


@pytest.mark.parametrize("text,expected", BAD_FACTS)
def test_bad_facts_file_names_the_line(text, expected):
    assert re.search(expected, error_of(parsed, text))


def test_every_problem_in_the_facts_file_is_reported_together():
    text = "a:\n  text: x\n  checked: 2026-12-06\nb:\n  text: y\n  cite: [smith2020ketamine]\n"
    message = error_of(parsed, text)
    assert "data/facts.yml:1" in message and "data/facts.yml:4" in message and "2 problems" in message


# --- expansion ---------------------------------------------------------------

def test_token_becomes_text_and_citation():
    out = facts.expand("Intro.\n\n{{fact:approval}}.\n", parsed(), "docs/p.md")
    assert out == "Intro.\n\nThe drug was approved in 1970 [@smith2020ketamine].\n"


def test_spaces_inside_the_token_are_allowed():
    assert facts.expand("{{ fact: approval }}.", parsed(), "p.md") == "The drug was approved in 1970 [@smith2020ketamine]."


def test_a_following_citation_is_merged_without_repeating_a_key():
    got = parsed()
    assert facts.expand("{{fact:trial}} [@brown2022third; @green2023fourth]", got, "p.md") == (
        "In the trial, 63% improved with one treatment and 46% with the other "
        "[@jones2021second; @brown2022third; @green2023fourth]")
    # the shape a generated table cell has: escaped text, then the data value's own citation
    cell = "<td>{{fact:approval}} [@smith2020ketamine]</td>"
    assert facts.expand(cell, got, "p.md") == "<td>The drug was approved in 1970 [@smith2020ketamine]</td>"
    # generated timeline text: token, full stop, then the entry's citation -> one citation before the stop
    para = "<p>{{fact:approval}}. [@green2023fourth]</p>"
    assert facts.expand(para, got, "p.md") == "<p>The drug was approved in 1970 [@smith2020ketamine; @green2023fourth].</p>"
    # a full stop with no citation after it stays where it is
    assert facts.expand("{{fact:approval}}. Next.", got, "p.md") == "The drug was approved in 1970 [@smith2020ketamine]. Next."


def test_code_and_comments_are_left_verbatim():
    text = textwrap.dedent("""\
        Write `{{fact:approval}}` in a page.

        ```markdown
        {{fact:approval}}
        ```

        <!-- {{fact:nowhere}} -->
        {{fact:approval}}.
        """)
    out = facts.expand(text, parsed(), "p.md")
    assert "`{{fact:approval}}`" in out
    assert "```markdown\n{{fact:approval}}\n```" in out
    assert "<!-- {{fact:nowhere}} -->" in out
    assert out.endswith("The drug was approved in 1970 [@smith2020ketamine].\n")


def test_unknown_fact_names_the_page_line_and_a_close_match():
    message = error_of(facts.expand, "Title\n\nText {{fact:aproval}}.\n", parsed(), "docs/safety/x.md", 4)
    assert message.startswith("docs/safety/x.md:7: unknown fact 'aproval'")
    assert "did you mean 'approval'" in message


def test_all_unknown_facts_on_a_page_are_reported_together():
    message = error_of(facts.expand, "{{fact:one}}\n\n{{fact:two}}\n", parsed(), "p.md")
    assert "p.md:1" in message and "p.md:3" in message and "2 problems" in message


def test_unknown_fact_in_a_data_file_names_that_file_and_line(tmp_path):
    (tmp_path / "timeline.yml").write_text("- date: 1970\n  title: T\n  text: \"{{fact:nope}}\"\n", encoding="utf-8")
    (tmp_path / "facts.yml").write_text("ignored: {{fact:also_ignored}}\n", encoding="utf-8")
    message = error_of(facts.check_data_files, tmp_path, parsed())
    assert message.startswith("data/timeline.yml:3: unknown fact 'nope'")
    facts.check_data_files(tmp_path, {**parsed(), "nope": parsed()["approval"]})  # known name: no error


def test_names_used_skips_code():
    assert facts.names_used("`{{fact:a}}`\n{{fact:b}} and {{fact:c}}\n") == [("b", 2), ("c", 2)]


# --- tiny sites: the real build -------------------------------------------------

def test_fact_in_a_page_is_rendered_with_its_citation(tiny):
    build = tiny({"index.md": page("Opening.\n\n{{fact:approval}}.\n")}, files={"data/facts.yml": FACTS})
    assert build.ok, build.output
    body = build.html()
    assert "The drug was approved in 1970" in body and "{{fact" not in body
    assert re.search(r'approved in 1970\s*<sup class="citation"', body)


def test_fact_inside_data_file_text_is_expanded(tiny):
    timeline = "- date: 1970\n  title: Approval\n  text: \"{{fact:approval}}.\"\n  cite: [smith2020ketamine]\n"
    build = tiny({"index.md": page("Intro.\n\n<!-- generate: timeline -->\n")},
                 files={"data/facts.yml": FACTS, "data/timeline.yml": timeline})
    assert build.ok, build.output
    body = build.html()
    assert "The drug was approved in 1970" in body and "{{fact" not in body


def test_unknown_fact_in_a_page_fails_the_build_with_file_and_line(tiny):
    build = tiny({"index.md": page("Opening.\n\nLater {{fact:approvel}}.\n")}, files={"data/facts.yml": FACTS})
    assert not build.ok
    # front matter (6 lines) + key points (6) + blank + "Opening." + blank -> line 16
    assert re.search(r"docs/index\.md:16: unknown fact 'approvel'.*did you mean 'approval'", build.output), build.output


def test_unknown_fact_without_a_facts_file_fails(tiny):
    build = tiny({"index.md": page("{{fact:approval}}.\n")})
    assert not build.ok and re.search(r"docs/index\.md:\d+: unknown fact 'approval'", build.output), build.output


def test_bad_facts_file_fails_the_build_with_its_line(tiny):
    bad = FACTS.replace("checked: \"2026-11-30\"", "checked: soon")
    build = tiny({"index.md": page("{{fact:approval}}.\n")}, files={"data/facts.yml": bad})
    assert not build.ok
    assert re.search(r"data/facts\.yml:9: fact 'trial': 'checked' must be an ISO date", build.output), build.output


def test_unknown_fact_in_a_data_file_fails_the_build_at_the_data_line(tiny):
    timeline = "- date: 1970\n  title: Approval\n  text: \"{{fact:nothing}}.\"\n  cite: [smith2020ketamine]\n"
    build = tiny({"index.md": page("<!-- generate: timeline -->\n")},
                 files={"data/facts.yml": FACTS, "data/timeline.yml": timeline})
    assert not build.ok
    assert re.search(r"data/timeline\.yml:3: unknown fact 'nothing'", build.output), build.output


# --- the real site ---------------------------------------------------------------

def _plain(markup: str) -> str:
    """Visible text: tags removed (abbreviations, citations), entities decoded, spaces collapsed."""
    text = re.sub(r"<sup class=\"citation\".*?</sup>", " ", markup, flags=re.S)
    text = re.sub(r"<[^>]+>", "", text)
    return " ".join(html.unescape(text).split())


def _real_facts() -> dict[str, facts.Fact]:
    return facts.load(ROOT / "data" / "facts.yml")


def _page_html(site, source: Path) -> str:
    rel = source.relative_to(ROOT / "docs").with_suffix("")
    url = "index.html" if rel.name == "index" and rel.parent == Path(".") else (
        f"{rel.parent}/index.html" if rel.name == "index" else f"{rel}/index.html")
    return site.html(url)


def test_real_facts_file_is_valid_and_every_fact_is_used(site):
    real = _real_facts()
    assert len(real) >= 25
    used = set()
    for path in [*sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "data").glob("*.yml"))]:
        if path.name != "facts.yml":
            used |= {name for name, _ in facts.names_used(path.read_text(encoding="utf-8"))}
    assert used - set(real) == set()
    assert set(real) - used == set(), "facts nobody uses should be removed from data/facts.yml"


def test_every_fact_appears_word_for_word_on_the_pages_that_use_it(site):
    real, checked = _real_facts(), 0
    for source in sorted((ROOT / "docs").rglob("*.md")):
        names = {name for name, _ in facts.names_used(source.read_text(encoding="utf-8"))}
        if not names:
            continue
        body = _plain(_page_html(site, source))
        for name in sorted(names):
            assert _plain(real[name].text) in body, f"{source.relative_to(ROOT)}: fact '{name}' missing from the HTML"
            checked += 1
    all_html = " ".join(_plain(p.read_text(encoding="utf-8")) for p in site.site.rglob("index.html"))
    for path in sorted((ROOT / "data").glob("*.yml")):
        if path.name == "facts.yml":
            continue
        for name, _ in facts.names_used(path.read_text(encoding="utf-8")):
            assert _plain(real[name].text) in all_html, f"data/{path.name}: fact '{name}' not rendered anywhere"
            checked += 1
    assert checked >= 40
    # no token survives outside code (the Contributing page shows the syntax in code spans)
    for page_html in site.site.rglob("index.html"):
        outside_code = re.sub(r"<code\b.*?</code>", "", page_html.read_text(encoding="utf-8"), flags=re.S)
        assert "{{fact" not in outside_code, page_html


def test_contributing_example_is_a_real_fact():
    """The YAML example in CONTRIBUTING.md is copied from data/facts.yml, so it cannot go stale."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    example = re.search(r"^```yaml\n(.*?)^```", text, re.S | re.M).group(1)
    shown = facts.parse(example)
    (name, fact), = shown.items()
    real = _real_facts()[name]
    assert (fact.text, fact.cite, fact.checked) == (real.text, real.cite, real.checked)
    assert f"`{{{{fact:{name}}}}}.`" in text
