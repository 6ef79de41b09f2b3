"""A page's date is the day it was last reviewed, never the day of the build.

Why: MkDocs sets every page's ``update_date`` to the build date and uses it for
the sitemap's ``<lastmod>`` and for the timestamp inside ``sitemap.xml.gz``, so
two builds of the same commit made on different days differed. The date that
means something to readers and search engines is the page's ``reviewed``
front matter, which the page contract (``sitekit.contract``) requires on every
page. A page without a usable one (possible only outside the contract, e.g. in
a test) gets the fixed ``FALLBACK_DATE`` (the Unix epoch), never today's date,
so the output still depends on nothing but the sources.
"""

from __future__ import annotations

import datetime as dt

FALLBACK_DATE = "1970-01-01"


def page_date(meta: dict) -> str:
    """The ISO date for ``page.update_date``: front matter ``reviewed``, else ``FALLBACK_DATE``."""
    value = meta.get("reviewed")
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        return FALLBACK_DATE
