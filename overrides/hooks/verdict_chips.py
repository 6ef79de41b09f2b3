"""Verdicts on claims shown as chips: an icon, the word, and a colour.

Why: the claims page judges each claim with a line such as
``**Verdict: Partly supported.**``. Readers scan for the verdict, and colour
alone must never carry it (WCAG 1.4.1), so ``sitekit.visuals.chip_markdown``
turns the verdict word into a chip with an icon and the word itself; the rest
of the line is left as written. A verdict that does not start with one of the
four words fails the build at its line. Runs before Markdown is rendered.
"""

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

from sitekit import visuals
from sitekit.errors import SiteError
from sitekit.mkpage import body_line_offset, source_path


@event_priority(70)  # after generated blocks (80), before citations
def on_page_markdown(markdown, page, config, files):
    if "**Verdict:" not in markdown:
        return markdown
    try:
        return visuals.chip_markdown(markdown, source_path(page, config), body_line_offset(page))
    except SiteError as exc:
        raise PluginError(str(exc)) from exc
