"""Citations: ``[@key]`` -> numbered AMA references, strictly and fast.

Why a hook: the design's citation engine is mkdocs-bibtex, but its own page
handler drops locators, only warns on unknown keys, rewrites citations inside
code and runs pandoc once per page. ``sitekit.engine.Citations`` keeps
mkdocs-bibtex for formatting (pybtex + pandoc + CSL, batched and cached) and
does the page work itself. Its options are mkdocs-bibtex's own, read from
``extra.bibtex`` in mkdocs.yml. Citation markup is added after the search
index has read each page (two page_context handlers around the search plugin).
"""

from mkdocs.exceptions import PluginError
from mkdocs.plugins import CombinedEvent, event_priority

from sitekit.engine import Citations
from sitekit.errors import SiteError

_citations = Citations()  # module-level: survives `mkdocs serve` rebuilds, keeping its caches


def _guard(fn, *args):
    try:
        return fn(*args)
    except SiteError as exc:
        raise PluginError(str(exc)) from exc


def on_config(config):
    return _guard(_citations.on_config, config)


@event_priority(50)  # after generated content is inserted (priority 80), before Markdown runs
def on_page_markdown(markdown, page, config, files):
    return _guard(_citations.on_page_markdown, markdown, page, config, files)


def on_env(env, config, files):
    return _guard(_citations.on_env, env, config, files)


@event_priority(100)  # before the search plugin indexes the page
def _before_search(context, page, config, nav):
    _citations.before_search(page)
    return context


@event_priority(-100)  # after it
def _after_search(context, page, config, nav):
    _guard(_citations.after_search, page, config)
    return context


on_page_context = CombinedEvent(_before_search, _after_search)


def on_post_build(config):
    _guard(_citations.on_post_build, config)
