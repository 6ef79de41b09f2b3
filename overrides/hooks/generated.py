"""Generated blocks (tables, timeline, figures, glossary) from data files.

Why: one source of truth for every number. Pages hold a marker line such as
``<!-- generate: timeline -->``; ``sitekit.generate`` replaces it with HTML
built from ``data/*.yml`` (every value there carries its citation key). Runs
after the page contract check and before citations are numbered.
"""

from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

from sitekit import bibfile, generate
from sitekit.errors import SiteError
from sitekit.mkpage import body_line_offset, source_path


_bib_keys: frozenset = frozenset()


def on_config(config):
    """Data files cite references.bib keys; know them so a bad key names the data file's line."""
    global _bib_keys
    bib = Path(config.config_file_path).parent / config.extra.get("bibtex", {}).get("bib_file", "references.bib")
    try:
        _bib_keys = bibfile.keys(bib.read_text(encoding="utf-8"))
    except OSError:
        _bib_keys = frozenset()  # the citations hook reports a missing bibliography
    return config


@event_priority(80)
def on_page_markdown(markdown, page, config, files):
    root = Path(config.config_file_path).parent
    try:
        return generate.expand(markdown, root, source_path(page, config), body_line_offset(page),
                               page.url, _bib_keys)
    except SiteError as exc:
        raise PluginError(str(exc)) from exc
