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
import math
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sitekit import datafiles, mdscan
from sitekit.bibfile import EVIDENCE_TYPES
from sitekit.errors import SiteError, line_of

MARKER = re.compile(r"(?m)^[ \t]*<!-- generate: (?P<name>[a-z0-9-]+) -->[ \t]*$")


@dataclass
class Context:
    root: Path  # the directory holding mkdocs.yml
    page_path: str  # for error messages, e.g. docs/history/index.md
    line: int
    page_url: str = ""  # the page's URL relative to the site root, e.g. evidence/
    bib_keys: frozenset = frozenset()  # keys in references.bib, to check data files' citations

    def data(self, name: str) -> tuple[Path, str]:
        return self.root / "data" / name, f"data/{name}"

    def link(self, target_url: str) -> str:
        """A link from this page to another page's URL (directory URLs)."""
        return posixpath.relpath(target_url or ".", self.page_url or ".") + "/"


Generator = Callable[[Context], str]
REGISTRY: dict[str, Generator] = {}


def generator(name: str):
    def register(fn: Generator) -> Generator:
        REGISTRY[name] = fn
        return fn
    return register


def expand(markdown: str, root: Path, page_path: str, offset: int, page_url: str = "",
           bib_keys: frozenset = frozenset()) -> str:
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
        generated = fn(Context(root, page_path, line, page_url, bib_keys))
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
MAX_BLOCK = 60  # definitions per paragraph: one paragraph per letter keeps the file readable
_ABBR = re.compile(r"^\*\[(?P<term>[^\]]+)\]:[ \t]+(?P<definition>\S.*)$")


def _read_glossary(path: Path, display: str) -> list[tuple[str, str, int]]:
    """[(term, definition, line)] from '*[TERM]: definition' lines; errors name the line."""
    terms, seen = [], {}
    text = path.read_text(encoding="utf-8")
    in_comment, previous_was_term = False, 0
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if in_comment or stripped.startswith("<!--"):
            in_comment = "-->" not in stripped
            continue
        if not stripped:
            previous_was_term = 0
            continue
        if previous_was_term >= MAX_BLOCK:
            # One Markdown block holding hundreds of definitions makes every page's build quadratic.
            raise SiteError(display, number, f"more than {MAX_BLOCK} definitions in one paragraph: add a blank line "
                                             "(one paragraph per letter)")
        previous_was_term += 1
        m = _ABBR.match(stripped)
        if not m:
            raise SiteError(display, number, "expected '*[TERM]: definition'")
        term = m.group("term")
        if term in seen:
            raise SiteError(display, number, f"'{term}' is already defined on line {seen[term]}")
        seen[term] = number
        terms.append((term, m.group("definition").strip(), number))
    return terms


def read_glossary(path: Path, display: str = GLOSSARY_FILE) -> list[tuple[str, str]]:
    """[(term, definition)] from '*[TERM]: definition' lines; errors name the line."""
    return [(term, definition) for term, definition, _ in _read_glossary(path, display)]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class GlossaryEntry:
    term: str
    definition: str
    also: list[str]  # other forms shown with it, e.g. the plural "bile ducts" of "bile duct"


def _base(term: str, lower_terms: set[str]) -> str:
    """The form a term folds into: its lower case, without a plural 's' when the singular is defined too."""
    low = term.lower()
    return low[:-1] if low.endswith("s") and low[:-1] in lower_terms else low


def glossary_groups(terms: list[tuple[str, str]]) -> list[GlossaryEntry]:
    """One entry per term. Why folding: the abbr extension matches whole words and is case-sensitive, so
    includes/abbreviations.md defines 'Dissociation' (for sentence starts) beside 'dissociation', and
    'RCTs' beside 'RCT', each with the same definition; the glossary shows each such family once
    (plurals listed with it). Case variants with different definitions stay separate entries."""
    lower_terms = {t.lower() for t, _ in terms}
    groups: dict[str, list[tuple[str, str]]] = {}
    for term, definition in terms:
        groups.setdefault(_base(term, lower_terms), []).append((term, definition))
    entries = []
    for base, variants in groups.items():
        if len({d for _, d in variants}) > 1:
            entries.extend(GlossaryEntry(t, d, []) for t, d in variants)
            continue
        singular = [v for v in variants if v[0].lower() == base] or variants
        main = min(singular, key=lambda v: v[0].swapcase())  # prefer the lower-case spelling
        also = sorted({main[0] + t[len(main[0]):] for t, _ in variants if t.lower() != base})
        entries.append(GlossaryEntry(main[0], main[1], also))
    return sorted(entries, key=lambda e: (e.term.lower(), e.term))


def glossary_entries(terms: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(term, definition) per glossary entry (see ``glossary_groups``)."""
    return [(e.term, e.definition) for e in glossary_groups(terms)]


def check_plurals(terms: list[tuple[str, str, int]], display: str = GLOSSARY_FILE) -> None:
    """A plural defined beside its singular must have the same definition, so the glossary shows one entry
    and both forms get the same tooltip."""
    lower = {t.lower(): (t, d, n) for t, d, n in terms}
    for term, definition, number in terms:
        low = term.lower()
        if low.endswith("s") and low[:-1] in lower and lower[low[:-1]][1] != definition:
            singular, _, line = lower[low[:-1]]
            raise SiteError(display, number, f"'{term}' is the plural of '{singular}' (line {line}) but is defined "
                                             "differently: give both the same definition (in the singular), so the "
                                             "glossary shows one entry and both get the same tooltip")


def _letter(term: str) -> str:
    first = term[:1].upper()
    return first if "A" <= first <= "Z" else "#"


@generator("glossary")
def glossary(ctx: Context) -> str:
    """The glossary, letter by letter, after an A-Z index (letters with no terms are shown, not linked)."""
    terms = _read_glossary(ctx.root / GLOSSARY_FILE, GLOSSARY_FILE)
    check_plurals(terms)
    by_letter: dict[str, list[GlossaryEntry]] = {}
    for entry in glossary_groups([(t, d) for t, d, _ in terms]):
        by_letter.setdefault(_letter(entry.term), []).append(entry)
    letters = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + (["#"] if "#" in by_letter else [])
    index = "".join(
        f'<li><a href="#glossary-{slug(letter) or "other"}">{letter}</a></li>' if letter in by_letter
        else f'<li><span class="glossary-az__empty" title="No terms under {letter}">{letter}</span></li>'
        for letter in letters)
    parts = [f'<nav class="glossary-az" aria-label="Glossary, A to Z"><ul>{index}</ul></nav>']
    for letter in letters:
        if letter not in by_letter:
            continue
        items = "".join(
            f'<dt id="{slug(e.term)}">{html.escape(e.term)}'
            + "".join(f' <span class="glossary-also" id="{slug(a)}">(also: {html.escape(a)})</span>' for a in e.also)
            + f"</dt><dd>{html.escape(e.definition)}</dd>"
            for e in by_letter[letter])
        parts.append(f'<h2 class="glossary-letter" id="glossary-{slug(letter) or "other"}">{letter}</h2>'
                     f'<dl class="glossary">{items}</dl>')
    return "".join(parts)


# ---------------------------------------------------------------------------
# Data-driven generators. Citations are written as [@key; ...] inside the HTML
# so the citation hook numbers them with the rest of the page.

def cite(keys: list[str]) -> str:
    return "[" + "; ".join(f"@{k}" for k in keys) + "]" if keys else ""


def e(text: str) -> str:
    return html.escape(str(text), quote=True)


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]


def human_date(date: str) -> str:
    parts = date.split("-")
    if len(parts) == 1:
        return parts[0]
    month = _MONTHS[int(parts[1]) - 1]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{int(parts[2])} {month} {parts[0]}"


@generator("timeline")
def timeline(ctx: Context) -> str:
    events = datafiles.timeline(*ctx.data("timeline.yml"), ctx.bib_keys)
    items = "".join(
        f'<li class="timeline-event"><time class="timeline-date" datetime="{e(ev.date)}">{e(human_date(ev.date))}</time>'
        f'<div class="timeline-body"><p class="timeline-title"><strong>{e(ev.title)}</strong></p>'
        f"<p>{e(ev.text)} {cite(ev.cite)}</p></div></li>"
        for ev in events
    )
    return f'<ol class="timeline" aria-label="Timeline of ketamine, {len(events)} events">{items}</ol>'


def _range(v: datafiles.Value, unit: str) -> str:
    if v.unknown:
        return '<span class="unknown">No verified data</span>'
    low = f"{v.low:g}"
    text = low if v.low == v.high else f"{low}–{v.high:g}"
    note = f' <span class="value-note">({e(v.note)})</span>' if v.note else ""
    return f"{text}{unit}{note} {cite(v.cite)}"


def _text(v: datafiles.Value) -> str:
    if v.unknown:
        return '<span class="unknown">No verified data</span>'
    return f"{e(v.text)} {cite(v.cite)}"


@generator("routes-table")
def routes_table(ctx: Context) -> str:
    routes = datafiles.routes(*ctx.data("routes.yml"), ctx.bib_keys)
    head = ("<thead><tr><th scope=\"col\">Route</th><th scope=\"col\">Bioavailability</th>"
            "<th scope=\"col\">Time to peak</th><th scope=\"col\">Onset</th><th scope=\"col\">Duration</th>"
            "<th scope=\"col\">Where it is used</th><th scope=\"col\">Evidence for depression</th></tr></thead>")
    rows = "".join(
        f'<tr id="route-{e(r.id)}"><th scope="row">{e(r.name)}</th>'
        f"<td>{_range(r.values['bioavailability_pct'], '%')}</td><td>{_range(r.values['tmax_min'], ' min')}</td>"
        f"<td>{_text(r.values['onset'])}</td><td>{_text(r.values['duration'])}</td>"
        f"<td>{_text(r.values['settings'])}</td><td>{_text(r.values['depression_evidence'])}</td></tr>"
        for r in routes
    )
    return (f'<div class="data-table"><table class="routes-table"><caption>Ketamine by route of administration. '
            f"Every value is cited; ranges show disagreement between studies.</caption>{head}<tbody>{rows}"
            "</tbody></table></div>")


# The figure: an illustrative shape, C(t) = F * x * exp(1 - x) with x = t / Tmax, which
# peaks at the cited time to peak with a height equal to the cited bioavailability.
# The decline after the peak is schematic (no verified elimination half-life is used).
FIG_W, LEFT, RIGHT, TOP, BOTTOM = 720, 64, 700, 28, 330
T_MAX_MIN = 240


def route_curve(f_pct: float, tmax: float, steps: int = 96) -> list[tuple[float, float]]:
    """(minutes, relative concentration 0-100) points of the illustrative curve."""
    points = []
    for i in range(steps + 1):
        t = T_MAX_MIN * i / steps
        x = t / tmax
        points.append((t, f_pct * x * math.exp(1 - x)))
    return points


def _xy(t: float, c: float) -> tuple[float, float]:
    return (LEFT + (RIGHT - LEFT) * t / T_MAX_MIN, BOTTOM - (BOTTOM - TOP) * c / 100)


@generator("routes-figure")
def routes_figure(ctx: Context) -> str:
    routes = datafiles.routes(*ctx.data("routes.yml"), ctx.bib_keys)
    shown = [r for r in routes if not r.values["bioavailability_pct"].unknown and not r.values["tmax_min"].unknown]
    hidden = [r.name for r in routes if r not in shown]
    height = BOTTOM + 64 + 22 * len(shown)  # room for the legend below the plot
    parts = [f'<svg class="routes-figure" viewBox="0 0 {FIG_W} {height}" role="img" '
             'aria-labelledby="routes-fig-title routes-fig-desc" xmlns="http://www.w3.org/2000/svg">',
             '<title id="routes-fig-title">Illustrative relative blood concentration of ketamine over time, by route</title>']
    desc = "; ".join(
        f"{r.name}: peak about {midpoint(r.values['tmax_min']):g} minutes, height about "
        f"{midpoint(r.values['bioavailability_pct']):g} percent of the intravenous peak" for r in shown)
    parts.append(f'<desc id="routes-fig-desc">Schematic curves, not measured data. {e(desc)}.</desc>')
    for c in (0, 25, 50, 75, 100):  # grid and y labels
        x0, y = _xy(0, c)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{RIGHT}" y2="{y:.1f}"/>'
                     f'<text class="tick" x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{c}</text>')
    for t in range(0, T_MAX_MIN + 1, 30):
        x, y = _xy(t, 0)
        parts.append(f'<text class="tick" x="{x:.1f}" y="{BOTTOM + 18}" text-anchor="middle">{t}</text>')
    parts.append(f'<line class="axis" x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}"/>'
                 f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{BOTTOM}"/>'
                 f'<text class="label" x="{(LEFT + RIGHT) / 2}" y="{BOTTOM + 40}" text-anchor="middle">'
                 "Minutes after the start of dosing</text>"
                 f'<text class="label" transform="translate(16 {(TOP + BOTTOM) / 2}) rotate(-90)" text-anchor="middle">'
                 "Relative concentration (IV peak = 100)</text>")
    for i, r in enumerate(shown):
        f, tmax = midpoint(r.values["bioavailability_pct"]), midpoint(r.values["tmax_min"])
        d = " ".join(("M" if j == 0 else "L") + "{:.1f} {:.1f}".format(*_xy(t, c))
                     for j, (t, c) in enumerate(route_curve(f, tmax)))
        parts.append(f'<path class="curve curve-{i % 8}" d="{d}"><title>{e(r.name)}</title></path>')
        ly = BOTTOM + 70 + 22 * i
        parts.append(f'<line class="curve curve-{i % 8}" x1="{LEFT}" y1="{ly - 5}" x2="{LEFT + 40}" y2="{ly - 5}"/>'
                     f'<text class="legend" x="{LEFT + 50}" y="{ly}">{e(r.name)}</text>')
    parts.append("</svg>")
    missing = (f" Not shown, because no verified bioavailability or time to peak was found: {e(', '.join(hidden))}."
               if hidden else "")
    caption = ("<figcaption><strong>Illustrative model, not dosing guidance.</strong> Each curve peaks at the "
               "midpoint of the cited time to peak, at a height equal to the midpoint of the cited bioavailability "
               "(intravenous = 100). The shape after the peak is schematic, not modelled from data, and real "
               "concentrations vary widely between people and doses. The table above is the data behind this "
               f"figure, with its sources.{missing}</figcaption>")
    return f'<figure class="routes-figure-wrap">{"".join(parts)}{caption}</figure>'


def midpoint(v: datafiles.Value) -> float:
    return (v.low + v.high) / 2


@generator("adverse-effects-table")
def adverse_effects_table(ctx: Context) -> str:
    rows = datafiles.adverse_effects(*ctx.data("adverse_effects.yml"), ctx.bib_keys)
    body = "".join(
        f'<tr><th scope="row">{e(r.effect)}</th><td>{e(r.source)} {cite(r.cite)}</td>'
        f"<td>{e(r.active)}</td><td>{e(r.control)}</td></tr>"
        for r in rows
    )
    return ('<div class="data-table"><table class="effects-table"><caption>Reported rates of adverse effects. '
            "Each row is one effect in one source; rates from different sources are not directly comparable."
            '</caption><thead><tr><th scope="col">Effect</th><th scope="col">Treatment, population and source</th>'
            '<th scope="col">With ketamine or esketamine</th><th scope="col">Comparison group</th></tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


@generator("evidence-grades")
def evidence_grades(ctx: Context) -> str:
    rows = datafiles.grades(*ctx.data("grades.yml"), ctx.bib_keys, ctx.root / "docs")
    body = []
    for r in rows:
        page, _, anchor = r.page.partition("#")
        url = ctx.link("evidence/" + page.removesuffix(".md").removesuffix("index").rstrip("/")) + (
            f"#{anchor}" if anchor else "")
        body.append(f'<tr><th scope="row"><a href="{e(url)}">{e(r.condition)}</a></th>'
                    f'<td><span class="grade grade-{r.grade}">{r.grade}</span> {datafiles.GRADES[r.grade]}</td>'
                    f"<td>{e(r.summary)} {cite(r.cite)}</td></tr>")
    return ('<div class="data-table"><table class="grades-table"><caption>Evidence grade by condition '
            "(see how grades are assigned)</caption><thead><tr><th scope=\"col\">Condition</th>"
            '<th scope="col">Grade</th><th scope="col">Summary</th></tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


DIAGRAMS = {"mechanism-diagram": "docs/assets/diagrams/mechanism.svg"}


def _inline_svg(ctx: Context, rel: str) -> str:
    path = ctx.root / rel
    if not path.exists():
        raise SiteError(ctx.page_path, ctx.line, f"diagram {rel} not found")
    svg = re.sub(r"<\?xml[^>]*\?>", "", path.read_text(encoding="utf-8"))
    if re.search(r"<script|\shref=\"https?:|xlink:href=\"https?:|@import", svg):
        raise SiteError(rel, None, "diagrams must be self-contained: no scripts or external resources")
    if not re.search(r"<svg[^>]*\brole=\"img\"", svg) or "<title" not in svg or "<desc" not in svg:
        raise SiteError(rel, None, 'diagrams need role="img", a <title> and a <desc> (text alternative)')
    svg = re.sub(r">\s+<", "><", svg.strip())
    return " ".join(svg.split())


@generator("mechanism-diagram")
def mechanism_diagram(ctx: Context) -> str:
    rel = DIAGRAMS["mechanism-diagram"]
    link = ctx.link("assets/diagrams").rstrip("/") + "/mechanism.svg"
    return (f'<figure class="diagram">{_inline_svg(ctx, rel)}<figcaption>Proposed chain of events for ketamine\'s '
            "antidepressant effect. Solid outline: established (receptor and cell studies); dashed outline: proposed, mostly from "
            f'animal studies. <a href="{link}">Open the diagram on its own</a>.</figcaption></figure>')
