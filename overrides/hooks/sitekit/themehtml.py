"""Repair three invalid-HTML patterns in Material's output, without copying its templates.

Found by the W3C Nu HTML Checker gate (tests/test_html_valid.py). Each repair
is an exact, narrow rewrite of markup the theme emits, so it does nothing if a
theme update changes or fixes that markup (and the gate then says so):

* ``tabindex=""`` on section labels in the navigation. ``partials/nav-item.html``
  writes ``tabindex="{{ tabindex }}"`` with ``tabindex`` unset for sections
  (navigation.sections): meant as "not in the tab order", but an empty tabindex
  is invalid. It becomes ``tabindex="-1"``, the valid way to say that; the
  attribute stays, because the theme's script finds these labels by
  ``label[tabindex]`` to keep their ``aria-expanded`` in step.
* ``<label class="md-nav__title" for="__toc">`` on section index pages
  (navigation.indexes): the table of contents' title points at the ``__toc``
  toggle, but the theme only writes that toggle for pages that are not a
  section's index. A label for a control that does not exist is invalid and does
  nothing, so its ``for`` is dropped on exactly those pages.
* ``<meta name="description" content="{{ page.meta.description }}">``: MkDocs
  renders templates without autoescaping, so a straight double quote in a
  page's front-matter description ends the attribute early and the rest of the
  sentence becomes junk attributes (and search engines see half a sentence).
  Every ``content="…"`` attribute holding the raw description (the theme's
  tag, and any Open Graph copy written the same way) is written escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

_EMPTY_TABINDEX = re.compile(r'(<label class="md-nav__link[^"<>]*" for="[^"<>]*" id="[^"<>]*_label") tabindex=""')
_TOC_TITLE = '<label class="md-nav__title" for="__toc">'
_TOC_TOGGLE = 'id="__toc"'
_CONTENT = 'content="{}"'


def repair(output: str, description: str | None) -> str:
    """The page's HTML with the theme's invalid patterns rewritten (see the module docstring)."""
    output = _EMPTY_TABINDEX.sub(r'\1 tabindex="-1"', output)
    if _TOC_TITLE in output and _TOC_TOGGLE not in output:
        output = output.replace(_TOC_TITLE, '<label class="md-nav__title">')
    if description:
        escaped = html.escape(description, quote=False).replace('"', "&quot;")
        if escaped != description:
            output = output.replace(_CONTENT.format(description), _CONTENT.format(escaped))
    return output


CSP_PLACEHOLDER = "CSP-INLINE-SCRIPTS"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_CONTENT_START = '<article class="md-content__inner'  # Material's wrapper of page.content (base.html)


def inline_script_hashes(html_text: str, start: int = 0, end: int | None = None) -> set[str]:
    """CSP source expressions ('sha256-...') for every inline script in ``html_text[start:end]``."""
    return {"'sha256-" + base64.b64encode(hashlib.sha256(m.group(1).encode("utf-8")).digest()).decode() + "'"
            for m in _INLINE_SCRIPT.finditer(html_text, start, len(html_text) if end is None else end)}


def content_span(output: str) -> tuple[int, int]:
    """Where the page's content is: from the theme's own article tag to the last closing one (so an
    author's nested article stays content); (0, 0) on a page without it."""
    start, end = output.find(_CONTENT_START), output.rfind("</article>")
    return (start, end) if 0 <= start <= end else (0, 0)


def content_security_policy(output: str, also_allowed: set[str] = frozenset(), allow_any_inline: bool = False) -> str:
    """Fill the page's Content-Security-Policy (overrides/main.html) with the hashes of the theme's inline
    scripts.

    The theme writes a few small inline scripts (base URL, palette, announcement, tabs); each is allowed
    by its SHA-256 and nothing else inline runs: a script in the page's content (``content_span``) never
    is, so text that reached a page unescaped cannot run (the page contract also refuses one). Reading
    only the theme's markup also makes this several times faster on a page with many references.
    ``also_allowed``: scripts that instant navigation runs when it brings in another page's content.
    ``allow_any_inline`` is for `mkdocs serve`, whose live reload injects a script after the build.
    """
    if CSP_PLACEHOLDER not in output:
        return output
    if allow_any_inline:
        return output.replace(CSP_PLACEHOLDER, "'unsafe-inline'", 1)
    start, end = content_span(output)
    allowed = inline_script_hashes(output, 0, start) | inline_script_hashes(output, end) | set(also_allowed)
    return output.replace(CSP_PLACEHOLDER, " ".join(sorted(allowed)), 1)
