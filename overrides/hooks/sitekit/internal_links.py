"""Broken internal links and #anchors, reported as ``docs/page.md:LINE: ...``.

Why: MkDocs checks a page's links in the strict build, but its message names only the page ("Doc file
'index.md' contains a link 'missing.md', but the target is not found"), so a contributor has to search
for it; every other error of this site names the file and line. It also skips links written as raw
HTML. This module reads each page's Markdown source and checks every relative link in it, with its
line: Markdown links and images (``[text](target)``, ``![alt](target)``), reference definitions
(``[label]: target``) and raw HTML ``<a href>`` / ``<img src>``. Code and HTML comments are skipped.

A Markdown link is relative to the page's source file (``../safety/index.md#risks``), as MkDocs
resolves it; a raw HTML link is relative to the page's address on the built site (``../safety/#risks``),
because MkDocs leaves raw HTML as written. A #fragment must be an id on the target page: a heading's
anchor, an ``{#id}``, a footnote, or an ``id`` written in HTML. External links (with a scheme) and
site-absolute links (``/x``) are not checked here: lychee checks those (tests/test_links.py offline,
`make links` online).

Plain functions over strings and sets: the build (``sitekit.mkbuild``, on_env)
gives each page's source text, its address, and every page's anchor ids.
"""

from __future__ import annotations

import difflib
import html.parser
import posixpath
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

from sitekit.errors import SiteError
from sitekit.mdscan import protected

# [text](target "title") and ![alt](target); text may hold one level of brackets ([@key] citations).
_INLINE = re.compile(r"""!?\[(?:[^\[\]\\]|\\.|\[[^\[\]]*\])*\]\(\s*(?:<(?P<angled>[^<>\n]*)>|"""
                     r"""(?P<bare>(?:[^\s()\\]|\\.|\([^\s()]*\))*))(?:\s+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?\s*\)""")
# [label]: target, also inside admonitions and block quotes; not footnotes ([^1]:) or abbreviations (*[X]:).
_DEFINITION = re.compile(r"^[ \t>]*\[(?!\^)[^\]\n]+\]:[ \t]*(?:<(?P<angled>[^<>\n]*)>|(?P<bare>[^\s<>]+))", re.M)
_HTML = re.compile(r"""<(?:a\b[^>]*?\shref|img\b[^>]*?\ssrc)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')""", re.I)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_FRONT_MATTER = re.compile(r"---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|$)", re.S)


@dataclass(frozen=True)
class Link:
    target: str  # as written
    line: int  # 1-based line in the source file
    html: bool  # written as raw HTML: relative to the page's address, not to its source file


class Anchors(dict):
    """Every page's source path -> its ids, read from the page's HTML the first time a link asks: most
    pages are never the target of a #fragment, and parsing all of them was a fifth of a rebuild."""

    def __init__(self, pages_html: dict[str, str]):
        super().__init__()
        self._html = pages_html

    def __contains__(self, src: object) -> bool:
        return src in self._html

    def __missing__(self, src: str) -> set[str]:
        ids = self[src] = anchor_ids(self._html[src])
        return ids


@dataclass
class Site:
    """What a link can land on."""

    anchors: dict[str, set[str]]  # every page's source path (e.g. "safety/index.md") -> its ids (or Anchors)
    files: set[str]  # every file's source path, pages included
    urls: dict[str, str] = field(default_factory=dict)  # every file's address ("safety/", "" for home) -> source


def find_links(text: str) -> list[Link]:
    """Every relative link of a Markdown source, in order, with its line (front matter and code skipped)."""
    front = _FRONT_MATTER.match(text)
    if front:  # keep offsets: blank it out instead of cutting it off
        text = re.sub(r"[^\n]", " ", front.group()) + text[front.end():]
    skip = protected(text)
    found: list[tuple[int, str, bool]] = []
    for m in [*_INLINE.finditer(text), *_DEFINITION.finditer(text)]:
        group = "angled" if m.group("angled") is not None else "bare"
        found.append((m.start(group), m.group(group), False))
    found += [(m.start(), m.group("dq") if m.group("dq") is not None else m.group("sq"), True)
              for m in _HTML.finditer(text)]
    return [Link(target.strip(), text.count("\n", 0, pos) + 1, is_html) for pos, target, is_html in sorted(found)
            if pos not in skip and _is_relative(target.strip())]


def anchor_ids(page_html: str) -> set[str]:
    """The ids a #fragment can point to in a rendered page: every ``id``, and ``name`` on ``<a>``."""
    parser = _Ids()
    parser.feed(page_html)
    parser.close()
    return parser.ids


def check_page(src: str, url: str, text: str, site: Site, path: str, docs: str = "docs") -> list[SiteError]:
    """One error per broken link of the page whose source path is ``src`` (``path`` names it in messages)."""
    errors = []
    for link in find_links(text):
        problem = _problem(link, src, url, site, docs)
        if problem:
            kind = "HTML link" if link.html else "link"
            errors.append(SiteError(path, link.line, f"broken {kind} '{link.target}': {problem}"))
    return errors


def _is_relative(target: str) -> bool:
    return bool(target) and not _SCHEME.match(target) and not target.startswith(("/", "\\", "{{"))


def _problem(link: Link, src: str, url: str, site: Site, docs: str) -> str | None:
    parts = urlsplit(link.target)
    path, anchor = unquote(parts.path), parts.fragment
    if not path:
        target = src
    elif link.html:
        address = urljoin("/" + url, path).lstrip("/")
        address = address[: -len("index.html")] if address.endswith("index.html") else address
        target = site.urls.get(address) or site.urls.get(address + "/")
        if target is None:
            return f"no page or file at the address '{address}' (raw HTML links are relative to the page's address)"
    else:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(src), path))
        if target not in site.files:
            if posixpath.join(target, "index.md") in site.files:
                return f"'{path}' is a folder; link to its page, '{posixpath.join(path, 'index.md')}'"
            close = difflib.get_close_matches(target, sorted(site.files), n=1, cutoff=0.8)
            hint = f" Did you mean '{posixpath.relpath(close[0], posixpath.dirname(src) or '.')}'?" if close else ""
            return f"there is no {docs}/{target}.{hint}"
    if not anchor or target not in site.anchors or anchor in site.anchors[target]:
        return None
    close = difflib.get_close_matches(anchor, sorted(site.anchors[target]), n=1, cutoff=0.7)
    hint = f" Did you mean '#{close[0]}'?" if close else ""
    where = "this page" if target == src else f"{docs}/{target}"
    return f"{where} has no heading or id '{anchor}'.{hint}"


class _Ids(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "id" or (name == "name" and tag == "a")):
                self.ids.add(value)

    handle_startendtag = handle_starttag
