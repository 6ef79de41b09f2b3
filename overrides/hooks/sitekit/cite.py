"""Find ``[@key]`` citations in a page and render them as numbered references.

Why not mkdocs-bibtex's own page handler: with a numeric (AMA) style it turns
each citation into a Python-Markdown footnote, so citation numbers mix with the
authors' own footnotes, ``[@a; @b]`` becomes two separate superscripts, a
locator such as ``[@key, p. 4]`` is silently dropped, an unknown key is only a
warning (the citation vanishes from the page), and citations inside code are
rewritten. This module keeps the pandoc citation syntax and fixes all of that:

* one superscript per citation group, numbers in order of first use on the
  page, sorted and compressed ("1,2", "3–5"), locators shown as "1(p4)";
* a per-page reference list with back-links to every place a source is cited;
* every malformed or unknown citation is an error naming the file and line, and so is a citation
  where Markdown cannot show one: a link's text or target, an image description, a title or other
  attribute, an abbreviation definition, or two groups side by side (``[@a][@b]``);
* code is left verbatim in every form: code spans, fenced blocks and HTML comments are skipped in the
  Markdown, and a citation that Markdown put in an indented code block is restored as written.

Citations are numbered after Markdown has rendered the page (``place``), in the order a reader
meets them, so only the citations that really show are numbered.
"""

from __future__ import annotations

import functools
import html
import html as htmlmod
import re
from dataclasses import dataclass, field
from typing import Mapping

from sitekit import mdscan
from sitekit.bibfile import EVIDENCE_TYPES, KEY_RE
from sitekit.errors import SiteError, raise_all

# A bracket group with no nested brackets holding an '@' that does not follow a letter (so
# [me@example.org] is not one). What surrounds it decides whether it is a citation. (The '[' comes first and
# the check for a backslash before it second, so the regex engine can scan for '[' instead of testing a
# lookbehind at every character: five times faster on a long page.)
_GROUP = re.compile(r"\[(?<!\\\[)(?P<inner>[^\[\]]*?(?<![\w.+])@[^\[\]]*)\](?P<after>[(\[]|:)?")
_LINK_DEFINITION = re.compile(r"[ ]{0,3}\[[^\[\]]*\]:")
_ABBREVIATION = re.compile(r"[ ]{0,3}\*\[[^\[\]]*\]:")
_FOOTNOTE_BEFORE = re.compile(r"\[\^[^\[\]]+\]$")
_HEADING = re.compile(r"[ ]{0,3}#{1,6}[ \t]")
# A group of plain keys, "@a" or "@a; @b" (most groups): read without the checks of _parse_item.
_SIMPLE_ITEMS = re.compile(r"[ \t]*@[a-z0-9][a-z0-9-]*[ \t]*(?:;[ \t]*@[a-z0-9][a-z0-9-]*[ \t]*)*")
_ITEM = re.compile(r"\s*(?P<prefix>[^@]*?)\s*@(?P<key>[^\s,;]*)(?P<rest>[^,]*?)\s*(?:,\s*(?P<loc>.*?))?\s*", re.S)


@dataclass(slots=True)
class Cite:
    key: str
    locator: str = ""


@dataclass(slots=True)
class Group:
    start: int
    end: int
    line: int
    cites: list[Cite]


@dataclass(frozen=True, eq=False)  # hashed by identity: each page's list looks its entries up (_list_entry)
class Reference:
    """What the renderer needs to know about one bibliography entry."""

    key: str
    html: str  # the formatted reference (AMA), as HTML
    evidence: str
    doi: str = ""
    pmid: str = ""
    pmcid: str = ""


@dataclass
class PageCitations:
    """One page's citations: Markdown with tokens, then (after ``place``) their numbers and markup."""

    markdown: str  # the page with tokens
    source: str = ""  # the page before (token i stands for source[groups[i].start:groups[i].end])
    groups: list[Group] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)  # key -> number, in order of first use
    backrefs: dict[str, list[str]] = field(default_factory=dict)  # key -> anchors of the groups citing it
    superscripts: dict[int, str] = field(default_factory=dict)  # token -> final HTML of its group


# Placeholders are invisible text tokens: Markdown passes them through untouched and no HTML
# parser (Markdown's raw-HTML pass, the search indexer) has to parse citation markup, which was
# most of the cost of citations on large sites. Once placed, hide_tokens() turns them into HTML
# comments, which the search index skips and any later step keeps; fill_page() swaps in the real
# markup afterwards, in the page as it is then.
_OPEN, _CLOSE = "\u2063", "\u2064"  # INVISIBLE SEPARATOR ... INVISIBLE PLUS
INLINE_TOKEN = _OPEN + "{}" + _CLOSE
LIST_TOKEN = _OPEN + "R" + _CLOSE
_INLINE_RE = re.compile(_OPEN + r"(\d+)" + _CLOSE)
_LIST_RE = re.compile(r"<p>" + LIST_TOKEN + r"</p>")
_ANY_TOKEN = re.compile(_LIST_RE.pattern + "|" + _INLINE_RE.pattern)


# A hidden token is its token inside a comment: no author writes those invisible characters in a comment.
_HIDDEN_LIST = "<!--" + LIST_TOKEN + "-->"
_HIDDEN_INLINE_RE = re.compile("<!--" + _INLINE_RE.pattern + "-->")
_HIDDEN_RE = re.compile(_HIDDEN_INLINE_RE.pattern + "|" + _HIDDEN_LIST)
# The References heading and its list token, placed or hidden.
_REFERENCES_SECTION = re.compile(r'<h2 id="references">References.*?</h2>\s*(?:' + _LIST_RE.pattern + "|"
                                 + _HIDDEN_LIST + ")", re.S)


def hide_tokens(html: str) -> str:
    """The placed page with its tokens as HTML comments: what the search index reads (no citation
    text), and what a plugin or hook after this one may still change before ``fill_page``."""
    return _ANY_TOKEN.sub(lambda m: _HIDDEN_LIST if m.group(1) is None else f"<!--{m.group()}-->", html)


def find_groups(md: str, path: str, line_offset: int = 0) -> list[Group]:
    """Every citation group outside code, parsed strictly; raises on bad syntax."""
    matches = list(_GROUP.finditer(md))
    if not matches:
        return []
    protected = mdscan.protected(md)
    groups, errors = [], []
    counted, line = 0, 1 + line_offset  # lines counted up to ``counted`` (matches come in order)
    for m in matches:
        inner, after = m.group("inner"), m.group("after")
        if m.start() in protected:
            continue
        line_start = md.rfind("\n", 0, m.start()) + 1
        if after == ":" and _LINK_DEFINITION.fullmatch(md, line_start, m.end()):
            continue  # "[label]: url" at the start of a line is a link definition, not a citation
        line += md.count("\n", counted, m.start())
        counted = m.start()
        problem = _placement_problem(md, line_start, m.start(), m.end(), after)
        cites: list[Cite] = []
        if problem is None and _SIMPLE_ITEMS.fullmatch(inner):  # the usual [@a] or [@a; @b]: nothing to check
            cites = [Cite(part.strip()[1:]) for part in inner.split(";")]
        elif problem is None:
            for part in inner.split(";"):
                problem = _parse_item(part, cites)
                if problem:
                    problem = f": {problem}"
                    break
        if problem is None:
            groups.append(Group(m.start(), m.end() - len(after or ""), line, cites))
        else:
            errors.append(SiteError(path, line, f"citation [{inner.strip()}] {problem}".replace("] : ", "]: ")))
    raise_all(errors)
    return groups


def _placement_problem(md: str, line_start: int, start: int, end: int, after: str | None) -> str | None:
    """Why a group cannot be a citation where it stands (a heading, a link, an image...), or None."""
    before = md[line_start:start]
    if _HEADING.match(md, line_start):
        return "in a heading: cite in the text below it"
    if _ABBREVIATION.match(md, line_start):
        return "in an abbreviation definition: abbreviation tooltips are plain text"
    if after == "(":
        return "followed by '(': a citation cannot be a link; write the link and the citation separately"
    if after == "[" and not md.startswith("^", end):  # [@k][^note] is fine
        return "followed by '[': write several sources in one group, [@a; @b], not [@a][@b]"
    if before.endswith("]") and not _FOOTNOTE_BEFORE.search(before):
        return "right after ']': write several sources in one group, [@a; @b], and leave a space after a link"
    if before.endswith("!"):
        return "in an image: an image description cannot hold a citation; cite in the text or caption"
    return None


def _parse_item(part: str, cites: list[Cite]) -> str | None:
    m = _ITEM.fullmatch(part)
    if not part.strip():
        return "empty item between ';' separators"
    if not m:
        return f"cannot read {part.strip()!r}; write [@key] or [@key, p. 4]"
    key, rest, loc = m.group("key"), m.group("rest").strip(), m.group("loc")
    if m.group("prefix").strip() == "-":
        return f"[-@{key}] (author left out) is not supported: numbered references show no author; write [@{key}]"
    if m.group("prefix"):
        return (f"text before @{key} ({m.group('prefix')!r}) is not supported: "
                "write it outside the brackets, e.g. 'see [@key]'")
    if not key:
        return "'@' without a key"
    if not KEY_RE.match(key):
        return (f"invalid key '{key}': keys use lowercase a-z, 0-9 and '-' only "
                "('.', ':' and '_' end a key in the citation syntax)")
    if rest:
        return f"unexpected text {rest!r} after @{key}; put a locator after a comma: [@{key}, p. 4]"
    if loc is not None and not loc.strip():
        return f"empty locator after '@{key},'"
    cites.append(Cite(key, (loc or "").strip()))
    return None


def format_locator(locator: str) -> str:
    """AMA-style locator: 'p. 4' -> 'p4', 'pp. 4-6' -> 'pp4-6', else as written."""
    m = re.fullmatch(r"(?i)(pages|page|pp|p)(?:\.\s*|\s+|(?=\d))(\d.*)", locator)
    if m:
        pages = re.sub(r"\s*[-–]\s*", "-", m.group(2).strip())
        plural = m.group(1).lower() in ("pp", "pages") or "-" in pages or "," in pages
        return ("pp" if plural else "p") + pages
    return locator


def tokenize(md: str, groups: list[Group], keys: set[str] | Mapping[str, object] | None, path: str) -> PageCitations:
    """Put a token where each group's HTML will go (and a References list at the end).

    ``keys``: the bibliography's keys (None when it could not be read: its own errors say why)."""
    raise_all([SiteError(path, g.line, f"unknown citation key '{c.key}' (not in references.bib)")
               for g in groups for c in g.cites if keys is not None and c.key not in keys])
    pieces, last = [], 0
    for index, group in enumerate(groups):
        pieces += [md[last:group.start], INLINE_TOKEN.format(index)]
        last = group.end
    pieces.append(md[last:])
    body = "".join(pieces)
    if groups:
        body = body.rstrip("\n") + f"\n\n## References {{#references}}\n\n{LIST_TOKEN}\n"
    return PageCitations(body, md, list(groups))


# The tags whose content changes what a token means (code, links), and the tokens themselves.
_PLACES = re.compile(r"<(?P<close>/?)(?P<tag>code|pre|a)\b[^>]*>|" + _OPEN + r"(?P<token>\d+)" + _CLOSE, re.I)


def place(html: str, page: PageCitations, path: str) -> str:
    """Check where each token landed in the rendered page, then number the groups in reading order.

    A token in code (an indented code block) becomes its citation's text again; one inside a link,
    an attribute or lost in raw HTML is an error naming the citation's line. Returns the HTML.
    """
    md, errors, shown, seen, code, link = page.source, [], [], set(), 0, 0
    restored: dict[int, str] = {}

    def in_attribute(i: int) -> None:
        g = page.groups[i]
        seen.add(i)
        errors.append(SiteError(path, g.line, f"citation {md[g.start:g.end]} is inside an HTML attribute "
                                              "(an image description, a link title or raw HTML): cite in the text"))

    for m in _PLACES.finditer(html):
        if m.group("tag"):
            for t in _INLINE_RE.findall(m.group()):
                in_attribute(int(t))
            step = -1 if m.group("close") else 1
            code += step if m.group("tag").lower() != "a" else 0
            link += step if m.group("tag").lower() == "a" else 0
            continue
        i = int(m.group("token"))
        g = page.groups[i]
        if html.rfind("<", 0, m.start()) > html.rfind(">", 0, m.start()):  # inside another tag
            in_attribute(i)
            continue
        seen.add(i)
        if code > 0:
            restored[i] = htmlmod.escape(md[g.start:g.end], quote=False)
        elif link > 0:
            errors.append(SiteError(path, g.line, f"citation {md[g.start:g.end]} is inside a link's text: "
                                                  "put it after the link"))
        else:
            shown.append(i)
    for i in sorted(set(range(len(page.groups))) - seen):
        g = page.groups[i]
        errors.append(SiteError(path, g.line, f"citation {md[g.start:g.end]} did not survive Markdown rendering "
                                              "(inside raw HTML?): cite in the text"))
    raise_all(errors)
    if restored:
        html = _INLINE_RE.sub(lambda m: restored.get(int(m.group(1)), m.group()), html)
    for i in shown:
        anchor = f"cite-{i + 1}"
        for c in page.groups[i].cites:
            page.numbers.setdefault(c.key, len(page.numbers) + 1)
            if anchor not in page.backrefs.setdefault(c.key, []):
                page.backrefs[c.key].append(anchor)
        page.superscripts[i] = _superscript(page.groups[i], anchor, page.numbers)
    if page.groups and not page.numbers:
        html = _REFERENCES_SECTION.sub("", html, count=1)  # every citation was code: no list
    return html


def fill_page(html: str, page: PageCitations, references: Mapping[str, Reference], bibliography_url: str,
              legend_url: str, path: str) -> str:
    """Put the citation markup and the reference list into the page (its tokens hidden by ``hide_tokens``).
    A token that is gone (a later step dropped HTML comments) fails: a citation must never vanish."""
    found: set = set()

    def markup(m: re.Match) -> str:
        found.add(m.group(1))
        if m.group(1) is not None:
            return page.superscripts[int(m.group(1))]
        return reference_list(page.numbers, page.backrefs, references, bibliography_url, legend_url)

    html = _HIDDEN_RE.sub(markup, html)
    lost = ({str(i) for i in page.superscripts} | ({None} if page.numbers else set())) - found
    if lost:
        raise SiteError(path, None, f"{len(lost)} citation(s) or the reference list were removed from the page "
                                    "after it was rendered (a plugin or hook after the site's hook dropped its "
                                    "HTML comments)")
    return html


def drop_reference_list(html: str) -> str:
    """A page without its References section (a multi-page document has one merged list)."""
    return _REFERENCES_SECTION.sub("", html, count=1)


def number_document(page: PageCitations, html: str, numbers: dict[str, int], backrefs: dict[str, list[str]],
                    anchor_prefix: str) -> None:
    """Number one page of a multi-page document (the printable edition), across pages.

    ``html`` is the page with its tokens hidden (``hide_tokens``): each group it shows gets the anchor
    ``{anchor_prefix}cite-N``; its keys are numbered in ``numbers`` in order of first use across the
    pages numbered so far, and the anchor is added to ``backrefs``. ``fill_document`` then writes the
    superscripts, once every page is numbered.
    """
    for m in _HIDDEN_INLINE_RE.finditer(html):
        i = int(m.group(1))
        anchor = f"{anchor_prefix}cite-{i + 1}"
        for c in page.groups[i].cites:
            numbers.setdefault(c.key, len(numbers) + 1)
            if anchor not in backrefs.setdefault(c.key, []):
                backrefs[c.key].append(anchor)


def fill_document(html: str, page: PageCitations, numbers: dict[str, int], anchor_prefix: str) -> str:
    """The page's tokens as superscripts with the document-wide numbers (after ``number_document``)."""
    def superscript(m: re.Match) -> str:
        i = int(m.group(1))
        return _superscript(page.groups[i], f"{anchor_prefix}cite-{i + 1}", numbers)

    return _HIDDEN_INLINE_RE.sub(superscript, html)


def _link(key: str, n: int) -> str:
    return f'<a class="footnote-ref citation-ref" href="#ref-{key}" aria-label="Reference {n}">{n}</a>'


def _superscript(group: Group, anchor: str, numbers: dict[str, int]) -> str:
    if len(group.cites) == 1 and not group.cites[0].locator:  # most groups: one source
        key = group.cites[0].key
        return f'<sup class="citation" id="{anchor}">{_link(key, numbers[key])}</sup>'

    def link(c: Cite) -> str:
        return _link(c.key, numbers[c.key])

    items = sorted(group.cites, key=lambda c: numbers[c.key])
    parts, run = [], []

    def flush() -> None:
        if len(run) >= 3:
            parts.append(f"{link(run[0])}–{link(run[-1])}")
        else:
            parts.extend(link(c) for c in run)
        run.clear()

    seen = set()
    for c in items:
        if c.locator:
            flush()
            parts.append(link(c) + html.escape(f"({format_locator(c.locator)})"))
        elif c.key in seen:
            continue
        elif run and numbers[c.key] == numbers[run[-1].key] + 1:
            run.append(c)
        else:
            flush()
            run.append(c)
        seen.add(c.key)
    flush()
    return f'<sup class="citation" id="{anchor}">' + ",".join(parts) + "</sup>"


def reference_meta(ref: Reference, legend_url: str) -> str:
    """Links (DOI if the style left it out, PubMed, PMC) and the evidence badge."""
    links = []
    if ref.doi and "doi.org/" not in ref.html:
        links.append(f'<a href="https://doi.org/{html.escape(ref.doi)}">DOI</a>')
    if ref.pmid:
        links.append(f'<a href="https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/">PubMed</a>')
    if ref.pmcid:
        links.append(f'<a href="https://pmc.ncbi.nlm.nih.gov/articles/{ref.pmcid}/">PMC</a>')
    if ref.evidence in EVIDENCE_TYPES:
        label, description = EVIDENCE_TYPES[ref.evidence]
        links.append(f'<a class="evidence-badge evidence-{ref.evidence}" href="{legend_url}#{ref.evidence}" '
                     f'title="{html.escape(description)}">{html.escape(label)}</a>')
    return '<span class="reference-meta">' + " · ".join(links) + "</span>"


def reference_list(numbers: dict[str, int], backrefs: dict[str, list[str]],
                   references: Mapping[str, Reference], bibliography_url: str | None, legend_url: str) -> str:
    """The numbered reference list; ``bibliography_url`` None leaves out the link to the References page."""
    lines = ['<ol class="references">']
    for key, n in sorted(numbers.items(), key=lambda kv: kv[1]):
        anchors = backrefs[key]
        if len(anchors) == 1:
            back = f'<a href="#{anchors[0]}" title="Back to the citation">^</a>'
        else:
            letters = " ".join(f'<a href="#{a}" title="Back to citation {i + 1}">{_letter(i)}</a>'
                               for i, a in enumerate(anchors))
            back = f"^ {letters}"
        lines.append(f'<li id="ref-{key}" value="{n}"><span class="citation-backlinks">{back}</span> '
                     + _list_entry(references[key], bibliography_url, legend_url) + "</li>")
    lines.append("</ol>")
    return "\n".join(lines)


@functools.lru_cache(maxsize=4096)
def _list_entry(ref: Reference, bibliography_url: str | None, legend_url: str) -> str:
    """A reference's text and links in a page's list: the same on every page at the same depth, so made
    once (a large site repeats each entry on many pages)."""
    return (f'<span class="reference-text">{ref.html}</span> {reference_meta(ref, legend_url)}'
            + (f' <a class="reference-bib-link" href="{bibliography_url}#bib-{ref.key}" '
               f'title="Full entry and every page that cites it">All citing pages</a>' if bibliography_url else ""))


def _letter(i: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[i] if i < 26 else letters[i // 26 - 1] + letters[i % 26]


def bibliography(references: Mapping[str, Reference], order: list[str], legend_url: str) -> str:
    """The whole bibliography, one stable anchor per entry; 'Cited on' is filled in later."""
    lines = ['<ul class="bibliography">']
    for key in order:
        ref = references[key]
        lines.append(
            f'<li id="bib-{key}"><span class="reference-text">{ref.html}</span> '
            f'{reference_meta(ref, legend_url)} <code class="bib-key">[@{key}]</code> '
            f'<span class="cited-on" data-key="{key}"></span></li>'
        )
    lines += ["</ul>", ""]
    return "\n".join(lines)


def fill_cited_on(page_html: str, cited_on: Mapping[str, list[tuple[str, str]]]) -> str:
    """Replace each empty 'cited-on' span with links to the pages citing that key."""
    def repl(m: re.Match) -> str:
        pages = cited_on.get(m.group(1), [])
        if not pages:
            return '<span class="cited-on">Not cited on any page.</span>'
        links = ", ".join(f'<a href="{html.escape(url)}">{html.escape(title)}</a>' for url, title in pages)
        return f'<span class="cited-on">Cited on: {links}</span>'

    return re.sub(r'<span class="cited-on" data-key="([a-z0-9-]+)"></span>', repl, page_html)
