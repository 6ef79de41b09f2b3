"""Printable edition: the whole site as one document at ``print/``, built by every build.

Why: readers print and share medical information, and a clinic or library wants one
document rather than fifty pages. ``sitekit.edition`` assembles it (cover, contents,
chapters in navigation order, one merged reference list); this hook only hands it the
rendered pages and writes the file. ``make pdf`` turns it into a PDF with WeasyPrint
(``scripts/build_pdf.py``).

It also marks links to other sites (``data-external``) so that any page printed from
the browser shows their addresses (docs/stylesheets/site.css, ``@media print``).
"""

from mkdocs.plugins import event_priority

from sitekit.edition import mark_external_links
from sitekit.mkedition import write_edition

_state: dict = {}


def on_env(env, config, files):
    _state["env"] = env
    return env


def on_page_content(html, page, config, files):
    return mark_external_links(html, config.site_url or "")


@event_priority(-100)  # the final navigation, after any other hook changed it
def on_nav(nav, config, files):
    _state["nav"] = nav
    return nav


@event_priority(-100)  # after the citations hook has completed every page
def on_post_build(config):
    write_edition(config, _state["nav"], _state["env"])
