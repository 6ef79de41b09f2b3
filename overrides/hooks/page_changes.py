"""What changed: each page's dated ``changes`` list checked, the What's new page and the Atom feed.

Why: see ``sitekit.changes`` (the logic, plain functions). This hook checks each
page's list (errors name the file and line), registers the ``whats-new``
generator, and writes ``feed.xml`` after the build, from front matter only.
"""

import os
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

from sitekit import changes, generate
from sitekit.errors import raise_all, SiteError
from sitekit.metadata import AUTHOR
from sitekit.mkpage import source_path

WHATS_NEW_URL = "about/whats-new/"


@generate.generator("whats-new")
def whats_new(ctx):
    return changes.whats_new_html(changes.collect(ctx.root / "docs"), ctx.link)


@event_priority(99)  # just after the page contract
def on_page_markdown(markdown, page, config, files):
    try:
        raise_all(changes.check(page.meta, page.file.content_string, source_path(page, config)))
    except SiteError as exc:
        raise PluginError(str(exc)) from exc
    return markdown


def on_post_build(config):
    feed = changes.atom_feed(changes.collect(Path(config.docs_dir)), site_url=config.site_url or "/",
                             site_name=config.site_name, author=AUTHOR, whats_new_url=WHATS_NEW_URL)
    with open(os.path.join(config.site_dir, changes.FEED_FILE), "wb") as out:
        out.write(feed)


def on_env(env, config, files):
    """The latest change of any page dates the offline edition in every page's footer (404 included)."""
    dates = [c.date for p in changes.collect(Path(config.docs_dir)) for c in p.changes]
    env.globals["site_last_change"] = max(dates) if dates else None
    return env
