"""Load and check the data files under ``data/`` (one source of truth per number).

Every mapping loaded here remembers the line it started on, so a bad value is
reported as ``data/routes.yml:LINE: message``. Each checker returns the data in
a plain, validated shape that the generators render.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sitekit.errors import SiteError, raise_all

LINE = "__line__"


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings carry the 1-based line they start on."""


def _construct_mapping(loader, node, deep=False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    mapping[LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load(path: Path, display: str) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 (safe subclass)
    except FileNotFoundError as exc:
        raise SiteError(display, None, "data file not found") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SiteError(display, mark.line + 1 if mark else None, f"not valid YAML: {exc}") from exc


class Checker:
    """Collects errors for one data file."""

    def __init__(self, display: str, bib_keys: set[str]):
        self.display, self.bib_keys, self.errors = display, bib_keys, []

    def error(self, where: Any, message: str) -> None:
        line = where.get(LINE) if isinstance(where, dict) else where if isinstance(where, int) else None
        self.errors.append(SiteError(self.display, line, message))

    def mapping(self, value: Any, where: Any, what: str) -> bool:
        if not isinstance(value, dict):
            self.error(where, f"{what} must be a mapping")
            return False
        return True

    def text(self, item: dict, key: str, what: str, required: bool = True) -> str:
        value = item.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(item, f"{what}: missing '{key}'")
            return ""
        if not isinstance(value, (str, int, float)):
            self.error(item, f"{what}: '{key}' must be text")
            return ""
        return str(value).strip()

    def cites(self, item: dict, what: str) -> list[str]:
        """The 'cite' list of a value: required, non-empty, every key in references.bib."""
        cites = item.get("cite")
        if not isinstance(cites, list) or not cites:
            self.error(item, f"{what}: every value needs a non-empty 'cite: [key, ...]' list")
            return []
        unknown = [c for c in cites if str(c) not in self.bib_keys]
        if unknown:
            self.error(item, f"{what}: unknown citation key(s) {', '.join(map(str, unknown))} (not in references.bib)")
        return [str(c) for c in cites]

    def unknown_keys(self, item: dict, allowed: set[str], what: str) -> None:
        extra = sorted(k for k in item if k not in allowed and k != LINE)
        if extra:
            self.error(item, f"{what}: unknown field(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")

    def done(self) -> None:
        raise_all(self.errors)


# ---------------------------------------------------------------------------
# Timeline

@dataclass
class Event:
    date: str
    title: str
    text: str
    cite: list[str]


_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def timeline(path: Path, display: str, bib_keys: set[str]) -> list[Event]:
    data, c = load(path, display), Checker(display, bib_keys)
    if not isinstance(data, list) or not data:
        raise SiteError(display, 1, "expected a list of events")
    events = []
    for item in data:
        if not c.mapping(item, None, "event"):
            continue
        c.unknown_keys(item, {"date", "title", "text", "cite"}, "event")
        raw = item.get("date")
        date = raw.isoformat() if isinstance(raw, dt.date) else str(raw) if raw is not None else ""
        if not _DATE.match(date):
            c.error(item, f"event date {date!r} must be YYYY, YYYY-MM or YYYY-MM-DD (quote it)")
        title = c.text(item, "title", "event")
        if len(title) > 80:
            c.error(item, f"event title is {len(title)} characters; keep it to 80")
        events.append(Event(date, title, c.text(item, "text", "event"), c.cites(item, f"event {date}")))
        if len(events) > 1 and events[-1].date < events[-2].date:
            c.error(item, f"events must be in date order: {events[-1].date} comes after {events[-2].date}")
    c.done()
    return events


# ---------------------------------------------------------------------------
# Routes: every value is {low, high, cite} / {text, cite} / {unknown: true, note}

@dataclass
class Value:
    low: float | None = None
    high: float | None = None
    text: str = ""
    note: str = ""
    cite: list[str] = field(default_factory=list)
    unknown: bool = False


@dataclass
class Route:
    id: str
    name: str
    values: dict[str, Value]


NUMERIC_FIELDS = {"bioavailability_pct": (0, 100), "tmax_min": (0, 24 * 60)}
TEXT_FIELDS = ("onset", "duration", "settings", "depression_evidence")


def _value(c: Checker, item: Any, where: dict, name: str, numeric: tuple | None) -> Value:
    what = f"route {where.get('id', '?')}: {name}"
    if not c.mapping(item, where, what):
        return Value(unknown=True)
    if item.get("unknown") is True:
        c.unknown_keys(item, {"unknown", "note", "cite"}, what)
        if not str(item.get("note", "")).strip():
            c.error(item, f"{what}: an unknown value needs a 'note' saying what is missing")
        return Value(unknown=True, note=str(item.get("note", "")).strip())
    cite = c.cites(item, what)
    note = str(item.get("note", "") or "").strip()
    if numeric is None:
        c.unknown_keys(item, {"text", "note", "cite"}, what)
        return Value(text=c.text(item, "text", what), note=note, cite=cite)
    c.unknown_keys(item, {"low", "high", "note", "cite"}, what)
    low, high = item.get("low"), item.get("high")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
        c.error(item, f"{what}: 'low' and 'high' must be numbers")
        return Value(unknown=True, note=note)
    lo, hi = numeric
    if not lo <= low <= high <= hi:
        c.error(item, f"{what}: need {lo} <= low <= high <= {hi}, got {low}..{high}")
    return Value(low=float(low), high=float(high), note=note, cite=cite)


def routes(path: Path, display: str, bib_keys: set[str]) -> list[Route]:
    data, c = load(path, display), Checker(display, bib_keys)
    if not isinstance(data, dict) or not isinstance(data.get("routes"), list):
        raise SiteError(display, 1, "expected a mapping with a 'routes' list")
    out, seen = [], set()
    for r in data["routes"]:
        if not c.mapping(r, None, "route"):
            continue
        c.unknown_keys(r, {"id", "name", *NUMERIC_FIELDS, *TEXT_FIELDS}, f"route {r.get('id', '?')}")
        rid, name = c.text(r, "id", "route"), c.text(r, "name", "route")
        if rid in seen:
            c.error(r, f"route id '{rid}' is used twice")
        seen.add(rid)
        values = {}
        for key, bounds in [*NUMERIC_FIELDS.items(), *((k, None) for k in TEXT_FIELDS)]:
            if key in r:
                values[key] = _value(c, r[key], r, key, bounds)
            else:
                c.error(r, f"route {rid}: missing '{key}' (write {{unknown: true, note: ...}} if no source gives it)")
                values[key] = Value(unknown=True)
        out.append(Route(rid, name, values))
    c.done()
    return out


# ---------------------------------------------------------------------------
# Adverse effects: one row per effect per source

@dataclass
class EffectRow:
    effect: str
    source: str
    active: str
    control: str
    cite: list[str]


def adverse_effects(path: Path, display: str, bib_keys: set[str]) -> list[EffectRow]:
    data, c = load(path, display), Checker(display, bib_keys)
    if not isinstance(data, list) or not data:
        raise SiteError(display, 1, "expected a list of rows")
    rows = []
    for item in data:
        if not c.mapping(item, None, "row"):
            continue
        c.unknown_keys(item, {"effect", "source", "active", "control", "cite"}, "row")
        what = f"row '{item.get('effect', '?')}'"
        rows.append(EffectRow(c.text(item, "effect", what), c.text(item, "source", what), c.text(item, "active", what),
                              c.text(item, "control", what), c.cites(item, what)))
    c.done()
    return rows


# ---------------------------------------------------------------------------
# Evidence grades: one row per condition

GRADES = {"A": "Established", "B": "Promising", "C": "Preliminary", "D": "Insufficient"}


@dataclass
class GradeRow:
    condition: str
    page: str
    grade: str
    summary: str
    cite: list[str]


def grades(path: Path, display: str, bib_keys: set[str], docs_dir: Path) -> list[GradeRow]:
    data, c = load(path, display), Checker(display, bib_keys)
    if not isinstance(data, list) or not data:
        raise SiteError(display, 1, "expected a list of conditions")
    rows = []
    for item in data:
        if not c.mapping(item, None, "condition"):
            continue
        c.unknown_keys(item, {"condition", "page", "grade", "summary", "cite"}, "condition")
        what = f"condition '{item.get('condition', '?')}'"
        grade = c.text(item, "grade", what)
        if grade and grade not in GRADES:
            c.error(item, f"{what}: grade must be one of {', '.join(GRADES)}")
        page = c.text(item, "page", what)
        if page and not (docs_dir / "evidence" / page.split("#")[0]).exists():
            c.error(item, f"{what}: page docs/evidence/{page.split('#')[0]} does not exist")
        rows.append(GradeRow(c.text(item, "condition", what), page, grade, c.text(item, "summary", what),
                             c.cites(item, what)))
    c.done()
    return rows
