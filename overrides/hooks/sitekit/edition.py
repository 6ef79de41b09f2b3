"""The printable edition: the whole site as one HTML document, ready for a PDF.

Why our own and not mkdocs-print-site-plugin: that plugin builds its table of
contents in the browser with JavaScript, which a PDF renderer never runs, and it
concatenates pages together with their own reference lists, so one source would
appear under several numbers. Here the document is assembled at build time from
the rendered pages:

* a cover (title, what the site is, the latest review date, disclaimer, urgent help);
* contents from the navigation (page numbers come from CSS ``target-counter`` in print);
* every page in navigation order as a chapter, except the References page: the
  edition ends with its own list instead;
* citations numbered once across the document in order of first use, and one
  de-duplicated reference list at the end whose entries link back to each citation;
* every id prefixed by its chapter, and every link between pages turned into a link
  inside the document; links to other files are re-based so they still work.

Plain data in, HTML out: ``sitekit.mkedition`` turns MkDocs
objects into ``Chapter`` and ``ContentsEntry`` values.
"""

from __future__ import annotations

import html as htmlmod
import posixpath
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

EDITION_URL = "print/"  # where the edition is written, relative to the site root
REFERENCES_ID = "references"

_ATTR = re.compile(r'(?P<pre>\s)(?P<name>id|for|name|href|src|aria-labelledby|aria-describedby)="(?P<value>[^"]*)"')
_SCHEME = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")
# SVG attributes that point at an id with url(#id): arrowheads (marker-end), icon-array patterns (fill), ...
_URL_REF = re.compile(r'(?P<pre>\s(?:fill|stroke|marker-start|marker-mid|marker-end|clip-path|mask|filter)=")'
                      r"url\(#(?P<id>[^)\"]+)\)\"")


@dataclass
class Chapter:
    url: str  # the page's URL relative to the site root, e.g. "routes/intranasal/" ("" for home)
    title: str
    html: str  # the page's rendered content
    reviewed: str = ""
    canonical_url: str = ""


@dataclass
class ContentsEntry:
    title: str
    url: str | None = None  # None for a section heading without a page of its own
    children: list["ContentsEntry"] = field(default_factory=list)


def chapter_id(url: str) -> str:
    """'routes/intranasal/' -> 'page-routes-intranasal'; the home page is 'page-home'."""
    slug = re.sub(r"[^a-z0-9]+", "-", url.lower().removesuffix(".html")).strip("-")
    return "page-" + (slug or "home")


def rebase(content: str, page_url: str, targets: dict[str, str], *, references_url: str | None = None,
           cited: set[str] = frozenset()) -> str:
    """Make one page's HTML a chapter of the edition.

    Ids (and the attributes that point at ids) get the chapter's prefix so they stay unique.
    Links to pages in ``targets`` (URL -> chapter id) become in-document anchors; a link to the
    References page becomes a link to the merged list (an entry's own anchor when ``cited``
    holds its key). Other relative links and sources are re-based on the edition's URL.
    """
    prefix = targets[page_url]

    def local(fragment: str) -> str:
        return f"{prefix}-{fragment}" if fragment else prefix

    def link(value: str) -> str:
        if value.startswith("#"):
            return "#" + local(value[1:])
        if not value or _SCHEME.match(value):
            return value
        absolute = urlsplit(urljoin("http://site/" + page_url, value))
        path, fragment = absolute.path.lstrip("/"), absolute.fragment
        if path.endswith("index.html"):
            path = path[: -len("index.html")]
        if references_url is not None and path == references_url:
            key = fragment.removeprefix("bib-")
            return "#" + (f"ref-{key}" if fragment.startswith("bib-") and key in cited else REFERENCES_ID)
        if path in targets:
            return "#" + (f"{targets[path]}-{fragment}" if fragment else targets[path])
        relative = posixpath.relpath("/" + path, "/" + EDITION_URL)
        if path.endswith("/") and not relative.endswith("/"):
            relative += "/"
        return relative + (f"#{fragment}" if fragment else "")

    def repl(m: re.Match) -> str:
        name, value = m.group("name"), htmlmod.unescape(m.group("value"))
        if name in ("id", "for", "name"):
            new = local(value)
        elif name.startswith("aria-"):
            new = " ".join(local(v) for v in value.split())
        else:
            new = link(value)
        return f'{m.group("pre")}{name}="{htmlmod.escape(new, quote=True)}"'

    content = _ATTR.sub(repl, content)
    return _URL_REF.sub(lambda m: f'{m.group("pre")}url(#{local(m.group("id"))})"', content)


def contents(entries: list[ContentsEntry], targets: dict[str, str]) -> str:
    """Nested contents list; entries whose page is not in the edition are left out."""
    def render(items: list[ContentsEntry]) -> str:
        lines = []
        for item in items:
            inner = render(item.children)
            if item.url is not None and item.url in targets:
                head = f'<a href="#{targets[item.url]}">{htmlmod.escape(item.title)}</a>'
            elif inner:
                head = f"<span>{htmlmod.escape(item.title)}</span>"
            else:
                continue
            lines.append(f"<li>{head}{inner}</li>")
        return f"<ol>{''.join(lines)}</ol>" if lines else ""

    return render(entries)


def document(*, site_name: str, description: str, site_url: str, reviewed: str, chapters: list[Chapter],
             contents_html: str, references_html: str, notice_html: str, stylesheets: list[str], copyright: str,
             icon: str | None = None) -> str:
    """The whole edition as one HTML document. ``icon``: the site's favicon (without one, browsers ask the
    server root for /favicon.ico, a 404 and a console error; tests/test_browser.py)."""
    e = htmlmod.escape
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{e(site_name)} — printable edition</title>",
        f'<meta name="description" content="{e(description)}">',
        '<meta name="robots" content="noindex">',  # search engines should list the pages themselves (so no canonical)
        *(f'<link rel="stylesheet" href="{e(s)}">' for s in stylesheets),
        *([f'<link rel="icon" href="{e(icon)}">'] if icon else []),
        "</head>",
        '<body class="print-edition">',
        '<header class="cover">',
        f'<p class="cover-kicker">Printable edition</p><h1 class="cover-title">{e(site_name)}</h1>',
        f'<p class="cover-description">{e(description)}</p>',
        f'<p class="cover-meta">Latest page review {e(reviewed)} (each chapter gives its own date) · Online at <a href="{e(site_url)}">{e(site_url)}</a></p>',
        f'<div class="cover-notice">{notice_html}</div>',
        f'<p class="cover-copyright">{e(copyright)}</p>',
        "</header>",
        '<nav class="contents" aria-labelledby="contents-title">',
        f'<h2 id="contents-title">Contents</h2>{contents_html}',
        "</nav>",
        "<main>",
    ]
    for chapter in chapters:
        cid = chapter_id(chapter.url)
        meta = []
        if chapter.reviewed:
            meta.append(f"Last reviewed {e(chapter.reviewed)}")
        if chapter.canonical_url:
            meta.append(f'Online: <a href="{e(chapter.canonical_url)}">{e(chapter.canonical_url)}</a>')
        parts += [
            f'<article class="chapter" id="{cid}" aria-labelledby="{cid}-title">',
            f'<h1 id="{cid}-title">{e(chapter.title)}</h1>',
            f'<p class="chapter-meta">{" · ".join(meta)}</p>' if meta else "",
            chapter.html,
            "</article>",
        ]
    parts += [
        f'<section class="chapter references-chapter" id="{REFERENCES_ID}" aria-labelledby="{REFERENCES_ID}-title">',
        f'<h1 id="{REFERENCES_ID}-title">References</h1>',
        "<p>Every source cited in this edition, once, numbered in order of first citation. "
        "The letters after ^ lead back to each place it is cited.</p>",
        references_html,
        "</section>",
        "</main>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(p for p in parts if p)


_EXTERNAL = re.compile(r'<a (?P<before>[^>]*?)href="(?P<href>https?://[^"]*)"')


def mark_external_links(content: str, site_url: str) -> str:
    """Give every link to another site a ``data-external`` attribute, so print CSS can show its address.

    Why at build time: Material's instant navigation rewrites internal links to absolute URLs in the
    browser, so in print CSS ``a[href^="http"]`` would match every link on the page.
    """
    def repl(m: re.Match) -> str:
        if m.group("href").startswith(site_url) or "data-external" in m.group("before"):
            return m.group(0)
        return f'<a data-external {m.group("before")}href="{m.group("href")}"'

    return _EXTERNAL.sub(repl, content)
