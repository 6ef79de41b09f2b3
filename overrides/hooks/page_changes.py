"""What changed: each page's dated ``changes`` list checked, the What's new page and the Atom feed.

Why: see ``sitekit.changes`` (the logic, plain functions). This hook checks each
page's list (errors name the file and line), adds ``feed.xml`` to the build's
files and dates the offline edition, from front matter only. (The What's new page
is the ``whats-new`` generator of ``sitekit.generate``.)
"""

from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

from sitekit import changes
from sitekit.errors import raise_all, SiteError
from sitekit.metadata import AUTHOR
from sitekit.mkpage import source_path

WHATS_NEW_URL = "about/whats-new/"


@event_priority(99)  # just after the page contract
def on_page_markdown(markdown, page, config, files):
    try:
        raise_all(changes.check(page.meta, page.file.content_string, source_path(page, config)))
    except SiteError as exc:
        raise PluginError(str(exc)) from exc
    return markdown


def on_files(files, config):
    """The feed is a file of the build (so links to it are checked, and `make serve` serves it)."""
    feed = changes.atom_feed(changes.collect(Path(config.docs_dir)), site_url=config.site_url or "/",
                             site_name=config.site_name, author=AUTHOR, whats_new_url=WHATS_NEW_URL)
    files.append(File.generated(config, changes.FEED_FILE, content=feed))
    return files


def on_env(env, config, files):
    """The latest change of any page dates the offline edition in every page's footer (404 included)."""
    dates = [c.date for p in changes.collect(Path(config.docs_dir)) for c in p.changes]
    env.globals["site_last_change"] = max(dates) if dates else None
    return env
