"""Unit tests of the engine-independent logic in overrides/hooks/sitekit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sitekit import bibfile, cite, contract, generate, mdscan, nav
from sitekit.errors import SiteError


# --- mdscan -----------------------------------------------------------------

def spans_text(md: str) -> list[str]:
    p = mdscan.protected(md)
    return [md[s:e] for s, e in p.spans]


def test_protected_spans():
    md = "a `x [@k]` b ``y ` z`` c\n\n```py\n[@k]\n```\n\n<!-- [@k] -->\n~~~~\n```\n~~~\n~~~~\nend"
    texts = spans_text(md)
    assert "`x [@k]`" in texts and "``y ` z``" in texts
    assert "```py\n[@k]\n```\n" in texts
    assert "<!-- [@k] -->" in texts
    assert "~~~~\n```\n~~~\n~~~~\n" in texts  # a shorter or different fence does not close


def test_inline_code_does_not_cross_paragraphs():
    md = "a stray ` here\n\nand [@k] is not code `x`"
    assert "[@k]" not in "".join(spans_text(md))


def test_unclosed_fence_protects_to_end():
    md = "text\n```\n[@k]\n"
    assert spans_text(md) == ["```\n[@k]\n"]


def test_escaped_backtick_is_not_code():
    assert spans_text(r"a \` b [@k] `c`") == ["`c`"]


# --- cite -------------------------------------------------------------------

@pytest.mark.parametrize("md,expected", [
    ("x [@a] y", [["a"]]),
    ("x [@a; @b-2] y", [["a", "b-2"]]),
    ("x [@a, p. 4;@b] y", [["a", "b"]]),
    ("[link](http://x) ![img](z) [^1] [x]: y [me@example.org]", []),
    ("mail [me@example.org] or [@]", "error"),
    ("[@a.b]", "error"),
])
def test_find_groups(md, expected):
    if expected == "error":
        with pytest.raises(SiteError):
            cite.find_groups(md, "p.md")
    else:
        assert [[c.key for c in g.cites] for g in cite.find_groups(md, "p.md")] == expected


def test_locators():
    (g,) = cite.find_groups("[@a, p. 4; @b, pp. 10 - 12; @c, table 2]", "p.md")
    assert [c.locator for c in g.cites] == ["p. 4", "pp. 10 - 12", "table 2"]
    assert [cite.format_locator(c.locator) for c in g.cites] == ["p4", "pp10-12", "table 2"]
    assert [cite.format_locator(x) for x in ("page 7", "p12", "pp. 3, 5", "para 3", "part 2")] == \
        ["p7", "p12", "pp3, 5", "para 3", "part 2"]


def test_email_in_brackets_is_not_a_citation():
    assert cite.find_groups("[write to me@example.org]", "p.md") == []


def _refs(*keys):
    return {k: cite.Reference(key=k, html=f"Ref {k}.", evidence="rct", doi=f"10.1000/{k}") for k in keys}


def render(md: str, refs=None, keys="abcde"):
    """A page through the whole citation path: find, tokenize, Markdown, place, fill."""
    import markdown as pymarkdown

    refs = refs or _refs(*keys)
    page = cite.tokenize(md, cite.find_groups(md, "p.md"), refs, "p.md")
    html = pymarkdown.markdown(page.markdown, extensions=["attr_list", "toc", "footnotes"])
    placed = cite.place(html, page, "p.md")
    return page, placed, cite.fill_page(cite.hide_tokens(placed), page, refs, "../references/", "../legend/", "p.md")


def test_render_ranges_and_duplicates():
    import re
    md = "[@a] [@b] [@c] [@d] [@e]. Then [@e; @a; @b; @c; @a]."
    page, _, html = render(md)
    assert re.sub(r"<[^>]+>", "", page.superscripts[5]) == "1–3,5"
    assert page.markdown.count("\u2063") == 7 and "## References {#references}" in page.markdown


def test_fill_page_replaces_placeholders_and_detects_lost_citations():
    md = "One [@a]. Two [@b; @a]."
    page, placed, out = render(md)
    assert "One <!--\u20630\u2064-->." in cite.hide_tokens(placed)
    assert "\u2063" not in out and "\u2064" not in out
    assert out.count('<li id="ref-') == 2 and '<sup class="citation" id="cite-2">' in out
    import markdown as pymarkdown
    lost = pymarkdown.markdown(page.markdown).replace("\u20631\u2064", "")
    with pytest.raises(SiteError, match=r"p\.md:1: citation \[@b; @a\] did not survive"):
        cite.place(lost, page, "p.md")


def test_numbers_follow_the_reading_order_and_code_stays_verbatim():
    md = "Para [@b].\n\n    indented code [@a]\n\nText [@a][^n].\n\n[^n]: A note [@c].\n"
    page, _, html = render(md)
    assert page.numbers == {"b": 1, "a": 2, "c": 3}
    assert "<pre><code>indented code [@a]\n</code></pre>" in html


def test_a_page_whose_only_citation_is_code_has_no_references():
    _, _, html = render("Text.\n\n    code [@a]\n")
    assert 'id="references"' not in html and "code [@a]" in html


@pytest.mark.parametrize("md,message", [
    ("x [@a][@b]", r"p\.md:1: citation \[@a\] followed by '\['"),
    ("[-@a]", r"\[-@a\] \(author left out\) is not supported"),
    ("[@a](https://example.org)", r"a citation cannot be a link"),
    ("[text][@a]", r"right after '\]'"),
    ("*[HTML]: Hyper text [@a]\n", r"in an abbreviation definition"),
])
def test_citation_syntax_that_cannot_work_fails_with_the_line(md, message):
    with pytest.raises(SiteError, match=message):
        cite.find_groups(md, "p.md")


@pytest.mark.parametrize("md,message", [
    ("[see [@a]](https://example.org)", r"p\.md:1: citation \[@a\] is inside a link's text"),
    ("![alt [@a]](image.png)", r"p\.md:1: citation \[@a\] is inside an HTML attribute"),
    ('[x](https://example.org "title [@a]")', r"inside an HTML attribute"),
])
def test_citation_where_markdown_cannot_show_it_fails_with_the_line(md, message):
    with pytest.raises(SiteError, match=message):
        render(md)


def test_footnote_then_citation_is_supported():
    _, _, html = render("Text[^n][@a].\n\n[^n]: A note.\n")
    assert '<sup class="citation" id="cite-1">' in html and 'href="#fn:n"' in html


def test_unknown_key_names_line():
    md = "one\ntwo [@zzz]\n"
    groups = cite.find_groups(md, "docs/p.md", line_offset=10)
    with pytest.raises(SiteError, match=r"docs/p\.md:12: unknown citation key 'zzz'"):
        cite.tokenize(md, groups, _refs("a"), "docs/p.md")


def test_fill_cited_on():
    html = '<span class="cited-on" data-key="a"></span><span class="cited-on" data-key="b"></span>'
    out = cite.fill_cited_on(html, {"a": [("../x/", "X & Y")]})
    assert 'Cited on: <a href="../x/">X &amp; Y</a>' in out and "Not cited on any page." in out


# --- bibfile ----------------------------------------------------------------

def test_bib_parse_reports_lines():
    text = "% comment\n@article{a2020x,\n  title = {T},\n  year = 2020,\n}\n@comment{ignored}\n@misc{b,\n title = \"Q {x}\"}"
    a, b = bibfile.parse(text)
    assert (a.key, a.line, a.get("year"), a.line_of("title")) == ("a2020x", 2, "2020", 3)
    assert b.get("title") == "Q {x}"


@pytest.mark.parametrize("text,message", [
    ("@article{a2020x, title = {T}", "never closed"),
    ("@article{a2020x title = {T}}", "expected ','"),
    ("@article{a2020x, title {T}}", "expected '='"),
    ("@article{a2020x, title = {T}, title = {U}}", "appears twice"),
    ("@weird{a2020x, title = {T}}", "unknown entry type"),
    ("@article{a2020x, title = {T}\n@article{b, title={U}}", "not closed before the next entry"),
])
def test_bib_parse_errors(text, message):
    with pytest.raises(SiteError, match=message):
        bibfile.parse(text)


@pytest.mark.parametrize("author,title,year,short,key", [
    ("Zarate, Jr, C. A. and Singh, J. B.", "A randomized trial of an {NMDA} antagonist", "2006", "", "zarate2006randomized"),
    ("M{\\\"u}ller, J.", "The {\\\"U}ber study", "2019", "", "muller2019uber"),
    ("Carlos A. Zarate", "Ketamine", "2006", "", "zarate2006ketamine"),
    ("{U.S. Food and Drug Administration}", "{FDA} warns patients", "2023", "fda", "fda2023warns"),
    ("van der Berg, A.", "On ketamine", "2001", "", "vanderberg2001on"),
    ("O'Brien, K.", "Ketamine", "2010", "", "obrien2010ketamine"),
])
def test_expected_key(author, title, year, short, key):
    fields = {"author": author, "title": title, "year": year, "shortauthor": short}
    entry = bibfile.Entry("article", key, 1, {k: bibfile.Field(k, v, 1) for k, v in fields.items() if v})
    assert bibfile.expected_key(entry) == key
    assert bibfile.key_convention_error(entry) is None


def test_plain_ascii():
    assert bibfile.plain_ascii("Garc{\\'i}a {\\o}ster \\ss Þórr").split() == ["garcia", "oster", "ss", "orr"]
    assert bibfile.plain_ascii("Müller–Lyer").split() == ["muller", "lyer"]
    assert bibfile.plain_ascii("Long-term R-ketamine's").split() == ["longterm", "rketamines"]


# --- contract ---------------------------------------------------------------

GOOD_META = {"title": "T", "description": "D", "reviewed": dt.date(2026, 1, 1), "next_review": dt.date(2027, 1, 1)}
POINTS = '!!! abstract "Key points"\n\n    - One thing.\n    - Two things\n      wrap here.\n    - Three.\n\nBody\n'


def test_contract_accepts_a_good_page():
    assert contract.check_page(GOOD_META, POINTS, "p.md", 6) == []
    points, _ = contract.key_points(POINTS)
    assert points == ["One thing.", "Two things wrap here.", "Three."]


def test_contract_rejects_citation_in_key_points():
    body = POINTS.replace("Three.", "Three [@a].")
    assert any("without citations" in e.message for e in contract.check_page(GOOD_META, body, "p.md", 6))


def test_contract_ignores_headings_in_code():
    body = POINTS + "\n```\n# not a heading\n## References\n```\n"
    assert contract.check_page(GOOD_META, body, "p.md", 6) == []


def test_contract_rejects_a_script_in_a_page_but_not_in_code():
    body = POINTS + "\nText <SCRIPT>alert(1)</SCRIPT>\n\n```html\n<script>shown()</script>\n```\n"
    errors = contract.check_page(GOOD_META, body, "p.md", 6)
    assert [(e.line, e.message.split(":")[0]) for e in errors] == [(6 + 10, "do not write <script> in a page")]


# --- nav --------------------------------------------------------------------

def test_nav_sections(tmp_path: Path):
    docs = tmp_path / "docs"
    (docs / "s" / "sub").mkdir(parents=True)
    (docs / "s" / "index.md").write_text("---\ntitle: S\n---\n")
    (docs / "s" / "b.md").write_text("---\ntitle: Beta\n---\n")
    (docs / "s" / "a.md").write_text("---\ntitle: Zed\norder: 1\n---\n")
    (docs / "s" / "sub" / "index.md").write_text("---\ntitle: Sub\n---\n")
    (docs / "s" / "sub" / "c.md").write_text("---\ntitle: C\n---\n")
    out = nav.expand([{"Home": "index.md"}, {"S": "s/"}], docs)
    assert out == [{"Home": "index.md"}, {"S": ["s/index.md", "s/a.md", "s/b.md", {"Sub": ["s/sub/index.md", "s/sub/c.md"]}]}]
    with pytest.raises(SiteError, match="does not exist"):
        nav.expand([{"X": "missing/"}], docs)


# --- generate ---------------------------------------------------------------

def test_glossary_file_errors(tmp_path: Path):
    f = tmp_path / "abbr.md"
    f.write_text("*[A]: One.\n\nnot a definition\n")
    with pytest.raises(SiteError, match=r"abbr\.md:3: expected"):
        generate.read_glossary(f, "abbr.md")
    f.write_text("*[A]: One.\n\n*[A]: Two.\n")
    with pytest.raises(SiteError, match=r"abbr\.md:3: 'A' is already defined on line 1"):
        generate.read_glossary(f, "abbr.md")
    f.write_text("<!-- a comment\nover two lines -->\n*[trial]: A study.\n\n*[trials]: Studies.\n")
    with pytest.raises(SiteError, match=r"abbr\.md:5: 'trials' is the plural of 'trial' \(line 3\)"):
        generate.read_glossary(f, "abbr.md")


def test_generator_markers_in_code_are_left_alone(tmp_path: Path):
    md = "```\n<!-- generate: nope -->\n```\n"
    assert generate.expand(md, tmp_path, "p.md", 0) == md
    with pytest.raises(SiteError, match=r"p\.md:3: unknown generator"):
        generate.expand("a\n\n<!-- generate: nope -->\n", tmp_path, "p.md", 0)


def test_citation_in_a_heading_is_an_error():
    with pytest.raises(SiteError, match=r"p\.md:2: citation \[@a\] in a heading"):
        cite.find_groups("Text.\n## Results [@a]\n", "p.md")


def test_citation_before_a_colon_is_a_citation_but_a_link_definition_is_not():
    groups = cite.find_groups("Trials [@a]: results.\n\n[@b]: https://example.org\n", "p.md")
    assert [[c.key for c in g.cites] for g in groups] == [["a"]]


# --- glossary tooltips ---------------------------------------------------------

def test_fast_tooltips_match_what_the_abbr_extension_matches():
    import markdown

    from sitekit.mdabbr import FastAbbreviations, terms_pattern

    glossary = {"NMDA": "A receptor.", "NMDAR": "The NMDA receptor.", "NMDA receptor": "A glutamate receptor.",
                "RCT": "A trial.", "RCTs": "Trials.", "C++": "A language.", "side effect": "An effect."}
    source = ("NMDA, NMDAR and the NMDA receptor; NMDAs is no term. Two RCTs and one RCT.\n\n"
              "*Side effects* and a side effect; C++ code, `NMDA` in code.\n")
    standard = markdown.markdown(source, extensions=["abbr"], extension_configs={"abbr": {"glossary": glossary}})
    fast = markdown.markdown(source, extensions=["abbr", FastAbbreviations()],
                             extension_configs={"abbr": {"glossary": glossary}})
    assert fast == standard
    assert '<abbr title="A glutamate receptor.">NMDA receptor</abbr>' in fast and "NMDAs" in fast
    assert terms_pattern(frozenset({"NMDA", "NMDAR"})).pattern == r"\bNMDA(?:R)?\b"
    with pytest.raises(ValueError, match="needs the 'abbr' extension"):
        markdown.markdown("x", extensions=[FastAbbreviations()])


def test_hidden_tokens_keep_paragraph_markup_around_inline_citations():
    _, placed, _ = render("[@a] opens a paragraph.\n")
    hidden = cite.hide_tokens(placed)
    assert hidden.count("<p>") == hidden.count("</p>") == 1 and "<!--\u20630\u2064--> opens a paragraph." in hidden
    assert hidden.endswith("<!--\u2063R\u2064-->")  # the list's token replaces its whole paragraph


def test_an_authors_html_comment_is_not_taken_for_a_citation():
    page, placed, out = render("One [@a].\n\n<!--cite 0--> <!--references-->\n")
    assert "<!--cite 0-->" in out and "<!--references-->" in out and out.count('<sup class="citation"') == 1
    assert out.count('<ol class="references">') == 1


def test_fill_page_fails_when_a_later_step_dropped_a_hidden_citation():
    """A plugin or hook after the site's own may change the page before its citations are filled in
    (its change is kept); one that drops HTML comments would make citations vanish, so that fails."""
    page, placed, _ = render("One [@a]. Two [@b].\n")
    hidden = cite.hide_tokens(placed)
    kept = cite.fill_page(hidden.replace("Two", "Two (changed later)"), page, _refs("a", "b"), "r/", "l/", "p.md")
    assert "Two (changed later)" in kept and kept.count('<sup class="citation"') == 2
    for dropped in (hidden.replace("<!--\u20631\u2064-->", ""), hidden.replace("<!--\u2063R\u2064-->", "")):
        with pytest.raises(SiteError, match=r"^p\.md: 1 citation\(s\) or the reference list were removed"):
            cite.fill_page(dropped, page, _refs("a", "b"), "r/", "l/", "p.md")


@pytest.mark.parametrize("key,ok", [("lee2020bad", True), ("lee2020bad-b", True), ("lee2020bad-z", True),
                                    ("lee2020bad-a", False), ("lee2020bad-bb", False), ("lee2020badly", False),
                                    ("lee2020bad-", False), ("lee2020ba", False)])
def test_key_convention_allows_only_a_clash_suffix(key, ok):
    fields = {"author": "Lee, A.", "title": "Bad news", "year": "2020"}
    entry = bibfile.Entry("article", key, 1, {k: bibfile.Field(k, v, 1) for k, v in fields.items()})
    assert (bibfile.key_convention_error(entry) is None) is ok
