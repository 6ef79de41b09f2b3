"""Two marks on a page's rendered HTML that the stylesheet cannot work out by itself.

Why: readers should see the Key points as the page's summary, and glossary terms
should be easy to spot without every line of a paragraph being underlined. Both
need facts about the page's structure that CSS selectors cannot express, so they
are added once, at build time (no script, nothing moves after the page loads):

* ``mark_key_points``: the page contract (``sitekit.contract``) makes a
  ``!!! abstract "Key points"`` admonition the first block of every page; it gets
  the class ``key-points`` so the stylesheet can show it at body size and set it apart.
* ``mark_repeated_terms``: a glossary term (``<abbr title>``, from
  includes/abbreviations.md) keeps its dotted underline on its first use in each
  section only; later uses in the same section get the class ``abbr-repeat`` (no
  underline, the tooltip still works). A section starts at every heading. The
  definition is the key, so singular and plural forms defined alike count as one term.

Plain strings in and out; the hook (``overrides/hooks/reader_html.py``) only calls these.
"""

from __future__ import annotations

import html
import re

_KEY_POINTS = re.compile(r'<div class="admonition abstract">(\s*<p class="admonition-title">Key points</p>)')
_TOKEN = re.compile(r'<h[1-6][\s>]|<abbr(?P<attrs>\s[^>]*)>')
_TITLE = re.compile(r'\stitle="(?P<title>[^"]*)"')
_CLASS = re.compile(r'\sclass="(?P<class>[^"]*)"')


def mark_key_points(content: str) -> str:
    """Add ``key-points`` to the first Key points admonition (there is at most one per page)."""
    return _KEY_POINTS.sub(r'<div class="admonition abstract key-points">\1', content, count=1)


def mark_repeated_terms(content: str) -> str:
    """Mark every glossary term already used earlier in its section with ``abbr-repeat``."""
    seen: set[str] = set()

    def repl(m: re.Match) -> str:
        if m.group("attrs") is None:  # a heading: a new section starts
            seen.clear()
            return m.group(0)
        attrs = m.group("attrs")
        title = _TITLE.search(attrs)
        if not title:
            return m.group(0)
        key = html.unescape(title.group("title")).strip().lower()
        if key not in seen:
            seen.add(key)
            return m.group(0)
        existing = _CLASS.search(attrs)
        if existing:
            attrs = attrs[:existing.start()] + f' class="{existing.group("class")} abbr-repeat"' + attrs[existing.end():]
        else:
            attrs += ' class="abbr-repeat"'
        return f"<abbr{attrs}>"

    return _TOKEN.sub(repl, content)
