"""Stable URLs: the build fails if a published URL would stop working.

Why: see ``sitekit.urls``. The list is ``extra.published_urls`` in mkdocs.yml
(``published-urls.txt``); redirects come from the mkdocs-redirects plugin's
``redirect_maps``, so moving a page means adding one line there.
"""

from __future__ import annotations

import os

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

from sitekit import urls
from sitekit.edition import EDITION_URL
from sitekit.errors import SiteError, raise_all


def on_files(files, config):
    name = config.extra.get("published_urls")
    if not name:
        return files
    path = os.path.join(os.path.dirname(config.config_file_path), name)
    try:
        with open(path, encoding="utf-8") as f:
            published = urls.read_published(f.read(), name)
        pages = {urls.site_path(f.url) for f in files.documentation_pages()} | {urls.site_path(EDITION_URL)}
        redirects = {}
        plugin = config.plugins.get("redirects")
        maps = plugin.config["redirect_maps"] if plugin is not None else {}
        for old, new in maps.items():
            old_url = urls.site_path(File(old, "", "", config.use_directory_urls).url)
            target = new if "://" in new else urls.site_path(File(new.split("#")[0], "", "", config.use_directory_urls).url)
            redirects[old_url] = target
        raise_all(urls.check(published, pages, redirects, name))
    except OSError as exc:
        raise PluginError(f"{name}: cannot read the list of published URLs ({exc})") from exc
    except SiteError as exc:
        raise PluginError(str(exc)) from exc
    return files
