"""Page metadata: JSON-LD, Open Graph tags and "Cite this page", from the front matter.

Why: see ``sitekit.metadata`` (the logic, plain functions). This hook gathers a
page's front matter, canonical URL and cited references and hands the template
(``overrides/main.html``) one ``page_metadata`` value.
"""

from __future__ import annotations

from mkdocs.plugins import event_priority

from sitekit import metadata
from sitekit.engine import Citations


@event_priority(-150)  # after the citations hook (its page data is complete by then)
def on_page_context(context, page, config, nav):
    reviewed = page.meta.get("reviewed")
    if not reviewed or not page.canonical_url:
        return context
    engine = Citations.active()
    numbers = engine.pages[page.file.src_uri].numbers if page.file.src_uri in engine.pages else {}
    cited = [engine.entries[k] for k in sorted(numbers, key=numbers.get)]
    title = page.meta.get("title") or page.title
    description = page.meta.get("description") or config.site_description or ""
    context["page_metadata"] = {
        "jsonld": metadata.medical_webpage(
            title=title, description=description, reviewed=reviewed, next_review=page.meta.get("next_review"),
            url=page.canonical_url, site_name=config.site_name, site_url=config.site_url, cited=cited),
        "open_graph": metadata.open_graph(title=title, description=description, url=page.canonical_url,
                                          site_name=config.site_name, reviewed=reviewed),
        "citation": metadata.page_citation(title=title, site_name=config.site_name, reviewed=reviewed,
                                           url=page.canonical_url, path=page.url),
    }
    return context
