"""Generated blocks (tables, timeline, figures, glossary) and named facts from data files.

Why: one source of truth for every number. Pages hold a marker line such as
``<!-- generate: timeline -->``; ``sitekit.generate`` replaces it with HTML
built from ``data/*.yml`` (every value there carries its citation key). Then
``sitekit.facts`` replaces ``{{fact:NAME}}`` (in the page or in the generated
data text) with the fact from ``data/facts.yml`` and its citation. Runs after
the page contract check and before citations are numbered.
"""

from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

from sitekit import bibfile, facts, generate
from sitekit.errors import SiteError
from sitekit.mkpage import body_line_offset, source_path


_bib_keys: frozenset = frozenset()
_facts: dict = {}


def on_config(config):
    """Data files cite references.bib keys; know them so a bad key names the data file's line."""
    global _bib_keys, _facts
    root = Path(config.config_file_path).parent
    bib = root / config.extra.get("bibtex", {}).get("bib_file", "references.bib")
    try:
        _bib_keys = bibfile.keys(bib.read_text(encoding="utf-8"))
    except OSError:
        _bib_keys = frozenset()  # the citations hook reports a missing bibliography
    try:
        _facts = facts.load(root / "data" / "facts.yml", "data/facts.yml", _bib_keys or None)
        facts.check_data_files(root / "data", _facts)
    except SiteError as exc:
        raise PluginError(str(exc)) from exc
    return config


@event_priority(80)
def on_page_markdown(markdown, page, config, files):
    root = Path(config.config_file_path).parent
    path, offset = source_path(page, config), body_line_offset(page)
    try:
        markdown = generate.expand(markdown, root, path, offset, page.url, _bib_keys)
        return facts.expand(markdown, _facts, path, offset)
    except SiteError as exc:
        raise PluginError(str(exc)) from exc
