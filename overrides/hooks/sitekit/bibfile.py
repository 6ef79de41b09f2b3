"""references.bib, read once into one model: checks, formatting, structured data, the printable edition
and the link check (scripts/check_external_links.py) all use it.

Why pybtex's own parser (subclassed only to keep line numbers and to collect every problem): the
formatter is fed from this model, so whatever the build accepts, the formatter accepts. BibTeX's
rules apply as BibTeX tools apply them: ``@string`` macros (and the month macros ``jan``...``dec``)
are expanded, ``#`` concatenates, every ``{`` and ``}`` counts (``\\{`` too), a ``"quoted"`` value
ends at the first ``"`` outside braces, and ``%`` starts a comment between fields (as in biber and
pandoc). Names are pybtex ``Person`` objects; LaTeX becomes Unicode through pylatexenc. A problem is
a ``SiteError`` naming the file and line, never a traceback; ``read`` collects them all.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from pybtex.bibtex.utils import split_name_list
from pybtex.database import Person
from pybtex.database.input.bibtex import LowLevelParser, PrematureEOF, UndefinedMacro, month_names
from pybtex.scanner import Pattern, PybtexSyntaxError
from pybtex.textutils import normalize_whitespace
from pybtex.utils import CaseInsensitiveDict

from sitekit.errors import SiteError

# BibTeX's and biblatex's common entry types (what reference managers export).
ENTRY_TYPES = {"article", "book", "booklet", "collection", "conference", "inbook", "incollection", "inproceedings",
               "manual", "mastersthesis", "misc", "online", "phdthesis", "proceedings", "report", "techreport",
               "thesis", "unpublished"}

# Evidence types, one per entry, shown as a badge on every reference.
# The legend page (docs/about/evidence-types.md) is generated from this table.
EVIDENCE_TYPES = {
    "meta-analysis": ("Meta-analysis", "Pools the results of several studies statistically."),
    "systematic-review": ("Systematic review", "Searches for and appraises all studies on a question, without pooling."),
    "rct": ("RCT", "Randomised controlled trial: people are assigned to treatment or control by chance."),
    "clinical-study": ("Clinical study", "A non-randomised study in people, such as an open-label or pharmacokinetic study."),
    "observational": ("Observational", "Follows or surveys people without assigning treatment (cohort, case-control, registry)."),
    "case-report": ("Case report", "Describes one patient or a small series of patients."),
    "review": ("Review", "A narrative summary of the literature by experts."),
    "commentary": ("Commentary", "An editorial, perspective or historical account."),
    "guideline": ("Guideline", "A clinical guideline or expert consensus statement."),
    "label": ("Drug label", "Official prescribing information approved by a regulator."),
    "regulator": ("Regulator", "A notice, rule or decision by a regulator (FDA, EMA, DEA, WHO...)."),
    "preclinical": ("Preclinical", "A study in animals or cells, not in people."),
}

REQUIRED = {
    "article": ("author", "title", "journal", "year"),
    "book": ("title", "publisher", "year"),
    "booklet": ("title",),
    "collection": ("title", "year"),
    "conference": ("author", "title", "booktitle", "year"),
    "inbook": ("title", "publisher", "year"),
    "incollection": ("author", "title", "booktitle", "publisher", "year"),
    "inproceedings": ("author", "title", "booktitle", "year"),
    "manual": ("title",),
    "mastersthesis": ("author", "title", "year"),
    "misc": ("author", "title", "year"),
    "online": ("author", "title", "year"),
    "phdthesis": ("author", "title", "year"),
    "proceedings": ("title", "year"),
    "report": ("author", "title", "year"),
    "techreport": ("author", "title", "institution", "year"),
    "thesis": ("author", "title", "year"),
    "unpublished": ("author", "title"),
}
# biblatex's names for the same data: a field missing under the BibTeX name is read under this one.
ALIASES = {"journal": "journaltitle", "year": "date", "address": "location"}
# The one list of where a `verified` address may point (CONTRIBUTING R3): the canonical record of a
# source, never a mirror, a proxy or a clinic site. Host -> reason. Subdomains count (www., apps.).
VERIFIED_HOSTS = {
    "pubmed.ncbi.nlm.nih.gov": "PubMed record",
    "pmc.ncbi.nlm.nih.gov": "PubMed Central full text",
    "ncbi.nlm.nih.gov": "NCBI: PubMed, PMC and the Bookshelf (ncbi.nlm.nih.gov/books)",
    "doi.org": "the DOI resolver, which leads to the publisher's record",
    "fda.gov": "US Food and Drug Administration (incl. accessdata.fda.gov)",
    "dailymed.nlm.nih.gov": "US National Library of Medicine drug labels",
    "ema.europa.eu": "European Medicines Agency",
    "europa.eu": "EU institutions (EUR-Lex, the EU Drugs Agency)",
    "gov.uk": "UK government, incl. the MHRA",
    "legislation.gov.uk": "UK legislation",
    "nice.org.uk": "UK National Institute for Health and Care Excellence",
    "federalregister.gov": "US Federal Register",
    "govinfo.gov": "US Government Publishing Office",
    "dea.gov": "US Drug Enforcement Administration",
    "usdoj.gov": "US Department of Justice (DEA Diversion Control)",
    "who.int": "World Health Organization",
    "nature.com": "publisher (Springer Nature)",
    "springer.com": "publisher (Springer)",
    "jamanetwork.com": "publisher (JAMA Network)",
    "cambridge.org": "publisher (Cambridge University Press)",
    "jneurosci.org": "publisher (Society for Neuroscience)",
    "wiley.com": "publisher (Wiley)",
    "sciencedirect.com": "publisher (Elsevier)",
    "thelancet.com": "publisher (The Lancet)",
    "nejm.org": "publisher (NEJM)",
    "bmj.com": "publisher (BMJ)",
    "psychiatryonline.org": "publisher (American Psychiatric Association)",
    "tandfonline.com": "publisher (Taylor & Francis)",
    "sagepub.com": "publisher (SAGE)",
    "oup.com": "publisher (Oxford University Press)",
    "frontiersin.org": "publisher (Frontiers)",
    "mdpi.com": "publisher (MDPI)",
    "plos.org": "publisher (PLOS)",
    "cochranelibrary.com": "publisher (Cochrane Library)",
}
# Documents that must be on a regulator's own site (evidence = label or regulator).
OFFICIAL_HOSTS = ("fda.gov", "nlm.nih.gov", "europa.eu", "federalregister.gov", "govinfo.gov", "who.int",
                  "legislation.gov.uk", "gov.uk", "usdoj.gov", "dea.gov", "nice.org.uk")

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DOI_RE = re.compile(r"^10\.\d{4,9}/[^\s\"\\{}]+$")
PMID_RE = re.compile(r"^[1-9]\d{0,8}$")
PMCID_RE = re.compile(r"^PMC\d+$")
URL_RE = re.compile(r"^https?://[^\s{}\"\\<>]+$")
YEAR_RE = re.compile(r"^\d{4}$")

# Fields that only this project reads, or that no reference style prints: not sent to the formatter,
# so editing them never re-formats an entry.
NOT_FORMATTED = frozenset({"evidence", "verified", "shortauthor", "abstract", "keywords", "file", "annote",
                           "mendeley-tags", "groups", "owner", "timestamp", "date-added", "date-modified"})


@dataclass
class Field:
    name: str
    value: str  # macros expanded, whitespace normalised, LaTeX as written
    line: int


@dataclass
class Entry:
    type: str
    key: str
    line: int
    fields: dict[str, Field] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        f = self.fields.get(name) or self.fields.get(ALIASES.get(name, ""))
        if f is None:
            return default
        if name == "year" and f.name == "date":
            m = re.match(r"\d{4}", f.value)  # date = {1991-03}
            return m.group() if m else f.value
        return f.value

    def line_of(self, name: str) -> int:
        f = self.fields.get(name) or self.fields.get(ALIASES.get(name, ""))
        return f.line if f else self.line

    def names(self, role: str = "author") -> list["Name"]:
        return [Name.of(n) for n in split_name_list(self.get(role))] if self.get(role) else []


@dataclass(frozen=True)
class Name:
    """One person or organisation of an author list, read by pybtex's ``Person``."""

    given: str = ""  # LaTeX as written, e.g. "C. A."
    family: str = ""  # including a particle: "van der Berg"
    suffix: str = ""  # "Jr"
    organisation: str = ""  # {{U.S. Food and Drug Administration}}: written in braces, never split
    others: bool = False  # "and others": et al.

    @classmethod
    @functools.lru_cache(maxsize=65536)  # a pure function of the text: each name is read once per process
    def of(cls, text: str) -> "Name":
        if text.strip().lower() == "others":
            return cls(others=True)
        if re.fullmatch(r"\{.*\}", text.strip()) and _balanced(text.strip()[1:-1]):
            return cls(organisation=text.strip()[1:-1])
        p = Person(text)
        given, family = p.first_names + p.middle_names, p.prelast_names + p.last_names
        if "," not in text and not p.prelast_names and len(p.last_names) == 1 and given and _INITIALS.match(family[-1]):
            given, family = [_spaced_initials(family[-1])], given  # PubMed style "Reyna MA"
        elif len(given) == 1 and _INITIALS.match(given[0]) and len(given[0]) > 1:
            given = [_spaced_initials(given[0])]  # "Reyna, MA"
        return cls(given=" ".join(given), family=" ".join(family), suffix=" ".join(p.lineage_names))

    def bibtex(self) -> str:
        """The name as BibTeX writes it unambiguously: 'von Last, Jr, First' or '{Organisation}'."""
        if self.others:
            return "others"
        if self.organisation:
            return "{" + self.organisation + "}"
        return ", ".join(p for p in (self.family, self.suffix, self.given) if p) if self.suffix else \
            ", ".join(p for p in (self.family, self.given) if p)


_INITIALS = re.compile(r"^[A-Z]{1,3}$")


def _spaced_initials(letters: str) -> str:
    return " ".join(f"{c}." for c in letters)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


@dataclass
class Bibliography:
    """The whole file: entries by key (in file order) and every problem found while reading it."""

    path: str
    entries: dict[str, Entry]
    errors: list[SiteError]


# --------------------------------------------------------------------------
# Reading


class _Parser(LowLevelParser):
    """pybtex's BibTeX scanner, keeping the line of every entry and field and collecting errors."""

    WHITESPACE = Pattern(r"(?:\s|%[^\n]*)+", "whitespace")  # '%' comments between fields, as biber and pandoc read them

    def __init__(self, text: str, path: str):
        super().__init__(text, macros=CaseInsensitiveDict(month_names), handle_error=self._error, filename=path)
        self.path, self.errors, self.broken = path, [], False
        self.entry_line = self.value_line = 1
        self.last_quoted = ""

    def parse_command(self):
        self.entry_line, self.broken = self.lineno, False
        return super().parse_command()

    def parse_entry_body(self, body_end):
        self.current_entry_key = self.required([self.KEY_PAREN if body_end == self.RPAREN else self.KEY_BRACE]).value
        closer = "}" if body_end is self.RBRACE else ")"
        if not self.optional([self.COMMA]) and not self.text.startswith(closer, self.pos):
            raise PybtexSyntaxError(f"expected ',' after the key '{self.current_entry_key}'", self)
        self.parse_entry_fields()

    def parse_entry_fields(self):
        while True:
            self.current_field_name, self.current_value = None, []
            self.eat_whitespace()
            line = self.lineno
            self.parse_field()
            if self.current_field_name and self.current_value:
                self.current_fields.append((self.current_field_name, self.current_value, line))
            if not self.optional([self.COMMA]):
                return

    def parse_value_part(self):
        self.eat_whitespace()
        self.value_line = self.lineno
        quoted = self.text.startswith('"', self.pos)
        value = super().parse_value_part()
        self.last_quoted = value if quoted else ""
        return value

    def _error(self, error: PybtexSyntaxError) -> None:
        key = self.current_entry_key
        where = f"in entry '{key}': " if key else ""
        name = self.current_field_name
        line = self.lineno
        if isinstance(error, UndefinedMacro):
            message = (f"{where}field '{name.lower()}' uses the @string macro '{error.args[0]}', which is not "
                       "defined: define it with @string, or write the text in braces")
            self.errors.append(SiteError(self.path, line, message))
            return  # the entry is still read; the build fails on the error
        self.broken = True
        if isinstance(error, PrematureEOF) and name and self.current_value is not None:
            line = self.value_line
            message = (f"{where}the value of field '{name}' is never closed: a '{{' or '}}' inside it is unbalanced "
                       "(BibTeX counts \\{ and \\} as braces too; write {\\{} for a literal brace)")
        elif isinstance(error, PrematureEOF):
            line = self.entry_line
            message = f"entry '{key}' is never closed with '}}'" if key else "the entry is never closed"
        elif self.text[self.pos:].lstrip().startswith("@"):
            line = self.entry_line
            message = f"entry '{key}' is not closed before the next entry starts (missing '}}')"
        elif "'=' expected" in str(error):
            message = f"{where}expected '=' after field '{name}'"
        elif "'}' expected" in str(error) or "')' expected" in str(error):
            last = self.current_fields[-1][0] if self.current_fields else name
            message = f"{where}expected ',' or '}}' after field '{last}'"
            if self.last_quoted.endswith("\\"):
                message += (": a \"quoted\" value ends at the first \" outside braces, so \\\" cannot be written "
                            "inside it; write {\\\"u} for ü, or put the whole value in {braces}")
        elif "entry key expected" in str(error):
            message = "the entry has no citation key"
        else:
            message = where + str(error).split(": ", 1)[-1]
        escaped = [(n, ln) for n, parts, ln in self.current_fields if re.search(r"\\[{}]", "".join(parts))]
        if escaped:
            line = escaped[0][1]
            message += (f"; field '{escaped[0][0]}' holds \\{{ or \\}}, which BibTeX counts as braces: "
                        "write {\\{} for a literal brace")
        self.errors.append(SiteError(self.path, line, message))
        # Read on from the next line that starts an entry.
        resume = _ENTRY_START.search(self.text, max(self.command_start + 1, self.text.rfind("\n", 0, self.pos) + 1))
        self.pos = resume.start() if resume else self.end_pos
        self.lineno = self.text.count("\n", 0, self.pos) + 1


_ENTRY_START = re.compile(r"(?m)^[ \t]*@")


def decode(data: bytes, path: str) -> str:
    """The file's text; a file that is not UTF-8 is an error naming the line and byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SiteError(path, line, f"byte 0x{data[exc.start]:02X} (column {column}) is not UTF-8: save the file "
                                    "as UTF-8 (Unicode) in your editor or reference manager's export") from None


def read(text: str, path: str = "references.bib") -> Bibliography:
    """Every entry and every problem; never raises for bad input."""
    parser = _Parser(text, path)
    entries: dict[str, Entry] = {}
    errors = parser.errors
    for command, body in parser:
        kind = command.lower()
        if kind in ("string", "preamble") or parser.broken:
            continue
        key, fields = body
        line = parser.entry_line
        if kind not in ENTRY_TYPES:
            errors.append(SiteError(path, line, f"unknown entry type @{kind}; use one of: {', '.join(sorted(ENTRY_TYPES))}"))
            continue
        entry = Entry(kind, key, line)
        for name, parts, field_line in fields:
            name = name.lower()
            if name in entry.fields:
                errors.append(SiteError(path, field_line, f"in entry '{key}': field '{name}' appears twice"))
                continue
            entry.fields[name] = Field(name, normalize_whitespace("".join(parts)).strip(), field_line)
        if key in entries:
            errors.append(SiteError(path, line, f"entry '{key}': duplicate key (first defined on line {entries[key].line})"))
            continue
        entries[key] = entry
    errors.sort(key=lambda e: e.line or 0)
    return Bibliography(path, entries, errors)


# What a cached read depends on besides the file itself: this module's rules and pybtex's parser.
READER_VERSION = hashlib.sha256(Path(__file__).read_bytes() + metadata.version("pybtex").encode()).hexdigest()


def dump(bib: Bibliography, problems: list[SiteError]) -> str:
    """A read and checked bibliography as JSON (the build's cache: an unchanged file is not read again)."""
    return json.dumps({
        "path": bib.path,
        "entries": [[e.type, e.key, e.line, [[f.name, f.value, f.line] for f in e.fields.values()]]
                    for e in bib.entries.values()],
        "errors": [[x.path, x.line, x.message] for x in bib.errors],
        "problems": [[x.path, x.line, x.message] for x in problems],
    }, ensure_ascii=False)


def load(text: str) -> tuple[Bibliography, list[SiteError]]:
    """The inverse of ``dump``."""
    data = json.loads(text)
    entries = {key: Entry(kind, key, line, {n: Field(n, v, ln) for n, v, ln in fields})
               for kind, key, line, fields in data["entries"]}
    return (Bibliography(data["path"], entries, [SiteError(*x) for x in data["errors"]]),
            [SiteError(*x) for x in data["problems"]])


def parse(text: str, path: str = "references.bib") -> list[Entry]:
    """The entries of a .bib text; raises one SiteError listing every problem."""
    from sitekit.errors import raise_all

    bib = read(text, path)
    raise_all(bib.errors)
    return list(bib.entries.values())


def to_bibtex(entry: Entry) -> str:
    """The entry as the formatter reads it: macros expanded, names unambiguous, our own fields left out."""
    lines = [f"@{entry.type}{{{entry.key},"]
    for f in entry.fields.values():
        if f.name in NOT_FORMATTED:
            continue
        if f.name in ("author", "editor"):
            value = " and ".join(n.bibtex() for n in entry.names(f.name))
        else:
            value = f.value if f.name in VERBATIM_FIELDS else _SYMBOL.sub(_symbol, f.value)
        lines.append(f"  {f.name} = {{{value}}},")
    return "\n".join(lines) + "\n}\n"


VERBATIM_FIELDS = frozenset({"url", "doi", "eprint", "verified", "urldate"})
_SYMBOL = re.compile(r"\\(?:text[a-z]+|dag|ddag|S|P|copyright|pounds|ldots|dots)(?:\{\}|(?![A-Za-z]))")


def _symbol(m: re.Match) -> str:
    """A LaTeX text symbol the formatter would drop (\\textemdash{}, \\dag) as its character (latexcodec)."""
    import codecs

    import latexcodec  # noqa: F401  (registers the "ulatex" codec; a pybtex dependency)

    decoded = codecs.decode(m.group().removesuffix("{}"), "ulatex")
    return decoded if decoded.strip() and not set(decoded) & set("\\~%#&$_{}") else m.group()


# --------------------------------------------------------------------------
# Checks


def check(bib: Bibliography, editorial: bool = True) -> list[SiteError]:
    """Problems with well-formed entries: keys the citation syntax can cite, identifiers and addresses that
    make working links. ``editorial`` adds this site's rules (required fields, CONTRIBUTING R1-R6)."""
    errors: list[SiteError] = []
    seen_ids: dict[tuple[str, str], Entry] = {}
    for e in bib.entries.values():
        def err(msg: str, line: int | None = None, e=e) -> None:
            errors.append(SiteError(bib.path, line or e.line, f"entry '{e.key}': {msg}"))

        if not KEY_RE.match(e.key):
            err("citation keys may only contain lowercase a-z, 0-9 and '-' "
                "('.', ':' and '_' cannot be cited: the [@key] syntax stops at them)")
        for name, pattern, example in (
            ("doi", DOI_RE, "10.1001/archpsyc.63.8.856 (no https://doi.org/ prefix, no escapes)"),
            ("pmid", PMID_RE, "digits only, e.g. 16894061"),
            ("pmcid", PMCID_RE, "PMC followed by digits"),
            ("url", URL_RE, "an http(s) address written exactly as in the browser (no \\& or \\% escapes, no quotes)"),
            ("verified", URL_RE, "the http(s) address of the record you checked"),
        ):
            value = e.get(name)
            if value and not pattern.match(value):
                err(f"malformed {name} {value!r}: expected {example}", e.line_of(name))
        if editorial:
            _editorial(e, err, seen_ids)
    return errors


def _editorial(e: Entry, err, seen_ids: dict) -> None:
    missing = [f for f in REQUIRED[e.type] if not e.get(f)]
    if e.type == "book" and not (e.get("author") or e.get("editor")):
        missing.insert(0, "author or editor")
    if missing:
        err(f"@{e.type} is missing required field(s): {', '.join(missing)}")
    if not any(e.get(f) for f in ("doi", "pmid", "url")):
        err("has none of doi, pmid or url, so a reader cannot find the source")
    if e.get("year") and not YEAR_RE.match(e.get("year")):
        err(f"malformed year {e.get('year')!r}: expected four digits", e.line_of("year"))
    evidence = e.get("evidence")
    if not evidence:
        err("missing 'evidence' field (one of: " + ", ".join(EVIDENCE_TYPES) + ")")
    elif evidence not in EVIDENCE_TYPES:
        err(f"unknown evidence type {evidence!r}; use one of: {', '.join(EVIDENCE_TYPES)}", e.line_of("evidence"))
    verified = e.get("verified")
    if not verified:
        err("missing 'verified' field: the URL of the PubMed/publisher/regulator record the fields were copied from")
    elif URL_RE.match(verified) and not _host_in(verified, VERIFIED_HOSTS):
        err(f"verified {verified!r} is not a canonical record: use the PubMed, PMC, doi.org, publisher or "
            "regulator address (the list and reasons: VERIFIED_HOSTS in overrides/hooks/sitekit/bibfile.py)",
            e.line_of("verified"))
    names = e.names("author")
    if names and names[0].organisation and not e.get("shortauthor"):
        err("corporate author needs a 'shortauthor' field (used in the key, e.g. fda)", e.line_of("author"))
    problem = key_convention_error(e)
    if problem:
        err(problem)
    if e.type == "article":
        for name, label in (("pmid", "the PMID seen on PubMed"), ("doi", "the DOI seen in its record")):
            if not e.get(name):
                err(f"articles need {label} ('{name}' field)")
    elif not e.get("url"):
        err("sources other than journal articles need an official 'url'")
    elif e.get("evidence") in ("label", "regulator") and not _host_in(e.get("url"), OFFICIAL_HOSTS):
        err(f"labels and regulator documents need the regulator's own url, not {e.get('url')!r}", e.line_of("url"))
    for name in ("doi", "pmid"):
        value = e.get(name).lower()
        if value:
            first = seen_ids.setdefault((name, value), e)
            if first is not e:
                err(f"the same {name} as entry '{first.key}' (line {first.line})", e.line_of(name))


def _host_in(url: str, hosts) -> bool:
    host = re.sub(r"^https?://([^/:?#]+).*$", r"\1", url).lower()
    return any(host == h or host.endswith("." + h) for h in hosts)


def uncited(bib: Bibliography, cited: set[str]) -> list[SiteError]:
    """An entry no page or data file cites is dead weight and was never checked in context."""
    return [SiteError(bib.path, e.line, f"entry '{e.key}' is not cited on any page or data file: cite it or remove it")
            for e in bib.entries.values() if e.key not in cited]


# --------------------------------------------------------------------------
# Text: LaTeX -> Unicode (pylatexenc), for structured data, sorting and the key convention


@functools.lru_cache(maxsize=1)
def _latex():
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
    from pylatexenc.latexwalker import get_default_latex_context_db as walker_db
    from pylatexenc.macrospec import MacroSpec

    walker = walker_db()
    walker.add_context_category("bib", prepend=True, macros=[
        MacroSpec("href", "{{"), MacroSpec("url", "{"), MacroSpec("includegraphics", "[{")])
    text = get_default_latex_context_db()
    text.add_context_category("bib", prepend=True, macros=[  # a link's text, never its target; no images
        MacroTextSpec("href", "%(2)s"), MacroTextSpec("url", "%(1)s"), MacroTextSpec("includegraphics", "")])
    return walker, LatexNodes2Text(latex_context=text, math_mode="text", strict_latex_spaces=True)


_SUB = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")
_SUP = str.maketrans("0123456789+-=()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾")
_LATEX_SPECIAL = re.compile(r"[\\$~]|--|``|''")


@functools.lru_cache(maxsize=65536)  # a pure function of the text: each value is decoded once per process
def plain(text: str) -> str:
    """Field text as a reader sees it: 'Le Dar{\\'e}' -> 'Le Daré', '50\\%' -> '50%', 'Cu$_2$O' -> 'Cu₂O'."""
    if not _LATEX_SPECIAL.search(text):
        return " ".join(text.replace("{", "").replace("}", "").split())  # only protective braces
    from pylatexenc.latexwalker import LatexWalker

    walker_db, converter = _latex()
    text = re.sub(r"\$([^$]*)\$", lambda m: "$" + re.sub(r"_\{?([0-9+\-=()]+)\}?", lambda s: s.group(1).translate(_SUB),
                  re.sub(r"\^\{?([0-9+\-=()]+)\}?", lambda s: s.group(1).translate(_SUP), m.group(1))) + "$", text)
    nodes = LatexWalker(text, latex_context=walker_db, tolerant_parsing=True).get_latex_nodes()[0]
    return " ".join(converter.nodelist_to_text(nodes).replace("\xa0", " ").split())


def name_text(name: Name) -> tuple[str, str]:
    """(given, family) as plain text; an organisation is its whole name as family."""
    if name.organisation:
        return "", plain(name.organisation)
    return plain(name.given), plain(name.family)


# --------------------------------------------------------------------------
# Key convention: firstauthor + year + first title word, e.g. zarate2006randomized.
# Hyphens and apostrophes inside a word are dropped ("Long-term" -> longterm).

_STOP_WORDS = {"a", "an", "the"}
_NO_DECOMPOSITION = str.maketrans({"ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                                   "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i"})


def plain_ascii(text: str) -> str:
    """LaTeX-accented, Unicode text -> lowercase ASCII letters, digits and spaces."""
    text = unicodedata.normalize("NFKD", plain(text).translate(_NO_DECOMPOSITION))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"(?<=\w)['’-](?=\w)", "", text)  # "long-term" -> "longterm", "o'brien" -> "obrien"
    return re.sub(r"[^a-z0-9 ]+", " ", text)


def first_author_family(entry: Entry) -> str:
    """The first author's (or editor's) family name, or the short name of an organisation."""
    names = entry.names("author") or entry.names("editor")
    if not names or names[0].organisation:
        return entry.get("shortauthor") or (plain(names[0].organisation) if names else "")
    return names[0].family


def expected_key(entry: Entry) -> str:
    """The key the convention gives this entry (without any -b/-c suffix)."""
    name = plain_ascii(first_author_family(entry)).replace(" ", "")
    words = [w for w in plain_ascii(entry.get("title")).split() if w not in _STOP_WORDS and w != name]
    return f"{name}{entry.get('year')}{words[0] if words else ''}"


def key_convention_error(entry: Entry) -> str | None:
    expected = expected_key(entry)
    suffix = entry.key[len(expected):] if entry.key.startswith(expected) else None
    if suffix == "" or (suffix and len(suffix) == 2 and suffix[0] == "-" and "b" <= suffix[1] <= "z"):
        return None  # (string tests: a regex compiled per entry was most of the cost of this check)
    return f"key '{entry.key}' should be '{expected}' (first author + year + first title word; -b, -c for clashes)"


def sort_key(entry: Entry) -> tuple:
    """References-page order: first author's family name, year, key."""
    return (plain_ascii(first_author_family(entry)).strip(), entry.get("year"), entry.key)
