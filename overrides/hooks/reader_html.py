"""Reader marks on every page's HTML: Key points, and glossary terms repeated in a section.

Why: see ``sitekit.readerhtml`` (the logic, plain functions); this hook only applies it.
"""

from sitekit.readerhtml import mark_key_points, mark_repeated_terms


def on_page_content(html, page, config, files):
    return mark_repeated_terms(mark_key_points(html))
