"""Generated blocks (tables, timeline, figures, glossary) from data files.

Why: one source of truth for every number. Pages hold a marker line such as
``<!-- generate: timeline -->``; ``sitekit.generate`` replaces it with HTML
built from ``data/*.yml`` (every value there carries its citation key). Runs
after the page contract check and before citations are numbered.
"""

from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

from sitekit import generate
from sitekit.errors import SiteError
from sitekit.mkpage import body_line_offset, source_path


@event_priority(80)
def on_page_markdown(markdown, page, config, files):
    root = Path(config.config_file_path).parent
    try:
        return generate.expand(markdown, root, source_path(page, config), body_line_offset(page))
    except SiteError as exc:
        raise PluginError(str(exc)) from exc
