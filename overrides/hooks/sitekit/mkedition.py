"""MkDocs side of the printable edition: turn the build's pages and navigation into
``sitekit.edition`` values, and write the document. Kept apart from ``edition`` so
that module stays plain (HTML strings in, HTML out) and could serve another engine.
"""

from __future__ import annotations

import os

from mkdocs.structure.nav import Section
from mkdocs.structure.pages import Page
from mkdocs.utils import write_file

from sitekit import edition
from sitekit.engine import Citations


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


def write_edition(config, nav, env) -> str:
    """Assemble the edition from the finished build and write it; returns its path."""
    engine = Citations.active()
    references_url = engine.url_of(engine.bibliography_page)
    # The edition is for readers: a page whose front matter says ``print_edition: false`` (the contributor
    # guide) stays on the website only; the contents leave it out too (edition.contents skips it).
    pages = [p for p in nav.pages if p.url != references_url and p.meta.get("print_edition", True) is not False]
    targets = {p.url: edition.chapter_id(p.url) for p in pages}

    numbers: dict[str, int] = {}
    backrefs: dict[str, list[str]] = {}
    renumbered = []
    for page in pages:  # number every citation first: links to the list need to know what is cited
        renumbered.append(engine.renumbered(page, numbers, backrefs, f"{targets[page.url]}-"))

    chapters = []
    for page, content in zip(pages, renumbered):
        prefix = targets[page.url]

        def keep(name, value, prefix=prefix):  # the document-wide citation anchors
            return (name == "href" and value.startswith("#ref-")) or (name == "id" and value.startswith(prefix + "-cite-"))

        chapters.append(edition.Chapter(
            url=page.url, title=page.title,
            html=edition.rebase(content, page.url, targets, references_url=references_url, cited=set(numbers),
                                keep=keep),
            reviewed=str(page.meta.get("reviewed", "")), canonical_url=page.canonical_url or "",
        ))

    legend = "#" + targets.get(engine.url_of(engine.legend_page), edition.REFERENCES_ID)
    references_html = engine.merged_references(numbers, backrefs, None, legend)
    # The evidence badges link to "#<type>" on the legend page: point them at its chapter.
    references_html = references_html.replace(f'href="{legend}#', f'href="{legend}-')
    notice = env.get_template("partials/disclaimer.html").render(config=config)
    reviewed = max((c.reviewed for c in chapters if c.reviewed), default="")
    html = edition.document(
        site_name=config.site_name, description=config.site_description or "", site_url=config.site_url or "",
        reviewed=reviewed, chapters=chapters, contents_html=edition.contents(_contents(nav.items), targets),
        references_html=references_html, notice_html=notice,
        stylesheets=["../stylesheets/site.css", "../stylesheets/print-edition.css"], copyright=config.copyright or "",
        icon="../" + config.theme["favicon"] if config.theme.get("favicon") else None,
    )
    path = os.path.join(config.site_dir, edition.EDITION_URL, "index.html")
    write_file(html.encode("utf-8"), path)
    return path
