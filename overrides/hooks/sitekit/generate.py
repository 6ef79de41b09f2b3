"""Generated blocks: ``<!-- generate: NAME -->`` on its own line.

Why: numbers that appear in tables, timelines and figures must have exactly one
source of truth (a data file where every value carries its citation), so they
are generated at build time instead of typed twice.

A generator is three things, each in one obvious place:

- a **template**, ``overrides/generated/NAME.html`` (Jinja2, autoescaped): all
  markup and all editorial text (captions, notes, headings);
- a **schema** for its data file, in ``sitekit.schemas`` (pydantic), which
  reports every problem as ``data/x.yml:LINE: message``;
- a **registry line** below, naming the data file and the schema.

The rendered template is folded into one line of HTML, which keeps every later
line number of the page valid for error messages; citations inside it
(``[@key]``) are numbered by the citation hook like any other. An unknown
generator name fails the build at that line.
"""

from __future__ import annotations

import functools
import math
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import jinja2
from markupsafe import Markup

from sitekit import crisis, datafiles, mdscan, schemas, visuals
from sitekit.bibfile import EVIDENCE_TYPES
from sitekit.errors import SiteError, line_of

MARKER = re.compile(r"(?m)^[ \t]*<!-- generate: (?P<name>[a-z0-9-]+) -->[ \t]*$")
TEMPLATES = Path(__file__).resolve().parents[2] / "generated"  # overrides/generated/
TEMPLATES_DISPLAY = "overrides/generated"


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
        """A link from this page to another page's URL (directory URLs; an #anchor is kept)."""
        target, hash_, anchor = target_url.partition("#")
        return posixpath.relpath(target or ".", self.page_url or ".") + "/" + hash_ + anchor


@dataclass(frozen=True)
class Generator:
    """A registry entry: the template is ``NAME.html``; ``data`` is validated by ``schema``."""

    data: str | None = None  # file under data/
    schema: type | None = None  # its model in sitekit.schemas
    extra: Callable[[Context, Any], dict] | None = None  # values computed in Python (geometry, other files)
    template: str | None = None  # another generator's template, reused with different ``extra`` values


def read(ctx: Context, gen: Generator) -> Any:
    """The generator's data file, validated; a RootModel gives its list."""
    if gen.data is None:
        return None
    path, display = ctx.data(gen.data)
    model = datafiles.validate(gen.schema, path, display,
                               {"bib_keys": ctx.bib_keys, "docs_dir": ctx.root / "docs"})
    return getattr(model, "root", model)


def expand(markdown: str, root: Path, page_path: str, offset: int, page_url: str = "",
           bib_keys: frozenset = frozenset()) -> str:
    """Replace every marker outside code with its generator's one-line HTML."""
    protected = mdscan.protected(markdown, comments=False)
    out, last = [], 0
    for m in MARKER.finditer(markdown):
        if m.start() in protected:
            continue
        name, line = m.group("name"), line_of(markdown, m.start()) + offset
        if name not in REGISTRY:
            raise SiteError(page_path, line, f"unknown generator '{name}'; known: {', '.join(sorted(REGISTRY))}")
        out += [markdown[last:m.start()], render(name, Context(root, page_path, line, page_url, bib_keys))]
        last = m.end()
    out.append(markdown[last:])
    return "".join(out)


def render(name: str, ctx: Context) -> str:
    """One generator's HTML, on one line."""
    gen = REGISTRY[name]
    data = read(ctx, gen)
    values = {"data": data, "page": ctx, **(gen.extra(ctx, data) if gen.extra else {})}
    try:
        html = environment().get_template(f"{gen.template or name}.html").render(values)
    except jinja2.TemplateNotFound as exc:
        raise SiteError(ctx.page_path, ctx.line, f"generator '{name}' has no template {TEMPLATES_DISPLAY}/{name}.html") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise SiteError(f"{TEMPLATES_DISPLAY}/{exc.name or name + '.html'}", exc.lineno, exc.message or str(exc)) from exc
    except jinja2.TemplateError as exc:
        file, line = _template_line(exc, f"{name}.html")
        raise SiteError(f"{TEMPLATES_DISPLAY}/{file}", line, str(exc)) from exc
    return one_line(html)


def _template_line(exc: Exception, file: str) -> tuple[str, int | None]:
    """The template file and line a render error came from (Jinja rewrites the traceback to template lines)."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(str(TEMPLATES)):
            file, line = Path(tb.tb_frame.f_code.co_filename).name, tb.tb_lineno
        tb = tb.tb_next
    return file, line


def one_line(html: str) -> str:
    """Fold a rendered template onto one line.

    A line break after a tag, or before a closing block tag, disappears; any other becomes one space (so
    end a line with a word, not a tag, where a space must stay).
    """
    html = re.sub(r">[ \t]*\n\s*", ">", html.strip())
    html = re.sub(r"\s+(</(?:td|th|li|p|dd|dt|caption|figcaption|desc|text)>)", r"\1", html)  # no space before a closing block
    return re.sub(r"\s*\n\s*", " ", html)


# --- the template environment -----------------------------------------------------

def cite(keys) -> str:
    """``[@a; @b]``: the citation hook numbers it like any citation in the page."""
    return "[" + "; ".join(f"@{k}" for k in keys) + "]" if keys else ""


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]


def human_date(date: str) -> str:
    parts = date.split("-")
    if len(parts) == 1:
        return parts[0]
    month = _MONTHS[int(parts[1]) - 1]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{int(parts[2])} {month} {parts[0]}"


def number(value: float) -> str:
    """12.0 -> '12', 0.5 -> '0.5'."""
    return f"{value:g}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(cite=cite)
    env.filters.update(human_date=human_date, number=number, slug=slug)
    return env


# ---------------------------------------------------------------------------
# Values computed in Python for some templates (no editorial text here)

# Glossary: includes/abbreviations.md is the one source of every page's tooltips (the build gives it to
# the abbr extension as its glossary, sitekit.mkbuild) and of the Glossary page, so the two cannot differ.
GLOSSARY_FILE = "includes/abbreviations.md"
_ABBR = re.compile(r"^\*\[(?P<term>[^\]]+)\]:[ \t]+(?P<definition>\S.*)$")


def read_glossary(path: Path, display: str = GLOSSARY_FILE) -> list[tuple[str, str]]:
    """[(term, definition)] from '*[TERM]: definition' lines (blank lines and <!-- comments --> between
    them); every problem names its line. Parsed once per content: the build's tooltips and the Glossary
    page both ask for it."""
    return list(_parse_glossary(path.read_text(encoding="utf-8"), display))


@functools.lru_cache(maxsize=4)
def _parse_glossary(text: str, display: str) -> tuple[tuple[str, str], ...]:
    terms, seen = [], {}
    in_comment = False
    for number_, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if in_comment or stripped.startswith("<!--"):
            in_comment = "-->" not in stripped
            continue
        if not stripped:
            continue
        m = _ABBR.match(stripped)
        if not m:
            raise SiteError(display, number_, "expected '*[TERM]: definition'")
        term = m.group("term")
        if term in seen:
            raise SiteError(display, number_, f"'{term}' is already defined on line {seen[term]}")
        seen[term] = number_
        terms.append((term, m.group("definition").strip(), number_))
    _check_plurals(terms, display)
    return tuple((term, definition) for term, definition, _ in terms)


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


def _check_plurals(terms: list[tuple[str, str, int]], display: str) -> None:
    """A plural defined beside its singular must have the same definition, so the glossary shows one entry
    and both forms get the same tooltip."""
    lower = {t.lower(): (t, d, n) for t, d, n in terms}
    for term, definition, number_ in terms:
        low = term.lower()
        if low.endswith("s") and low[:-1] in lower and lower[low[:-1]][1] != definition:
            singular, _, line = lower[low[:-1]]
            raise SiteError(display, number_, f"'{term}' is the plural of '{singular}' (line {line}) but is defined "
                                              "differently: give both the same definition (in the singular), so the "
                                              "glossary shows one entry and both get the same tooltip")


def _glossary(ctx: Context, _data) -> dict:
    """Entries by first letter, for the A-Z index (letters with no terms are listed, not linked)."""
    entries = glossary_groups(read_glossary(ctx.root / GLOSSARY_FILE))
    by_letter: dict[str, list[GlossaryEntry]] = {}
    for entry in entries:
        first = entry.term[:1].upper()
        by_letter.setdefault(first if "A" <= first <= "Z" else "#", []).append(entry)
    letters = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + (["#"] if "#" in by_letter else [])
    return {"entries": entries, "letters": [(letter, "glossary-" + (slug(letter) or "other"), by_letter.get(letter, []))
                        for letter in letters]}


# The routes figure: an illustrative shape, C(t) = F * x * exp(1 - x) with x = t / Tmax,
# which peaks at the cited time to peak with a height equal to the cited bioavailability
# (midpoints of the ranges). The decline after the peak is schematic.
FIG_W, LEFT, RIGHT, TOP, BOTTOM = 720, 64, 700, 28, 330
T_MAX_MIN = 240
LEGEND_ROW = 40  # two lines per route: its name, then its evidence size


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


def drawable(route: schemas.Route) -> bool:
    return not route.bioavailability_pct.unknown and not route.tmax_min.unknown


def _routes_figure(ctx: Context, routes: schemas.Routes) -> dict:
    shown = [r for r in routes.routes if drawable(r)]
    curves = []
    for i, r in enumerate(shown):
        f, tmax = r.bioavailability_pct.midpoint, r.tmax_min.midpoint
        d = " ".join(("M" if j == 0 else "L") + "{:.1f} {:.1f}".format(*_xy(t, c))
                     for j, (t, c) in enumerate(route_curve(f, tmax)))
        curves.append({"route": r, "d": d, "style": i % 8, "peak_pct": f, "peak_min": tmax,
                       "legend_y": BOTTOM + 70 + LEGEND_ROW * i})
    return {
        "shown": shown, "hidden": [r for r in routes.routes if not drawable(r)], "curves": curves,
        "width": FIG_W, "height": BOTTOM + 64 + LEGEND_ROW * len(shown),
        "left": LEFT, "right": RIGHT, "top": TOP, "bottom": BOTTOM,
        "y_ticks": [(c, _xy(0, c)[1]) for c in (0, 25, 50, 75, 100)],
        "x_ticks": [(t, _xy(t, 0)[0]) for t in range(0, T_MAX_MIN + 1, 30)],
    }


def _evidence_types(ctx: Context, _data) -> dict:
    return {"types": EVIDENCE_TYPES}


def _svg(ctx: Context, rel: str) -> Markup:
    """A hand-drawn SVG under docs/, checked and folded onto one line."""
    path = ctx.root / rel
    if not path.exists():
        raise SiteError(ctx.page_path, ctx.line, f"diagram {rel} not found")
    svg = re.sub(r"<\?xml[^>]*\?>", "", path.read_text(encoding="utf-8"))
    if re.search(r"<script|\shref=\"https?:|xlink:href=\"https?:|@import", svg):
        raise SiteError(rel, None, "diagrams must be self-contained: no scripts or external resources")
    if not re.search(r"<svg[^>]*\brole=\"img\"", svg) or "<title" not in svg or "<desc" not in svg:
        raise SiteError(rel, None, 'diagrams need role="img", a <title> and a <desc> (text alternative)')
    return Markup(" ".join(re.sub(r">\s+<", "><", svg.strip()).split()))


def _diagram(*rels: str) -> Callable[[Context, Any], dict]:
    """Hand-drawn SVGs under docs/, inlined (so they follow the colour scheme): ``svg`` and ``href`` are the
    first; ``svgs`` all of them (a phone version, or the panels of one figure)."""
    def extra(ctx: Context, _data) -> dict:
        svgs = [_svg(ctx, rel) for rel in rels]
        return {"svg": svgs[0], "svgs": svgs, "href": ctx.link(posixpath.dirname(rels[0].removeprefix("docs/")))
                .rstrip("/") + "/" + posixpath.basename(rels[0])}
    return extra


def _whats_new(ctx: Context, _data) -> dict:
    """Every page's dated changes, from the pages' front matter (sitekit.changes)."""
    from sitekit import changes

    return {"days": changes.days(changes.collect(ctx.root / "docs"), ctx.link)}


# ---------------------------------------------------------------------------
# The registry: one line per generator (its template is overrides/generated/NAME.html).

REGISTRY: dict[str, Generator] = {
    "timeline": Generator("timeline.yml", schemas.Timeline),
    "routes-table": Generator("routes.yml", schemas.Routes),
    "routes-figure": Generator("routes.yml", schemas.Routes, _routes_figure),
    "routes-bioavailability": Generator("routes.yml", schemas.Routes, lambda ctx, d: {"only": []}),
    "routes-bioavailability-oral": Generator("routes.yml", schemas.Routes, lambda ctx, d: {"only": ["oral"]},
                                             "routes-bioavailability"),
    "routes-bioavailability-sublingual": Generator("routes.yml", schemas.Routes, lambda ctx, d: {"only": ["sublingual"]},
                                                   "routes-bioavailability"),
    "adverse-effects-table": Generator("adverse_effects.yml", schemas.AdverseEffects),
    "evidence-grades": Generator("grades.yml", schemas.Grades),
    "evidence-types": Generator(extra=_evidence_types),
    "glossary": Generator(extra=_glossary),
    "whats-new": Generator(extra=_whats_new),
    "mechanism-diagram": Generator(extra=_diagram("docs/assets/diagrams/mechanism.svg",
                                                  "docs/assets/diagrams/mechanism-compact.svg")),
    "crisis-lines": Generator("crisis_lines.yml", schemas.CrisisLines, crisis.template_values),
    "nmda-diagram": Generator(extra=_diagram(*(f"docs/assets/diagrams/nmda-{panel}.svg"
                                               for panel in ("open", "blocked", "trapped")))),
    "grade-summary": Generator("grades.yml", schemas.Grades, visuals.grade_summary_values),
    "claims-summary": Generator(extra=visuals.claims_summary_values),
    "trial-outcomes": Generator("outcomes.yml", schemas.Outcomes, visuals.trial_outcomes_values),
    "side-effect-icons": Generator("outcomes.yml", schemas.Outcomes, visuals.side_effect_values),
}
