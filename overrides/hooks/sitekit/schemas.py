"""One schema per data file under ``data/`` (pydantic models).

Why: a data file is the single source of every number a generated block shows,
so what it may contain is declared once, here, as types — not re-checked by
hand in each generator. ``sitekit.datafiles.validate`` runs a schema and turns
every problem into ``data/x.yml:LINE: message``.

Conventions a schema follows:

- ``extra="forbid"``: an unknown field is an error (typos never pass silently).
- A field's ``description`` is shown when it is missing, so write it as advice.
- ``__label__ = (noun, format)`` names a record in messages ("route oral").
- Rules across records (order, uniqueness, bounds per column) live in a
  ``problems()`` method that yields ``(location, message)``; rules that need the
  project (references.bib keys, existing pages) read the validation context.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, ClassVar, Iterator, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, RootModel,
                      StringConstraints, ValidationInfo, model_validator)

Loc = tuple[str | int, ...]


class Record(BaseModel):
    """A mapping in a data file: unknown fields are errors, numbers are accepted as text."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)

    def problems(self) -> Iterator[tuple[Loc, str]]:
        """Rules that span several fields or records; none by default."""
        return iter(())


# --- shared field types -----------------------------------------------------------

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Note = Annotated[str, StringConstraints(strip_whitespace=True)]


def _known_keys(keys: list[str], info: ValidationInfo) -> list[str]:
    known = (info.context or {}).get("bib_keys")
    unknown = [k for k in keys if known is not None and k not in known]
    if unknown:
        raise ValueError(f"unknown citation key(s) {', '.join(unknown)} (not in references.bib)")
    return keys


CITE_ADVICE = "every value needs a non-empty 'cite: [key, ...]' list of references.bib keys"
Cites = Annotated[list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]],
                  Field(min_length=1, description=CITE_ADVICE), AfterValidator(_known_keys)]

# --- data/timeline.yml -------------------------------------------------------------

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _date_text(value):
    return value.isoformat() if isinstance(value, dt.date) else str(value) if isinstance(value, int) else value


def _date_form(value: str) -> str:
    if not _DATE.match(value):
        raise ValueError(f"{value!r} must be YYYY, YYYY-MM or YYYY-MM-DD (quote it)")
    return value


class Event(Record):
    __label__ = ("event", "{date}")
    date: Annotated[str, BeforeValidator(_date_text), AfterValidator(_date_form)]
    title: Annotated[Text, Field(max_length=80, description="a short title, at most 80 characters")]
    text: Text
    cite: Cites


class Timeline(RootModel[Annotated[list[Event], Field(min_length=1)]]):
    """data/timeline.yml: a list of events in date order."""

    def problems(self) -> Iterator[tuple[Loc, str]]:
        for i in range(1, len(self.root)):
            if self.root[i].date < self.root[i - 1].date:
                yield (i,), (f"events must be in date order: {self.root[i].date} comes after "
                             f"{self.root[i - 1].date}")


# --- data/routes.yml -----------------------------------------------------------------

def _people(n: int | str) -> int | str:
    if isinstance(n, bool) or (isinstance(n, int) and n < 1) or (isinstance(n, str) and n != "not stated"):
        raise ValueError(f"n must be a number of people (1 or more) or 'not stated', got {n!r}")
    return n


class Finding(Record):
    """One study's value for one measure (a single value is low == high)."""

    __label__ = ("study", None)
    low: float
    high: float
    n: Annotated[int | str, AfterValidator(_people), Field(description=(
        "how many people the value comes from; 'not stated' only when the source (e.g. a drug label) does not say"))]
    population: Annotated[Text, Field(description=(
        "who they were, as a plural phrase that reads after the number, e.g. 'healthy men' (8 healthy men)"))]
    note: Note = ""
    cite: Cites

    @model_validator(mode="after")
    def _ordered(self):
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        return self


UNKNOWN_ADVICE = "write {unknown: true, note: why no primary human study gives it} if none does"


class Numeric(Record):
    """A number per route: findings from studies, a value fixed by definition or protocol, or unknown."""

    studies: list[Finding] = []
    fixed: float | None = Field(None, description="a value fixed by definition or by protocol, not measured (IV bioavailability is 100% by definition)")
    unknown: bool = False
    note: Note = ""
    cite: list[str] = []

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k, present in (("studies", bool(self.studies)), ("fixed", self.fixed is not None),
                                      ("unknown", self.unknown)) if present]
        if len(kinds) != 1:
            raise ValueError("give exactly one of 'studies: [...]', 'fixed: VALUE' or 'unknown: true'"
                             + (f" (found {', '.join(kinds)})" if kinds else ""))
        if self.unknown and not self.note:
            raise ValueError("an unknown value needs a 'note' saying why no study gives it")
        if self.fixed is not None and not self.note:
            raise ValueError("a fixed value needs a 'note' saying why it is fixed")
        if self.fixed is not None and not self.cite:
            raise ValueError(f"a fixed value still needs a source: {CITE_ADVICE}")
        if self.studies and self.cite:
            raise ValueError("cite each study inside 'studies', not the value")
        return self

    @property
    def low(self) -> float:
        return self.fixed if self.fixed is not None else min(s.low for s in self.studies)

    @property
    def high(self) -> float:
        return self.fixed if self.fixed is not None else max(s.high for s in self.studies)

    @property
    def midpoint(self) -> float:
        return (self.low + self.high) / 2

    @property
    def people(self) -> int | None:
        """People behind all the studies, or None if a source does not say."""
        counts = [s.n for s in self.studies]
        return sum(counts) if all(isinstance(n, int) for n in counts) else None

    @property
    def cites(self) -> list[str]:
        return list(dict.fromkeys([*self.cite, *(k for s in self.studies for k in s.cite)]))


class Described(Record):
    """A short text per route, with its sources, or unknown."""

    text: Note = ""
    note: Note = ""
    unknown: bool = False
    cite: list[str] = []

    @model_validator(mode="after")
    def _one_kind(self):
        if self.unknown:
            if self.text or self.cite:
                raise ValueError("an unknown value has only 'unknown: true' and a 'note'")
            if not self.note:
                raise ValueError("an unknown value needs a 'note' saying why no study gives it")
        elif not self.text:
            raise ValueError(f"missing 'text' ({UNKNOWN_ADVICE})")
        elif not self.cite:
            raise ValueError(f"missing 'cite': {CITE_ADVICE}")
        return self


def _cited(value: Numeric | Described, info: ValidationInfo):
    _known_keys(value.cite, info)
    return value


Measure = Annotated[Numeric, AfterValidator(_cited), Field(description=UNKNOWN_ADVICE)]
Description = Annotated[Described, AfterValidator(_cited), Field(description=UNKNOWN_ADVICE)]
BOUNDS = {"bioavailability_pct": (0, 100), "tmax_min": (0, 24 * 60)}


class Route(Record):
    __label__ = ("route", "{id}")
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$")]
    name: Text
    bioavailability_pct: Measure
    tmax_min: Measure
    onset: Description
    duration: Description
    settings: Description
    depression_evidence: Description


class Routes(Record):
    """data/routes.yml: ``routes:`` a list of routes, one table row each."""

    routes: Annotated[list[Route], Field(min_length=1)]

    def problems(self) -> Iterator[tuple[Loc, str]]:
        seen = set()
        for i, route in enumerate(self.routes):
            if route.id in seen:
                yield ("routes", i), f"id '{route.id}' is used twice"
            seen.add(route.id)
            for field, (lo, hi) in BOUNDS.items():
                fixed = getattr(route, field).fixed
                if fixed is not None and not lo <= fixed <= hi:
                    yield ("routes", i, field, "fixed"), f"need {lo} <= fixed <= {hi}, got {fixed:g}"
                for j, s in enumerate(getattr(route, field).studies):
                    if not lo <= s.low <= s.high <= hi:
                        yield ("routes", i, field, "studies", j), (f"need {lo} <= low <= high <= {hi}, "
                                                                   f"got {s.low:g}..{s.high:g}")

    def route(self, route_id: str) -> Route:
        for r in self.routes:
            if r.id == route_id:
                return r
        raise KeyError(route_id)


# --- data/adverse_effects.yml ------------------------------------------------------

class EffectRow(Record):
    __label__ = ("row", "'{effect}'")
    effect: Text
    source: Annotated[Text, Field(description="treatment, population and source, as the source reports them")]
    active: Text
    control: Text
    cite: Cites


class AdverseEffects(RootModel[Annotated[list[EffectRow], Field(min_length=1)]]):
    """data/adverse_effects.yml: one row per effect per source."""


# --- data/grades.yml -------------------------------------------------------------------

GRADES = {"A": "Established", "B": "Promising", "C": "Preliminary", "D": "Insufficient"}


def _page_exists(page: str, info: ValidationInfo) -> str:
    docs = (info.context or {}).get("docs_dir")
    if docs is not None and not (Path(docs) / "evidence" / page.split("#")[0]).exists():
        raise ValueError(f"page docs/evidence/{page.split('#')[0]} does not exist")
    return page


class Condition(Record):
    __label__ = ("condition", "'{condition}'")
    condition: Text
    page: Annotated[Text, AfterValidator(_page_exists), Field(description="a page under docs/evidence/, e.g. ptsd.md")]
    grade: Literal["A", "B", "C", "D"]
    summary: Text
    cite: Cites

    words: ClassVar[dict[str, str]] = GRADES

    @property
    def url(self) -> str:
        """The page's URL relative to the site root, anchor kept (evidence/ptsd/#x)."""
        page, _, anchor = self.page.partition("#")
        path = "evidence/" + page.removesuffix(".md").removesuffix("index").rstrip("/")
        return path.rstrip("/") + "/" + (f"#{anchor}" if anchor else "")


class Grades(RootModel[Annotated[list[Condition], Field(min_length=1)]]):
    """data/grades.yml: one row per condition."""


# --- data/outcomes.yml -----------------------------------------------------------------

def _decimals(value: float) -> int:
    text = repr(float(value))
    return 0 if text.endswith(".0") else len(text.split(".")[1])


class Arm(Record):
    """One randomized group of a trial, with its result exactly as the trial's record reports it."""

    __label__ = ("group", "'{name}'")
    name: Annotated[Text, Field(description="a short name that reads in 'in the NAME group', e.g. 'ketamine'")]
    percent: Annotated[float, Field(ge=0, le=100, description="the percentage exactly as the record reports it")]
    n: Annotated[int, Field(ge=1, description="people counted in this group, when the record gives it")] | None = None
    events: Annotated[int, Field(ge=0, description="people with the outcome, when the record gives it")] | None = None

    @model_validator(mode="after")
    def _consistent(self):
        if self.events is not None:
            if self.n is None:
                raise ValueError("'events' needs 'n', the number of people in the group")
            if self.events > self.n:
                raise ValueError(f"{self.events} events in a group of {self.n}")
            share = 100 * self.events / self.n
            if round(share, _decimals(self.percent)) != self.percent:
                raise ValueError(f"{self.events} of {self.n} is {share:.2f}%, which does not round to the "
                                 f"reported {self.percent:g}%")
        return self


class Trial(Record):
    """One outcome of one trial: what Cochrane's summary of findings shows, for one row."""

    __label__ = ("trial", "{id}")
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$")]
    trial: Annotated[Text, Field(description="the trial's name, e.g. KetECT")]
    design: Annotated[Text, Field(description="how it was run, e.g. 'randomized, open-label, non-inferiority trial'")]
    population: Annotated[Text, Field(description="who took part, as a phrase after 'in', e.g. 'adults in hospital'")]
    comparison: Annotated[Text, Field(description="what was compared")]
    outcome: Annotated[Text, Field(description="the outcome, with its definition, e.g. 'remission (MADRS 10 or less)'")]
    event: Note = ""
    main_outcome: Annotated[bool, Field(description="true when this is the trial's main (primary) outcome")]
    timepoint: Annotated[Text, Field(description="when it was measured, e.g. 'at week 8'")]
    better: Literal["higher", "lower"] | None = None
    note: Note = ""
    n_total: Annotated[int, Field(ge=1)] | None = None
    arms: list[Arm] = []
    result: Note = ""
    fact: Annotated[Note, Field(description=(
        "the data/facts.yml entry that states the same result in words; the build checks they agree"))] = ""
    cite: Cites

    @model_validator(mode="after")
    def _one_kind(self):
        if self.result and self.arms:
            raise ValueError("give either 'arms' (a result per group) or 'result' (a sentence), not both")
        if not self.result:
            if len(self.arms) != 2:
                raise ValueError("give 'arms': the two randomized groups, or 'result' for an average score")
            if not self.event or self.better is None:
                raise ValueError("a result per group needs 'event' (e.g. 'were in remission') and 'better' "
                                 "(higher or lower)")
            if self.n_total is None and any(a.n is None for a in self.arms):
                raise ValueError("say how many people were counted: 'n' for each group, or 'n_total'")
        elif self.n_total is None:
            raise ValueError("say how many people were counted: 'n_total'")
        return self

    @property
    def people(self) -> int:
        return self.n_total if self.n_total is not None else sum(a.n for a in self.arms)


class HarmGroup(Record):
    __label__ = ("group", "'{name}'")
    name: Text
    n: Annotated[int, Field(ge=1)]


class LabelHarms(Record):
    source: Annotated[Text, Field(description="the 'source' of the data/adverse_effects.yml rows to draw, exactly")]
    min_percent: Annotated[float, Field(ge=0, le=100)]
    arms: Annotated[list[HarmGroup], Field(min_length=2, max_length=2)]
    cite: Cites


class Outcomes(Record):
    """data/outcomes.yml: trial results as numbers of people, and which label side effects to draw."""

    trials: Annotated[list[Trial], Field(min_length=1)]
    label_harms: LabelHarms

    def problems(self) -> Iterator[tuple[Loc, str]]:
        seen, main = set(), {t.trial for t in self.trials if t.main_outcome}
        for i, t in enumerate(self.trials):
            if t.id in seen:
                yield ("trials", i, "id"), f"id '{t.id}' is used twice"
            seen.add(t.id)
            if t.trial not in main:
                yield ("trials", i), (f"{t.trial}: show the trial's main outcome too (a row with "
                                      "'main_outcome: true'), never only its other results")


# --- data/crisis_lines.yml ---------------------------------------------------------------

CRISIS_KINDS = {
    "emergency": "Emergency services",
    "crisis": "Crisis and suicide-prevention line",
    "drugs": "Drug and alcohol help",
    "directory": "Directory of helplines",
}
SOURCE_ADVICE = ("every number needs the https address of the official page it was checked against "
                 "(a list if the number and the hours come from two pages)")


def _https(url: str) -> str:
    if not re.fullmatch(r"https://[^\s<>\"']+", url):
        raise ValueError(f"{url!r}: {SOURCE_ADVICE}")
    return url


def _iso_date(value: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"{value!r} must be a date, YYYY-MM-DD")
    return value


class CrisisLine(Record):
    """One service in one country; a wrong crisis number is the most harmful error this site could make."""

    __label__ = ("service", "'{service}'")
    country: Text
    service: Text
    kind: Literal["emergency", "crisis", "drugs", "directory"]
    contact: Annotated[Text, Field(description="how to reach it, as the source gives it")]
    hours: Note = ""
    source: Annotated[list[Annotated[str, AfterValidator(_https)]],
                      BeforeValidator(lambda v: [v] if isinstance(v, str) else v),
                      Field(min_length=1, description=SOURCE_ADVICE)]
    checked: Annotated[str, BeforeValidator(_date_text), AfterValidator(_iso_date),
                       Field(description="the date the number was checked against its source (YYYY-MM-DD)")]


class CrisisLines(RootModel[Annotated[list[CrisisLine], Field(min_length=1)]]):
    """data/crisis_lines.yml: urgent-help services, grouped by country in file order."""

    def problems(self) -> Iterator[tuple[Loc, str]]:
        seen: dict[tuple[str, str], int] = {}
        for i, line in enumerate(self.root):
            key = (line.country.lower(), line.service.lower())
            if key in seen:
                yield (i,), f"'{line.service}' for {line.country} is already listed (entry {seen[key] + 1})"
            seen.setdefault(key, i)
