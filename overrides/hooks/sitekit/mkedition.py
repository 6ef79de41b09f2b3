"""MkDocs side of the printable edition: turn the build's pages and navigation into
``sitekit.edition`` values, and write the document. Kept apart from ``edition`` so
that module stays plain (HTML strings in, HTML out) and could serve another site generator.
"""

from __future__ import annotations

import os

from mkdocs.structure.nav import Section
from mkdocs.structure.pages import Page
from mkdocs.utils import write_file

from sitekit import cite, edition


def _contents(items) -> list[edition.ContentsEntry]:
    """The navigation as contents entries; a section's index page (navigation.indexes) titles it."""
    entries = []
    for item in items:
        if isinstance(item, Section):
            index = next((c for c in item.children if isinstance(c, Page) and c.is_index), None)
            rest = [c for c in item.children if c is not index]
            entries.append(edition.ContentsEntry(item.title, index.url if index else None, _contents(rest)))
        elif isinstance(item, Page):
            entries.append(edition.ContentsEntry(item.title, item.url))
    return entries


def write_edition(config, nav, env, *, placed: dict[str, str], citations: dict[str, cite.PageCitations],
                  references: dict[str, cite.Reference], references_url: str, legend_url: str) -> str:
    """Assemble the edition from the finished build and write it; returns its path.

    ``placed``: each page's rendered HTML with its citation tokens hidden (src_uri -> HTML); ``citations``:
    each page's citations; both kept by the build's owner (``sitekit.mkbuild``)."""
    # The edition is for readers: a page whose front matter says ``print_edition: false`` (the contributor
    # guide) stays on the website only; the contents leave it out too (edition.contents skips it).
    pages = [p for p in nav.pages if p.url != references_url and p.meta.get("print_edition", True) is not False]
    targets = {p.url: edition.chapter_id(p.url) for p in pages}

    numbers: dict[str, int] = {}
    backrefs: dict[str, list[str]] = {}
    bodies = []
    for page in pages:  # number every citation first: links to the list need to know what is cited
        uri = page.file.src_uri
        html = placed.get(uri, page.content or "")
        if uri in citations:
            html = cite.drop_reference_list(html)
            cite.number_document(citations[uri], html, numbers, backrefs, f"{targets[page.url]}-")
        bodies.append(html)

    # Re-based while the citations are still tokens, so their anchors (already document-wide) are not
    # rewritten; then each token becomes its superscript.
    cited, chapters = set(numbers), []
    for page, content in zip(pages, bodies):
        uri = page.file.src_uri
        html = edition.rebase(content, page.url, targets, references_url=references_url, cited=cited)
        if uri in citations:
            html = cite.fill_document(html, citations[uri], numbers, f"{targets[page.url]}-")
        chapters.append(edition.Chapter(url=page.url, title=page.title, html=html,
                                        reviewed=str(page.meta.get("reviewed", "")),
                                        canonical_url=page.canonical_url or ""))

    legend = "#" + targets.get(legend_url, edition.REFERENCES_ID)
    references_html = cite.reference_list(numbers, backrefs, references, None, legend)
    # The evidence badges link to "#<type>" on the legend page: point them at its chapter.
    references_html = references_html.replace(f'href="{legend}#', f'href="{legend}-')
    notice = env.get_template("partials/disclaimer.html").render(config=config)
    reviewed = max((c.reviewed for c in chapters if c.reviewed), default="")
    html = edition.document(
        site_name=config.site_name, description=config.site_description or "", site_url=config.site_url or "",
        reviewed=reviewed, chapters=chapters, contents_html=edition.contents(_contents(nav.items), targets),
        references_html=references_html, notice_html=notice,
        stylesheets=[f"../{css}" for css in config.extra_css] + ["../stylesheets/print-edition.css"],  # the site's own
        copyright=config.copyright or "",
        icon="../" + config.theme["favicon"] if config.theme.get("favicon") else None,
    )
    path = os.path.join(config.site_dir, edition.EDITION_URL, "index.html")
    write_file(html.encode("utf-8"), path)
    return path
