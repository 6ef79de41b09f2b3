"""Formatted reference text: pandoc + citeproc + the CSL style, once per entry, sanitised once.

Why pandoc directly (not mkdocs-bibtex's registry): one pandoc run formats every entry that is not
in the cache, straight to HTML (real dashes, quotes, sub- and superscripts, no Markdown round trip),
from the BibTeX that ``sitekit.bibfile.to_bibtex`` writes out of the build's own model, so the
formatter reads exactly what the build accepted. The run starts as a subprocess when the build
starts (its input and output are files, so nothing waits on a pipe) and is collected when the first
page needs it, so pandoc works on the second core while MkDocs renders Markdown. Results are cached
on disk per entry, keyed by what pandoc is given (macros already expanded, so editing an ``@string``
re-formats the entries that use it), the style and pandoc's version: editing one entry re-formats
only that entry.

Every surface (a page's reference list and its hover previews, the touch panel, the References
page, the printable edition) shows ``sanitize``'s output: references.bib is untrusted input.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path

import nh3

from sitekit.bibfile import Entry, plain, to_bibtex
from sitekit.errors import SiteError

log = logging.getLogger("mkdocs.hooks.pipeline")

# Bump when the conversion below changes, to invalidate every cached entry.
FORMAT_VERSION = "5"

# What reference text may contain: inline emphasis, sub- and superscripts, links to http(s) addresses only.
ALLOWED_TAGS = {"a", "em", "i", "strong", "b", "sub", "sup"}


def _http_only(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        return value if re.match(r"https?://", value, re.I) else None
    return value


def sanitize(html: str) -> str:
    """Reference HTML reduced to ALLOWED_TAGS; links keep only http(s) targets; nothing loads."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href"}}, attribute_filter=_http_only,
                     link_rel=None, url_schemes={"http", "https"})


_ENTRY = re.compile(r'<div id="ref-(?P<key>[^"]+)" class="csl-entry"[^>]*>\s*(?:<div class="csl-left-margin">'
                    r'.*?</div><div class="csl-right-inline">(?P<inline>.*?)</div>|(?P<plain>.*?))\s*</div>\s*(?=<div id="ref-|</div>\s*$)',
                    re.S)


# Math pandoc cannot render as text ($\\frac n 2$) comes out as raw TeX: give it as plain text instead.
_RAW_MATH = re.compile(r"\$([^$<>]+)\$")


def _plain_math(m: re.Match) -> str:
    import html

    return html.escape(plain(html.unescape(m.group())), quote=False)


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


class Formatter:
    """Reference HTML for bib entries, from the disk cache or one pandoc run (see the module docstring)."""

    def __init__(self, csl_path: str, cache_dir: Path | None, bib_path: str = "references.bib"):
        import pypandoc

        self.csl_path, self.bib_path = csl_path, bib_path
        self.cache_file = cache_dir / "references.json" if cache_dir else None
        self.pandoc = pypandoc.get_pandoc_path()
        # pandoc ships inside pypandoc-binary, so its wheel version pins the formatter
        self.salt = _digest(FORMAT_VERSION, Path(csl_path).read_text(encoding="utf-8"),
                            metadata.version("pypandoc-binary"), metadata.version("nh3"))
        self._cache = self._load()
        self._run: tuple[subprocess.Popen, str, list[Entry]] | None = None
        self._prints: dict[str, str] = {}

    def start(self, entries: list[Entry]) -> None:
        """Start formatting the entries the cache lacks; returns at once."""
        self._prints = {e.key: _digest(self.salt, to_bibtex(e)) for e in entries}
        missing = [e for e in entries if self._prints[e.key] not in self._cache]
        if not missing:
            return
        work = tempfile.mkdtemp(prefix="references-")
        Path(work, "in.bib").write_text("\n".join(to_bibtex(e) for e in missing), encoding="utf-8")
        Path(work, "in.md").write_text('---\nnocite: "@*"\n---\n', encoding="utf-8")
        command = [self.pandoc, "--citeproc", "--csl", self.csl_path, "--bibliography", "in.bib",
                   "-f", "markdown", "-t", "html", "--wrap=none", "-o", "out.html", "in.md"]
        # Files, not pipes: pandoc reads the bibliography only after its input ends and would stall on a
        # full output pipe, so with pipes most of its work waited for ``result`` instead of running now.
        process = subprocess.Popen(command, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self._run = (process, work, missing)

    def result(self) -> dict[str, str]:
        """{key: sanitised HTML} for every entry given to ``start``; waits for pandoc if it is still running."""
        stale = set(self._cache) != set(self._prints.values())
        if self._run is not None:
            process, work, missing = self._run
            self._run = None
            try:
                _, err = process.communicate()
                out = Path(work, "out.html").read_text(encoding="utf-8") if not process.returncode else ""
            finally:
                shutil.rmtree(work, ignore_errors=True)
            if process.returncode:
                raise SiteError(self.bib_path, None, f"pandoc could not format the references: {err.strip()}")
            found = {m.group("key"): (m.group("inline") if m.group("inline") is not None else m.group("plain"))
                     for m in _ENTRY.finditer(out)}
            for e in missing:
                if e.key not in found:
                    raise SiteError(self.bib_path, e.line, f"entry '{e.key}': pandoc/citeproc produced no reference text")
                self._cache[self._prints[e.key]] = sanitize(_RAW_MATH.sub(_plain_math, found[e.key].strip()))
            log.info("citations: formatted %d reference(s) with pandoc", len(missing))
        texts = {key: self._cache[fp] for key, fp in self._prints.items()}
        if stale:
            self._cache = {fp: self._cache[fp] for fp in self._prints.values()}
            self._save(self._cache)
        return texts

    def close(self) -> None:
        """Stop a run whose results will not be used (the build failed)."""
        if self._run is not None:
            process, work, _ = self._run
            self._run = None
            process.kill()
            process.communicate()
            shutil.rmtree(work, ignore_errors=True)

    def _load(self) -> dict[str, str]:
        if not self.cache_file or not self.cache_file.exists():
            return {}
        try:
            return json.loads(self.cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # a corrupt cache is only a cache: rebuild it

    def _save(self, data: dict[str, str]) -> None:
        if not self.cache_file:
            return
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.cache_file.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, sort_keys=True)
        os.replace(tmp, self.cache_file)
