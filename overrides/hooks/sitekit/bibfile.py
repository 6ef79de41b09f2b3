"""Read ``references.bib`` with line numbers and check every entry.

Why our own reader: pybtex (which mkdocs-bibtex uses) reports a duplicate key
without a line number, silently accepts entries with no identifiers, and has no
notion of the project's fields (``evidence``, ``verified``). This reader is a
small, strict BibTeX tokenizer that remembers where each entry and field starts,
so every problem is reported as ``references.bib:LINE: message``. pybtex still
does the real parsing afterwards, inside mkdocs-bibtex.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field

from sitekit.errors import SiteError

# Bump when parse() or check() change, so cached check results are not reused.
CHECK_VERSION = "1"

ENTRY_TYPES = {"article", "book", "incollection", "inproceedings", "misc", "online", "report", "techreport"}
SKIPPED_TYPES = {"comment", "preamble", "string"}

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
    "incollection": ("author", "title", "booktitle", "publisher", "year"),
    "inproceedings": ("author", "title", "booktitle", "year"),
    "misc": ("author", "title", "year"),
    "online": ("author", "title", "year"),
    "report": ("author", "title", "year"),
    "techreport": ("author", "title", "institution", "year"),
}

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
PMID_RE = re.compile(r"^[1-9]\d{0,8}$")
PMCID_RE = re.compile(r"^PMC\d+$")
URL_RE = re.compile(r"^https?://[^\s{}]+$")
YEAR_RE = re.compile(r"^\d{4}$")
FIELD_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


@dataclass
class Field:
    name: str
    value: str
    line: int


@dataclass
class Entry:
    type: str
    key: str
    line: int
    fields: dict[str, Field] = field(default_factory=dict)
    raw: str = ""  # the entry's exact source text (fingerprint for the format cache)

    @classmethod
    def from_dict(cls, data: dict) -> "Entry":
        fields = {k: Field(**v) for k, v in data["fields"].items()}
        return cls(type=data["type"], key=data["key"], line=data["line"], fields=fields, raw=data["raw"])

    def get(self, name: str, default: str = "") -> str:
        f = self.fields.get(name)
        return f.value if f else default

    def line_of(self, name: str) -> int:
        f = self.fields.get(name)
        return f.line if f else self.line


class _Reader:
    """A cursor over the text that raises SiteError with the current line."""

    def __init__(self, text: str, path: str):
        self.text, self.path, self.pos = text, path, 0
        self._newlines = [m.start() for m in re.finditer("\n", text)]

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self._newlines, pos) + 1

    def error(self, message: str, pos: int | None = None) -> SiteError:
        return SiteError(self.path, self.line(self.pos if pos is None else pos), message)

    _SPACE = re.compile(r"(?:\s+|%[^\n]*)*")
    _BRACES = re.compile(r'\\.|[{}"]', re.S)

    def skip_space(self) -> None:
        self.pos = self._SPACE.match(self.text, self.pos).end()

    def balanced(self, opener: str, closer: str) -> str:
        """Return the text inside a balanced pair starting at self.pos ('{...}' or '"..."')."""
        start, depth = self.pos, 0
        for m in self._BRACES.finditer(self.text, start + (1 if opener == '"' else 0)):
            ch = m.group()
            if ch[0] == "\\":
                continue  # an escaped character such as \{ is not a brace
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth < 0:
                    raise self.error("unbalanced '}'", m.start())
                if depth == 0 and opener == "{":
                    self.pos = m.end()
                    return self.text[start + 1 : m.start()]
            elif ch == '"' and opener == '"' and depth == 0:
                self.pos = m.end()
                return self.text[start + 1 : m.start()]
        raise self.error(f"unterminated value: the {opener} opened here is never closed", start)


def parse(text: str, path: str = "references.bib") -> list[Entry]:
    """Tokenize a .bib file into entries, raising SiteError on malformed input."""
    r = _Reader(text, path)
    entries: list[Entry] = []
    while True:
        at = text.find("@", r.pos)
        if at < 0:
            return entries
        r.pos = at + 1
        m = re.compile(r"[A-Za-z]+").match(text, r.pos)
        if not m:
            raise r.error("'@' must be followed by an entry type such as @article", at)
        etype = m.group().lower()
        r.pos = m.end()
        r.skip_space()
        if r.pos >= len(text) or text[r.pos] not in "{(":
            raise r.error(f"@{etype} must be followed by '{{'", at)
        if etype in SKIPPED_TYPES:
            if text[r.pos] == "{":
                r.balanced("{", "}")
            else:
                end = text.find(")", r.pos)
                r.pos = len(text) if end < 0 else end + 1
            continue
        if etype not in ENTRY_TYPES:
            raise r.error(f"unknown entry type @{etype}; use one of: {', '.join(sorted(ENTRY_TYPES))}", at)
        if text[r.pos] == "(":
            raise r.error("use braces, not parentheses, around an entry", at)
        r.pos += 1
        r.skip_space()
        km = re.compile(r"[^\s,{}()=\"#%]+").match(text, r.pos)
        if not km:
            raise r.error(f"@{etype} entry has no citation key", at)
        key = km.group()
        r.pos = km.end()
        r.skip_space()
        if r.pos >= len(text) or text[r.pos] != ",":
            raise r.error(f"expected ',' after the key '{key}'", r.pos)
        r.pos += 1
        entry = Entry(type=etype, key=key, line=r.line(at))
        _parse_fields(r, entry)
        entry.raw = text[at : r.pos]
        entries.append(entry)


def keys(text: str) -> frozenset[str]:
    """The citation keys defined in a .bib file (a quick scan; parse() does the checking)."""
    return frozenset(re.findall(r"(?m)^\s*@(?!comment|string|preamble)\w+\s*\{\s*([^,\s]+)\s*,", text, re.I))


def _parse_fields(r: _Reader, entry: Entry) -> None:
    text = r.text
    while True:
        r.skip_space()
        if r.pos >= len(text):
            raise r.error(f"entry '{entry.key}' is never closed with '}}'", _pos_of_line(text, entry.line))
        if text[r.pos] == "}":
            r.pos += 1
            return
        start = r.pos
        fm = FIELD_NAME_RE.match(text, r.pos)
        if not fm:
            if text[r.pos] == "@":
                raise r.error(
                    f"entry '{entry.key}' is not closed before the next entry starts (missing '}}')",
                    _pos_of_line(text, entry.line),
                )
            raise r.error(f"in entry '{entry.key}': expected a field name, found {text[r.pos]!r}")
        name = fm.group().lower()
        r.pos = fm.end()
        r.skip_space()
        if r.pos >= len(text) or text[r.pos] != "=":
            raise r.error(f"in entry '{entry.key}': expected '=' after field '{name}'")
        r.pos += 1
        value = _parse_value(r, entry, name)
        if name in entry.fields:
            raise r.error(f"in entry '{entry.key}': field '{name}' appears twice", start)
        entry.fields[name] = Field(name, value, r.line(start))
        r.skip_space()
        if r.pos >= len(text):
            raise r.error(f"entry '{entry.key}' is never closed with '}}'", _pos_of_line(text, entry.line))
        if text[r.pos] == ",":
            r.pos += 1
        elif text[r.pos] == "}":
            continue
        elif text[r.pos] == "@":
            raise r.error(f"entry '{entry.key}' is not closed before the next entry starts (missing '}}')",
                          _pos_of_line(text, entry.line))
        else:
            raise r.error(f"in entry '{entry.key}': expected ',' or '}}' after field '{name}'")


def _parse_value(r: _Reader, entry: Entry, name: str) -> str:
    text, parts = r.text, []
    while True:
        r.skip_space()
        if r.pos >= len(text):
            raise r.error(f"in entry '{entry.key}': field '{name}' has no value")
        ch = text[r.pos]
        if ch == "{":
            parts.append(r.balanced("{", "}"))
        elif ch == '"':
            parts.append(r.balanced('"', '"'))
        else:
            m = re.compile(r"[A-Za-z0-9_-]+").match(text, r.pos)
            if not m:
                raise r.error(f"in entry '{entry.key}': field '{name}' has no value")
            parts.append(m.group())
            r.pos = m.end()
        r.skip_space()
        if r.pos < len(text) and text[r.pos] == "#":
            r.pos += 1
            continue
        return "".join(parts).strip()


def _pos_of_line(text: str, line: int) -> int:
    pos = 0
    for _ in range(line - 1):
        pos = text.index("\n", pos) + 1
    return pos


def check(entries: list[Entry], path: str = "references.bib") -> list[SiteError]:
    """Integrity rules that fail the build. Returns every problem found."""
    errors: list[SiteError] = []
    seen: dict[str, Entry] = {}
    for e in entries:
        def err(msg: str, line: int | None = None, e=e) -> None:
            errors.append(SiteError(path, line or e.line, f"entry '{e.key}': {msg}"))

        if e.key in seen:
            err(f"duplicate key (first defined on line {seen[e.key].line})")
        seen.setdefault(e.key, e)
        if not KEY_RE.match(e.key):
            err("citation keys may only contain lowercase a-z, 0-9 and '-' "
                "('.', ':' and '_' cannot be cited: the [@key] syntax stops at them)")
        missing = [f for f in REQUIRED[e.type] if not e.get(f)]
        if e.type == "book" and not (e.get("author") or e.get("editor")):
            missing.insert(0, "author or editor")
        if missing:
            err(f"@{e.type} is missing required field(s): {', '.join(missing)}")
        if not any(e.get(f) for f in ("doi", "pmid", "url")):
            err("has none of doi, pmid or url, so a reader cannot find the source")
        for name, pattern, example in (
            ("doi", DOI_RE, "10.1001/archpsyc.63.8.856 (no https://doi.org/ prefix)"),
            ("pmid", PMID_RE, "digits only, e.g. 16894061"),
            ("pmcid", PMCID_RE, "PMC followed by digits"),
            ("url", URL_RE, "an http(s) address"),
            ("verified", URL_RE, "the http(s) address of the record you checked"),
            ("year", YEAR_RE, "four digits"),
        ):
            value = e.get(name)
            if value and not pattern.match(value):
                err(f"malformed {name} {value!r}: expected {example}", e.line_of(name))
        evidence = e.get("evidence")
        if not evidence:
            err("missing 'evidence' field (one of: " + ", ".join(EVIDENCE_TYPES) + ")")
        elif evidence not in EVIDENCE_TYPES:
            err(f"unknown evidence type {evidence!r}; use one of: {', '.join(EVIDENCE_TYPES)}", e.line_of("evidence"))
        if not e.get("verified"):
            err("missing 'verified' field: the URL of the PubMed/publisher/regulator record the fields were copied from")
        if _is_corporate(e.get("author")) and not e.get("shortauthor"):
            err("corporate author needs a 'shortauthor' field (used in the key, e.g. fda)", e.line_of("author"))
    return errors


# --------------------------------------------------------------------------
# Key convention: firstauthor + year + first title word, e.g. zarate2006randomized.
# Hyphens and apostrophes inside a word are dropped ("Long-term" -> longterm).

_LATEX_LETTERS = {r"\i": "i", r"\j": "j", r"\o": "o", r"\O": "O", r"\l": "l", r"\L": "L",
                  r"\ss": "ss", r"\ae": "ae", r"\AE": "AE", r"\oe": "oe", r"\OE": "OE", r"\aa": "a", r"\AA": "A"}
_STOP_WORDS = {"a", "an", "the"}


def plain_ascii(text: str) -> str:
    """LaTeX-accented, Unicode text -> lowercase ASCII letters, digits and spaces."""
    for command, letter in _LATEX_LETTERS.items():
        text = re.sub(re.escape(command) + r"(?![A-Za-z])", letter, text)
    text = re.sub(r"\\[\"'^`~=.]", "", text)        # \"o  \'e
    text = re.sub(r"\\[a-zA-Z]+\s*", "", text)       # \c c, \v s, \textit
    text = unicodedata.normalize("NFKD", text.replace("{", "").replace("}", ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"(?<=\w)['’-](?=\w)", "", text)  # "long-term" -> "longterm", "o'brien" -> "obrien"
    return re.sub(r"[^a-z0-9 ]+", " ", text)


def _is_corporate(author: str) -> bool:
    first = split_authors(author)[0] if author else ""
    return first.startswith("{") and first.endswith("}")


def split_authors(author: str) -> list[str]:
    """Split a BibTeX author list on ' and ' at brace depth 0."""
    names, depth, start, i = [], 0, 0, 0
    while i < len(author):
        ch = author[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0 and author[i:i + 5].lower() == " and ":
            names.append(author[start:i].strip())
            start = i + 5
            i += 4
        i += 1
    names.append(author[start:].strip())
    return [n for n in names if n]


def expected_key(entry: Entry) -> str:
    """The key the convention gives this entry (without any -b/-c suffix)."""
    author = entry.get("author") or entry.get("editor")
    if _is_corporate(author) or not author:
        name = plain_ascii(entry.get("shortauthor")).replace(" ", "")
    else:
        first = split_authors(author)[0]
        family = first.split(",")[0] if "," in first else first.split()[-1]
        name = plain_ascii(family).replace(" ", "")
    words = [w for w in plain_ascii(entry.get("title")).split() if w not in _STOP_WORDS and w != name]
    return f"{name}{entry.get('year')}{words[0] if words else ''}"


def key_convention_error(entry: Entry) -> str | None:
    expected = expected_key(entry)
    if re.fullmatch(re.escape(expected) + r"(-[b-z])?", entry.key):
        return None
    return f"key '{entry.key}' should be '{expected}' (first author + year + first title word; -b, -c for clashes)"
