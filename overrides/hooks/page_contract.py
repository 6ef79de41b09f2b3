"""Page contract: front matter, Key points, no hand-written H1 or References.

Why: every page of a medical site must show readers a plain summary, its review
dates and its sources; a page that forgets one should not publish. The rules
live in ``sitekit.contract``; this hook only feeds it each page, first, before
anything rewrites the Markdown (so line numbers match the file).

It also dates the page by its ``reviewed`` front matter instead of the build
date, so the sitemap (``<lastmod>`` and the .gz timestamp) is the same whenever
the site is built (``sitekit.pagedate``).
"""

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

from sitekit.contract import check_page
from sitekit.pagedate import page_date
from sitekit.mkpage import body_line_offset, source_path
from sitekit.errors import SiteError, raise_all


@event_priority(100)
def on_page_markdown(markdown, page, config, files):
    try:
        path = source_path(page, config)
        raise_all(check_page(page.meta, markdown, path, body_line_offset(page), page.file.content_string))
    except SiteError as exc:
        raise PluginError(str(exc)) from exc
    page.update_date = page_date(page.meta)  # not the build date: builds are reproducible
    return markdown
