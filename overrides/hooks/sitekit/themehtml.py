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
