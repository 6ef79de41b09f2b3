"""Format bibliography entries once per build, with a disk cache.

Why: mkdocs-bibtex 4.4's PandocRegistry runs pandoc once per page and writes the
whole bibliography to a temporary file each time, so build time grows with
pages x entries. Here every entry is formatted by the same engine call
(``PandocRegistry._process_with_pandoc``, i.e. pandoc + citeproc + the CSL
style) but in one batch, and the result is cached on disk per entry, keyed by
the entry's exact source text, the style, pandoc's version and the engine's
version. An unchanged entry is never formatted twice; editing one entry
re-formats only that entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from importlib import metadata
from pathlib import Path

import markdown as pymarkdown

from sitekit.bibfile import Entry
from sitekit.errors import SiteError

# Bump when the conversion below changes, to invalidate every cached entry.
FORMAT_VERSION = "4"

# BibLaTeX's verbatim fields: pandoc copies them into links as they are.
VERBATIM_FIELDS = frozenset({"url", "doi", "eprint"})


def bibtex_for_pandoc(bib_data) -> str:
    """The bibliography as BibTeX for pandoc, with verbatim fields written verbatim.

    The engine hands pandoc ``bib_data.to_string("bibtex")``, whose writer
    LaTeX-escapes every field; pandoc keeps url/doi as written, so an address
    with ``&``, ``%`` or ``_`` came out as ``...page\\&REMS=386`` (a broken
    link showing backslashes, and invalid HTML). Other fields are still escaped.
    """
    from pybtex.database.output.bibtex import Writer

    class _Writer(Writer):
        def _write_field(self, stream, type, value):
            if type.lower() in VERBATIM_FIELDS:
                stream.write(f",\n    {type} = {self.quote(value)}")
            else:
                super()._write_field(stream, type, value)

    return _Writer().to_string(bib_data)


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


_SPAN = re.compile(r"\[([^\[\]]*)\]\{\.(nocase|smallcaps|underline)\}")
_SUPER = re.compile(r"\^([^\s^]+)\^")
_SUB = re.compile(r"(?<!~)~([^\s~]+)~(?!~)")


def unwrap_pandoc_spans(text: str) -> str:
    """Pandoc-only Markdown that Python-Markdown does not know: [x]{.nocase}, ^sup^, ~sub~."""
    previous = None
    while previous != text:
        previous = text
        text = _SPAN.sub(lambda m: m.group(1) if m.group(2) == "nocase"
                         else f'<span class="{m.group(2)}">{m.group(1)}</span>', text)
    text = _SUPER.sub(r"<sup>\1</sup>", text)
    return _SUB.sub(r"<sub>\1</sub>", text)


class ReferenceFormatter:
    """Turns bib entries into HTML reference text through the engine's registry, with a disk cache."""

    def __init__(self, csl_path: str, cache_dir: Path | None, bib_path: str = "references.bib"):
        self.bib_path = bib_path
        self.cache_file = cache_dir / "references.json" if cache_dir else None
        csl = Path(csl_path).read_text(encoding="utf-8")
        # pandoc ships inside pypandoc-binary, so its wheel version pins the formatter (no subprocess needed)
        self.salt = _digest(FORMAT_VERSION, csl, metadata.version("pypandoc-binary"), metadata.version("mkdocs-bibtex"))
        self._md = None  # created on first use: warm builds never convert anything

    def fingerprint(self, entry: Entry) -> str:
        return _digest(self.salt, entry.raw)

    def lookup(self, entries: list[Entry]) -> tuple[dict[str, str], list[Entry]]:
        """({key: html} for cached entries, [entries that still need formatting])."""
        cache = self._load()
        self._cached_count = len(cache)
        found, missing = {}, []
        for e in entries:
            hit = cache.get(self.fingerprint(e))
            if hit is None:
                missing.append(e)
            else:
                found[e.key] = hit
        return found, missing

    def stale(self, entries: list[Entry]) -> bool:
        """True if the cache holds entries that are no longer in the bibliography."""
        return getattr(self, "_cached_count", 0) != len(entries)

    def format_missing(self, registry, missing: list[Entry]) -> dict[str, str]:
        """Format entries in one engine call (pandoc + citeproc + CSL)."""
        if not missing:
            return {}
        from mkdocs_bibtex.citation import Citation, CitationBlock  # the engine loads only when needed

        blocks = [CitationBlock(citations=[Citation(key=e.key)]) for e in missing]
        registry.bib_data_bibtex = bibtex_for_pandoc(registry.bib_data)  # replaces the engine's cached_property
        _, texts = registry._process_with_pandoc(blocks)
        out = {}
        for e in missing:
            if e.key not in texts:
                raise SiteError(self.bib_path, e.line, f"entry '{e.key}': pandoc/citeproc produced no reference text")
            out[e.key] = self.to_html(texts[e.key])
        return out

    def save(self, entries: list[Entry], texts: dict[str, str]) -> None:
        """Keep exactly the current entries in the cache (old versions drop out)."""
        self._save({self.fingerprint(e): texts[e.key] for e in entries})

    def to_html(self, text: str) -> str:
        """Pandoc Markdown for one reference -> inline HTML."""
        if self._md is None:
            self._md = pymarkdown.Markdown()
        self._md.reset()
        out = self._md.convert(unwrap_pandoc_spans(text)).strip()
        if out.startswith("<p>") and out.endswith("</p>"):
            out = out[3:-4]
        return out

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
            json.dump(data, f, ensure_ascii=False)
        os.replace(tmp, self.cache_file)
