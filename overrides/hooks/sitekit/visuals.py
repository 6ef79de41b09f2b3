"""Reader-facing visuals computed from the pages and data files: verdicts, natural frequencies, icon arrays.

Why: a verdict or a rate shown in a summary must be the same one the page and
the data file give, so every summary here is derived, never retyped:

- the claims page's summary table is read from the page's own ``### "claim"``
  headings and the ``**Verdict: X.**`` line under each (``claims``);
- a verdict is drawn as a chip with an icon and its word (``verdict``), so
  colour is never the only signal;
- a percentage becomes a natural frequency ("about 27 in 100", ``per_100``)
  and an icon array of 100 people (``icon_array``), rounded half up, with the
  exact figure kept beside it.

Plain functions, no MkDocs: the generators (templates) and the verdict-chip
hook call them. Errors name the page or data file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from markdown.extensions.toc import slugify, unique

from sitekit import mdscan
from sitekit.errors import SiteError, line_of, raise_all

# ---------------------------------------------------------------------------
# Verdicts on claims

# key -> the word shown. Longest first: "Partly supported" must not match as "Supported".
VERDICTS = {"partly": "Partly supported", "not": "Not supported", "supported": "Supported", "unknown": "Unknown"}
_VERDICT_LINE = re.compile(r"^\*\*Verdict:[ \t]+(?P<text>[^*\n]+?)\*\*")


@dataclass(frozen=True)
class Verdict:
    key: str  # supported | partly | not | unknown
    word: str  # "Partly supported"
    rest: str  # what follows the word, as written: ", for the short term." / " (approximately)." / "."


def verdict(text: str) -> Verdict | None:
    """'Supported, for the short term.' -> Verdict('supported', 'Supported', ', for the short term.')."""
    text = text.strip()
    for key, word in VERDICTS.items():
        if text.lower().startswith(word.lower()) and (len(text) == len(word) or not text[len(word)].isalpha()):
            return Verdict(key, word, text[len(word):])
    return None


@dataclass
class Claim:
    text: str  # the claim, without its quotes
    anchor: str  # the heading's id in the built page
    verdict: Verdict
    line: int


@dataclass
class Section:
    title: str
    claims: list[Claim] = field(default_factory=list)


_HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<text>.+?)[ \t]*#*[ \t]*$")
_CLAIM = re.compile(r'^"(?P<claim>.+)"$')


def _heading_text(text: str) -> str:
    """The heading as the toc extension sees it (attr_list braces dropped; no inline markup in these headings)."""
    return re.sub(r"[ \t]*\{[^}]*\}[ \t]*$", "", text).strip()


def claims(markdown: str, display: str) -> list[Section]:
    """The page's claims, grouped under their ``##`` sections, each with its verdict and heading id.

    Every ``### "claim"`` heading must be followed (after blank lines) by a ``**Verdict: X.**`` line whose X
    starts with one of the verdict words; anything else fails naming the line.
    """
    protected = mdscan.protected(markdown)
    lines = markdown.split("\n")
    offsets, pos = [], 0
    for ln in lines:
        offsets.append(pos)
        pos += len(ln) + 1
    in_front = bool(lines) and lines[0].strip() == "---"
    sections: list[Section] = []
    ids: set[str] = set()  # every heading id so far, for the toc extension's _1, _2 suffixes
    errors: list[SiteError] = []
    for i, ln in enumerate(lines):
        if in_front:
            if i > 0 and ln.strip() in ("---", "..."):
                in_front = False
            continue
        m = _HEADING.match(ln)
        if not m or offsets[i] in protected:
            continue
        text = _heading_text(m.group("text"))
        anchor = unique(slugify(text, "-"), ids)  # adds it to ids
        level = len(m.group("hashes"))
        if level == 2:
            sections.append(Section(text))
        claim = _CLAIM.match(text) if level == 3 else None
        if not claim:
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        v = _VERDICT_LINE.match(lines[j]) if j < len(lines) else None
        if not v:
            errors.append(SiteError(display, i + 1, 'a claim heading (### "...") must be followed by a '
                                                    "'**Verdict: X.**' line"))
            continue
        found = verdict(v.group("text"))
        if found is None:
            errors.append(SiteError(display, j + 1, f"unknown verdict '{v.group('text').strip()}'; it must start "
                                                    f"with one of: {', '.join(VERDICTS.values())}"))
            continue
        if not sections:
            sections.append(Section(""))
        sections[-1].claims.append(Claim(claim.group("claim"), anchor, found, i + 1))
    raise_all(errors)
    return [s for s in sections if s.claims]


def verdict_counts(sections: list[Section]) -> list[tuple[Verdict, int]]:
    """How many claims got each verdict, in the order of VERDICTS' reading order (supported first)."""
    order = ["supported", "partly", "not", "unknown"]
    counts = {k: 0 for k in order}
    for s in sections:
        for c in s.claims:
            counts[c.verdict.key] += 1
    return [(Verdict(k, VERDICTS[k], ""), counts[k]) for k in order if counts[k]]


def chip_markdown(markdown: str, display: str, offset: int = 0) -> str:
    """Turn each '**Verdict: X...**' paragraph start into 'Verdict:' plus a chip (icon and word) plus the rest.

    The rewrite stays on its line, so later line numbers are unchanged; code is left alone.
    """
    protected = mdscan.protected(markdown)
    out, last = [], 0
    for m in re.finditer(r"(?m)" + _VERDICT_LINE.pattern[1:], markdown):
        if m.start() in protected:
            continue
        found = verdict(m.group("text"))
        if found is None:
            raise SiteError(display, line_of(markdown, m.start()) + offset,
                            f"unknown verdict '{m.group('text').strip()}'; it must start with one of: "
                            f"{', '.join(VERDICTS.values())}")
        out += [markdown[last:m.start()], chip_html(found, label=True)]
        last = m.end()
    out.append(markdown[last:])
    return "".join(out)


# Small icons drawn in the chip's text colour; the word beside them carries the meaning.
_ICONS = {
    "supported": '<path d="M3 8.5l3.2 3.2L13 4.8" fill="none" stroke="currentColor" stroke-width="2.2" '
                 'stroke-linecap="round" stroke-linejoin="round"/>',
    "partly": '<circle cx="8" cy="8" r="5.6" fill="none" stroke="currentColor" stroke-width="1.8"/>'
              '<path d="M8 2.4a5.6 5.6 0 0 1 0 11.2z" fill="currentColor"/>',
    "not": '<path d="M4 4l8 8M12 4l-8 8" fill="none" stroke="currentColor" stroke-width="2.2" '
           'stroke-linecap="round"/>',
    "unknown": '<path d="M5.6 5.9a2.5 2.5 0 1 1 3.5 2.3c-.7.3-1.1.8-1.1 1.5v.6" fill="none" stroke="currentColor" '
               'stroke-width="1.9" stroke-linecap="round"/><circle cx="8" cy="13" r="1.1" fill="currentColor"/>',
}


def icon_svg(key: str) -> str:
    return (f'<svg class="verdict-icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" '
            f'focusable="false">{_ICONS[key]}</svg>')


def chip_html(v: Verdict, label: bool = False) -> str:
    """One line of inline HTML: the verdict chip (icon and word); with ``label``, the bold 'Verdict:' before it
    and the rest of the verdict as written after it (the body of the claims page)."""
    chip = f'<span class="verdict verdict-{v.key}">{icon_svg(v.key)}{v.word}</span>'
    if not label:
        return chip
    rest = v.rest.replace("&", "&amp;").replace("<", "&lt;")
    return f'<strong class="verdict-label">Verdict:</strong> {chip}' + (f"<strong>{rest}</strong>" if rest else "")


# ---------------------------------------------------------------------------
# Numbers people understand


@dataclass(frozen=True)
class Frequency:
    count: int  # people out of `per`
    per: int  # 100, or 1,000 when fewer than 1 in 100
    about: bool  # the count was rounded

    def __str__(self) -> str:
        per = f"{self.per:,}"
        return f"{'about ' if self.about else ''}{self.count} in {per}"


def per_100(percent: float) -> Frequency:
    """A percentage as a natural frequency, rounded half up: 26.7 -> about 27 in 100; 0.5 -> 5 in 1,000."""
    if not 0 <= percent <= 100:
        raise ValueError(f"a percentage must be between 0 and 100, got {percent:g}")
    exact = Decimal(str(percent))
    if 0 < exact < 1:  # fewer than 1 in 100: say it per 1,000 (0.5% is 5 in 1,000, not "about 1 in 100")
        if exact < Decimal("0.1"):
            raise ValueError(f"{percent:g}% is fewer than 1 in 1,000: describe it in words, not as a frequency")
        per_1000 = int((exact * 10).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return Frequency(per_1000, 1000, per_1000 != exact * 10)
    count = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    count = min(count, 99) if exact < 100 else count  # never round a minority up to "all"
    return Frequency(count, 100, count != exact)


def percent_of(text: str) -> float | None:
    """The leading percentage of a rate written as text ('41%', '9% (placebo ...)'), else None."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*%", str(text))
    return float(m.group(1)) if m else None


ICON = 10  # user units per person in the array's viewBox (10 x 10 people)


def icon_array(count: int, total: int = 100, columns: int = 10) -> list[dict]:
    """Rectangles that tile the array with the 'filled' and 'empty' person patterns: the first ``count``
    people (left to right, top to bottom) filled. Four rectangles at most, so the HTML stays small."""
    if not 0 <= count <= total or total % columns:
        raise ValueError(f"cannot draw {count} of {total} in {columns} columns")
    full, part = divmod(count, columns)
    rows = total // columns
    rects = []
    if full:
        rects.append({"x": 0, "y": 0, "w": columns * ICON, "h": full * ICON, "on": True})
    if part:
        rects.append({"x": 0, "y": full * ICON, "w": part * ICON, "h": ICON, "on": True})
        rects.append({"x": part * ICON, "y": full * ICON, "w": (columns - part) * ICON, "h": ICON, "on": False})
    top = (full + (1 if part else 0)) * ICON
    if top < rows * ICON:
        rects.append({"x": 0, "y": top, "w": columns * ICON, "h": rows * ICON - top, "on": False})
    return rects


# ---------------------------------------------------------------------------
# Values for the templates (overrides/generated/*.html). Each takes the generator context and the validated data.

def _markup(html: str):
    from markupsafe import Markup  # Jinja2's safe-string type: this HTML is built here from checked values
    return Markup(html)


def qualifier(v: Verdict) -> str:
    """What follows the verdict word, without its joining comma and final full stop: 'for the short term'."""
    return v.rest.strip().lstrip(",").strip().rstrip(".").strip()


def claims_summary_values(ctx, _data) -> dict:
    """The claims of the page holding the marker, read from its source file (line numbers as in the file)."""
    source = (ctx.root / ctx.page_path).read_text(encoding="utf-8")
    sections = claims(source, ctx.page_path)
    if not sections:
        raise SiteError(ctx.page_path, ctx.line, 'claims-summary: this page has no \'### "claim"\' headings '
                                                 "followed by a '**Verdict: X.**' line")
    return {"sections": sections, "counts": verdict_counts(sections),
            "total": sum(len(s.claims) for s in sections),
            "chip": lambda v: _markup(chip_html(v)), "qualifier": qualifier}


def grade_summary_values(ctx, grades) -> dict:
    """This page's rows of data/grades.yml (``page: depression.md`` matches docs/evidence/depression.md)."""
    path = ctx.page_path.replace("\\", "/")
    prefix = "docs/evidence/"
    name = path[len(prefix):] if path.startswith(prefix) else None
    rows = [r for r in grades if name is not None and r.page.split("#")[0] == name]
    if not rows:
        raise SiteError(ctx.page_path, ctx.line, f"grade-summary: no row of data/grades.yml has 'page: "
                                                 f"{name or path}' (condition pages are under docs/evidence/)")
    return {"rows": rows, "grades_url": ctx.link("evidence/grades")}


def _arm(percent: float, exact: str, pid: str) -> dict:
    freq = per_100(percent)
    count = freq.count if freq.per == 100 else 0  # fewer than 1 in 100: no filled person
    return {"freq": freq, "rects": icon_array(count), "exact": exact, "percent": percent}


def _exact(arm, n_total: int | None) -> str:
    pct = f"{arm.percent:g}%"
    if arm.events is not None:
        return f"{arm.events} of {arm.n} ({pct})"
    return f"{pct} of {arm.n}" if arm.n else pct


def check_facts(ctx, outcomes) -> None:
    """A trial whose result is also stated in words in data/facts.yml (``fact: NAME``) must agree with it: every
    group's percentage appears in the fact's text and the fact cites the trial's record. Two places, one truth."""
    from sitekit import datafiles, facts as factsmod

    named = [(i, t) for i, t in enumerate(outcomes.trials) if t.fact]
    if not named:
        return
    known = factsmod.load(ctx.root / "data" / "facts.yml")
    path, display = ctx.data("outcomes.yml")
    _, lines = datafiles.load(path, display)
    errors = []
    for i, t in named:
        where = lines.get(("trials", i, "fact"))
        fact = known.get(t.fact)
        if fact is None:
            errors.append(SiteError(display, where, f"trial {t.id}: no fact '{t.fact}' in data/facts.yml"))
            continue
        missing = [f"{a.percent:g}%" for a in t.arms if f"{a.percent:g}%" not in fact.text]
        if missing:
            errors.append(SiteError(display, where, f"trial {t.id}: {', '.join(missing)} not in the text of fact "
                                                    f"'{t.fact}' (data/facts.yml:{fact.line}); make them agree"))
        if not set(t.cite) <= set(fact.cite):
            errors.append(SiteError(display, where, f"trial {t.id}: fact '{t.fact}' does not cite "
                                                    f"{', '.join(sorted(set(t.cite) - set(fact.cite)))}"))
    raise_all(errors)


def trial_outcomes_values(ctx, outcomes) -> dict:
    check_facts(ctx, outcomes)
    pid = f"people-{ctx.line}"
    trials = []
    for t in outcomes.trials:
        arms = [{"name": a.name, **_arm(a.percent, _exact(a, t.n_total), pid)} for a in t.arms]
        trials.append({"id": t.id, "trial": t.trial, "design": t.design, "population": t.population,
                       "comparison": t.comparison, "outcome": t.outcome, "event": t.event, "timepoint": t.timepoint,
                       "better": t.better, "note": t.note, "result": t.result, "cite": t.cite, "arms": arms,
                       "people": t.people})
    return {"trials": trials, "pid": pid}


def side_effect_values(ctx, outcomes) -> dict:
    """The label's common side effects: rows of data/adverse_effects.yml from ``label_harms.source`` whose rate
    with esketamine is at least ``min_percent``. A selected row whose rates are not plain percentages, or a
    source no row has, fails naming the line."""
    from sitekit import datafiles  # the data-file reader, with the line of every value

    harms_cfg = outcomes.label_harms
    path, display = ctx.data("adverse_effects.yml")
    rows, lines = datafiles.load(path, display)
    pid = f"people-{ctx.line}"
    harms, errors, matched = [], [], 0
    for i, row in enumerate(rows if isinstance(rows, list) else []):
        if not isinstance(row, dict) or str(row.get("source", "")).strip() != harms_cfg.source:
            continue
        matched += 1
        active, control = percent_of(row.get("active", "")), percent_of(row.get("control", ""))
        for key, value in (("active", active), ("control", control)):
            if value is None:
                errors.append(SiteError(display, lines.get((i, key)), f"row '{row.get('effect')}': '{key}' must "
                                        "start with a percentage (e.g. \"41%\") to be drawn as people out of 100"))
        if active is None or control is None or active < harms_cfg.min_percent:
            continue
        harms.append({"effect": str(row["effect"]).strip(), "cite": list(row.get("cite") or []), "arms": [
            {"name": arm.name, **_arm(pct, text, pid)}
            for arm, pct, text in zip(harms_cfg.arms, (active, control), (f"{active:g}%", f"{control:g}%"),
                                      strict=True)]})
    if not matched:
        out_path, out_display = ctx.data("outcomes.yml")
        _, out_lines = datafiles.load(out_path, out_display)
        errors.append(SiteError(out_display, out_lines.get(("label_harms", "source")),
                                f"label_harms: no row of {display} has source '{harms_cfg.source}'"))
    raise_all(errors)
    if not harms:
        raise SiteError(ctx.page_path, ctx.line, f"side-effect-icons: no side effect reaches "
                                                 f"{harms_cfg.min_percent:g}% in {display}")
    harms.sort(key=lambda h: -h["arms"][0]["percent"])
    return {"harms": harms, "pid": pid, "arms": harms_cfg.arms, "min_percent": harms_cfg.min_percent,
            "cite_keys": harms_cfg.cite, "depression_url": ctx.link("evidence/depression")}
