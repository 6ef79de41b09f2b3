"""Internal links: a broken link or #anchor fails the build as ``docs/page.md:LINE: ...``.

Why: MkDocs's own link validation (``validation:`` in mkdocs.yml) names the page but not the line, and
skips raw HTML links. ``sitekit.internal_links`` checks every relative link of each page's source with
its line. It runs in ``on_env``: by then every page is rendered, so every page's anchors are known.
MkDocs's validation stays on as well; it also sees links that hooks add to the rendered pages.
"""

import os

from mkdocs.exceptions import PluginError

from sitekit import internal_links
from sitekit.errors import SiteError, raise_all


def on_env(env, config, files):
    pages = [f for f in files.documentation_pages() if f.page is not None and f.page.content is not None]
    site = internal_links.Site(
        anchors={f.src_uri: internal_links.anchor_ids(f.page.content) for f in pages},
        files={f.src_uri for f in files},
        urls={f.url: f.src_uri for f in files},
    )
    root = os.path.dirname(config.config_file_path or ".")
    docs = os.path.relpath(config.docs_dir, root)
    errors = []
    for f in pages:
        path = os.path.relpath(f.abs_src_path, root) if f.abs_src_path else f.src_uri
        errors += internal_links.check_page(f.src_uri, f.url, f.content_string, site, path, docs)
    try:
        raise_all(errors)
    except SiteError as exc:
        raise PluginError(str(exc)) from exc
    return env
