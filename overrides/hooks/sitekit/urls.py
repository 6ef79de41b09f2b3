"""Published URLs never break.

Why: people bookmark, print and link to medical pages; a URL that stops working
sends them to a search engine and maybe to a worse source. ``published-urls.txt``
lists every URL the site has ever published, one per line (``/`` is the home
page, ``/safety/`` a section, ``#`` starts a comment). Every build checks that:

* every listed URL is still built, as a page or as a redirect page
  (mkdocs-redirects' ``redirect_maps``, old.md -> new.md);
* every page the build makes is listed (a new page is added once, and from then
  on it is protected too);
* the list has no duplicates or malformed lines.

Plain functions; the build (``sitekit.mkbuild``, on_files) feeds them its URLs.
"""

from __future__ import annotations

import re

from sitekit.errors import SiteError, raise_all

_URL = re.compile(r"^/(?:[a-z0-9][a-z0-9._-]*/)*$")


def read_published(text: str, path: str) -> list[tuple[int, str]]:
    """(line, URL) for every listed URL; raises on malformed lines or duplicates."""
    entries, errors, seen = [], [], {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not _URL.match(line):
            errors.append(SiteError(path, number, f"{line!r} is not a site path like /safety/ or /routes/intranasal/ "
                                                  "(lowercase, starting and ending with '/')"))
        elif line in seen:
            errors.append(SiteError(path, number, f"{line} is listed twice (first on line {seen[line]})"))
        else:
            seen[line] = number
            entries.append((number, line))
    raise_all(errors)
    return entries


def site_path(url: str) -> str:
    """A page URL as MkDocs writes it ('routes/intranasal/', '' for home) -> '/routes/intranasal/'."""
    url = url.lstrip("/")
    return "/" + ("" if url in (".", "./") else url.removeprefix("./"))


def check(published: list[tuple[int, str]], pages: set[str], redirects: dict[str, str], path: str) -> list[SiteError]:
    """Problems with the published URLs, given the site paths of built pages and of redirect pages.

    ``redirects`` maps a redirect's old site path to its target's site path.
    """
    errors = []
    listed = {url for _, url in published}
    for line, url in published:
        if url in pages:
            continue
        if url in redirects:
            if redirects[url] not in pages:
                errors.append(SiteError(path, line, f"{url} redirects to {redirects[url]}, which is not built"))
            continue
        errors.append(SiteError(
            path, line,
            f"{url} was published but is no longer built: restore the page, or add a redirect from it in "
            "mkdocs.yml (plugins: redirects: redirect_maps: 'old/page.md': 'new/page.md')"))
    for url in sorted(pages - listed):
        errors.append(SiteError(path, None, f"{url} is built but not listed: add it to {path} "
                                            "(every published URL is listed, so it can never silently break)"))
    return errors
