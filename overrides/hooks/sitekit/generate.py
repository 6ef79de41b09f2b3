"""Generated blocks: ``<!-- generate: NAME -->`` on its own line.

Why: numbers that appear in tables, timelines and figures must have exactly one
source of truth (a data file where every value carries its citation), so they
are generated at build time instead of typed twice. A generator returns one line
of HTML, which keeps every later line number of the page unchanged for error
messages; citations inside it (``[@key]``) are numbered by the citation hook
like any other. An unknown generator name fails the build at that line.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sitekit import mdscan
from sitekit.bibfile import EVIDENCE_TYPES
from sitekit.errors import SiteError, line_of

MARKER = re.compile(r"(?m)^[ \t]*<!-- generate: (?P<name>[a-z0-9-]+) -->[ \t]*$")


@dataclass
class Context:
    root: Path  # the directory holding mkdocs.yml
    page_path: str  # for error messages, e.g. docs/history/index.md
    line: int


Generator = Callable[[Context], str]
REGISTRY: dict[str, Generator] = {}


def generator(name: str):
    def register(fn: Generator) -> Generator:
        REGISTRY[name] = fn
        return fn
    return register


def expand(markdown: str, root: Path, page_path: str, offset: int) -> str:
    """Replace every marker outside code with its generator's one-line HTML."""
    protected = mdscan.protected(markdown, comments=False)
    out, last = [], 0
    for m in MARKER.finditer(markdown):
        if m.start() in protected:
            continue
        line = line_of(markdown, m.start()) + offset
        fn = REGISTRY.get(m.group("name"))
        if fn is None:
            raise SiteError(page_path, line, f"unknown generator '{m.group('name')}'; "
                                             f"known: {', '.join(sorted(REGISTRY))}")
        generated = fn(Context(root, page_path, line))
        if "\n" in generated:
            raise SiteError(page_path, line, f"generator '{m.group('name')}' must return one line of HTML")
        out += [markdown[last:m.start()], generated]
        last = m.end()
    out.append(markdown[last:])
    return "".join(out)


# ---------------------------------------------------------------------------
# Generators that need no data file


@generator("evidence-types")
def evidence_types(ctx: Context) -> str:
    """Legend of the evidence badges, straight from the validator's own table."""
    rows = "".join(
        f'<tr id="{key}"><td><span class="evidence-badge evidence-{key}">{html.escape(label)}</span></td>'
        f"<td><code>{key}</code></td><td>{html.escape(text)}</td></tr>"
        for key, (label, text) in EVIDENCE_TYPES.items()
    )
    return ('<table class="evidence-legend"><thead><tr><th scope="col">Badge</th>'
            '<th scope="col">Value in references.bib</th><th scope="col">Meaning</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>")


# Glossary: the abbreviations file that pymdownx.snippets appends to every page
# (abbr tooltips) is also the glossary's only source, so the two cannot differ.
GLOSSARY_FILE = "includes/abbreviations.md"
_ABBR = re.compile(r"^\*\[(?P<term>[^\]]+)\]:[ \t]+(?P<definition>\S.*)$")


def read_glossary(path: Path, display: str = GLOSSARY_FILE) -> list[tuple[str, str]]:
    """[(term, definition)] from '*[TERM]: definition' lines; errors name the line."""
    terms, seen = [], {}
    text = path.read_text(encoding="utf-8")
    in_comment = False
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if in_comment or stripped.startswith("<!--"):
            in_comment = "-->" not in stripped
            continue
        if not stripped:
            continue
        m = _ABBR.match(stripped)
        if not m:
            raise SiteError(display, number, "expected '*[TERM]: definition'")
        term = m.group("term")
        if term in seen:
            raise SiteError(display, number, f"'{term}' is already defined on line {seen[term]}")
        seen[term] = number
        terms.append((term, m.group("definition").strip()))
    return terms


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@generator("glossary")
def glossary(ctx: Context) -> str:
    terms = sorted(read_glossary(ctx.root / GLOSSARY_FILE), key=lambda t: t[0].lower())
    items = "".join(
        f'<dt id="{slug(term)}">{html.escape(term)}</dt><dd>{html.escape(definition)}</dd>'
        for term, definition in terms
    )
    return f'<dl class="glossary">{items}</dl>'
