"""Single-source facts: ``{{fact:NAME}}`` in pages and in data-file text.

Why: a fact used on several pages (an approval, a label's indication, a legal
status, a trial result) must not be typed more than once, or the copies drift
apart: issue 13 found the same indication worded three ways on five pages. Each
such fact lives once in ``data/facts.yml`` with its citation keys and the date it
was last checked against its sources, and pages insert it by name. The build
replaces the token with the fact's text followed by its citation ``[@key; ...]``;
an unknown name, or a malformed facts file, fails with ``file:line``.

Expansion runs after generated blocks (so a token inside a data file's text,
rendered into the page by ``sitekit.generate``, is expanded too) and before
citations are numbered. Code spans, code blocks and HTML comments are left
verbatim, so documentation about the syntax shows the token itself.

``data/facts.yml`` is a mapping of fact names to fields::

    esketamine_us_indication:
      text: In the United States, esketamine nasal spray is approved for ...
      cite: [janssen2025spravato]
      checked: 2026-12-06

The text is plain prose without a final full stop (the page supplies the
punctuation, so the citation sits before the full stop as the site's style
requires), without markup and without citations of its own. When a token is
directly followed by a citation, as it is in a generated table cell, the two are
merged into one citation so a key is never cited twice in a row; a full stop
between them (``{{fact:NAME}}. [@key]``, the shape of generated timeline text)
moves after the merged citation.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from sitekit import mdscan
from sitekit.datafiles import YAML_LOADER
from sitekit.errors import SiteError, line_of, raise_all

TOKEN = re.compile(r"\{\{\s*fact\s*:(?P<name>[^{}\n]*)\}\}")
NAME = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")
FOLLOWING_CITATION = re.compile(r"(?P<stop>\.?)[ \t]*\[(?P<inner>@[^\[\]\n]*)\]")
CITED_KEY = re.compile(r"@([A-Za-z0-9][A-Za-z0-9_:.-]*)")
FIELDS = ("text", "cite", "checked")
FORBIDDEN_IN_TEXT = (("[@", "a citation (put its key in 'cite')"), ("{{", "a token"),
                     ("<", "markup"), (">", "markup"), ("&", "an HTML entity"), ("\n", "a line break"))


@dataclass(frozen=True)
class Fact:
    name: str
    text: str
    cite: tuple[str, ...]
    checked: dt.date
    line: int  # where the fact starts in data/facts.yml

    def rendered(self, extra_citation: str = "") -> str:
        """The text followed by one citation: the fact's keys, then any keys of ``extra_citation``."""
        present = set(CITED_KEY.findall(extra_citation))
        parts = [f"@{k}" for k in self.cite if k not in present]
        if extra_citation:
            parts.append(extra_citation)
        return f"{self.text} [{'; '.join(parts)}]"


def load(path: Path, display: str = "data/facts.yml", bib_keys: frozenset | None = None) -> dict[str, Fact]:
    """The facts in ``path``; no file means no facts (a page that uses one then fails by name)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return parse(text, display, bib_keys)


def parse(text: str, display: str = "data/facts.yml", bib_keys: frozenset | None = None) -> dict[str, Fact]:
    """Parse and check a facts file; every problem is reported with its line, all together.

    ``bib_keys`` is the set of keys in references.bib; ``None`` skips that check
    (the citation hook reports an unreadable bibliography on its own).
    """
    try:
        root = yaml.compose(text, Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SiteError(display, mark.line + 1 if mark else None, f"not valid YAML: {exc}") from exc
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise SiteError(display, root.start_mark.line + 1, "expected a mapping of fact names to {text, cite, checked}")
    constructor = yaml.SafeLoader("")
    facts: dict[str, Fact] = {}
    errors: list[SiteError] = []

    def error(node, message: str) -> None:
        errors.append(SiteError(display, node.start_mark.line + 1, message))

    for key_node, value_node in root.value:
        name = constructor.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(name, str) or not NAME.match(name):
            error(key_node, f"fact name {name!r} must be lower-case letters and digits joined by '_' or '-'")
            continue
        if name in facts:
            error(key_node, f"fact '{name}' is defined twice (first at line {facts[name].line})")
            continue
        if not isinstance(value_node, yaml.MappingNode):
            error(value_node, f"fact '{name}' must be a mapping with {', '.join(FIELDS)}")
            continue
        fields = {}
        for field_key, field_value in value_node.value:
            field = constructor.construct_object(field_key, deep=True)
            if field not in FIELDS:
                error(field_key, f"fact '{name}': unknown field {field!r}; allowed: {', '.join(FIELDS)}")
            else:
                fields[field] = (field_value, constructor.construct_object(field_value, deep=True))
        before = len(errors)
        # a missing field is reported at the fact's name
        fact_text = _text(name, fields, key_node, error)
        cite = _cite(name, fields, key_node, error, bib_keys)
        checked = _checked(name, fields, key_node, error)
        if len(errors) == before:
            facts[name] = Fact(name, fact_text, cite, checked, line)
    raise_all(errors)
    return facts


def _text(name, fields, node, error) -> str:
    if "text" not in fields:
        error(node, f"fact '{name}': missing 'text'")
        return ""
    where, value = fields["text"]
    if not isinstance(value, str) or not value.strip():
        error(where, f"fact '{name}': 'text' must be non-empty text")
        return ""
    value = " ".join(value.split())
    for bad, what in FORBIDDEN_IN_TEXT:
        if bad in value:
            error(where, f"fact '{name}': 'text' must not contain {what} ({bad!r})")
    if value.endswith("."):
        error(where, f"fact '{name}': 'text' must not end with a full stop; the page adds it after the citation")
    return value


def _cite(name, fields, node, error, bib_keys) -> tuple[str, ...]:
    if "cite" not in fields:
        error(node, f"fact '{name}': missing 'cite' (the references.bib keys it rests on)")
        return ()
    where, value = fields["cite"]
    if not isinstance(value, list) or not value or not all(isinstance(k, str) and k for k in value):
        error(where, f"fact '{name}': 'cite' must be a non-empty list of references.bib keys")
        return ()
    if bib_keys is not None:
        unknown = [k for k in value if k not in bib_keys]
        if unknown:
            error(where, f"fact '{name}': unknown citation key(s) {', '.join(unknown)} (not in references.bib)")
    return tuple(value)


def _checked(name, fields, node, error) -> dt.date:
    if "checked" not in fields:
        error(node, f"fact '{name}': missing 'checked' (the ISO date it was last checked against its sources)")
        return dt.date.min
    where, value = fields["checked"]
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        error(where, f"fact '{name}': 'checked' must be an ISO date such as 2026-12-06, not {value!r}")
        return dt.date.min


def _unknown(name: str, facts: dict[str, Fact]) -> str:
    close = difflib.get_close_matches(name, list(facts), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown fact '{name}' (facts live in data/facts.yml){hint}"


def expand(markdown: str, facts: dict[str, Fact], page_path: str, line_offset: int = 0) -> str:
    """Replace every ``{{fact:NAME}}`` outside code and comments with the fact and its citation."""
    if "{{" not in markdown:
        return markdown
    protected = mdscan.protected(markdown)
    out, last, errors = [], 0, []
    for m in TOKEN.finditer(markdown):
        if m.start() in protected:
            continue
        name = m.group("name").strip()
        fact = facts.get(name)
        if fact is None:
            errors.append(SiteError(page_path, line_of(markdown, m.start()) + line_offset, _unknown(name, facts)))
            continue
        end, extra, stop = m.end(), "", ""
        following = FOLLOWING_CITATION.match(markdown, end)
        if following and following.start() not in protected:
            end, extra, stop = following.end(), following.group("inner").strip(), following.group("stop")
        out += [markdown[last:m.start()], fact.rendered(extra), stop]
        last = end
    raise_all(errors)
    out.append(markdown[last:])
    return "".join(out)


def names_used(markdown: str) -> list[tuple[str, int]]:
    """``(name, line)`` of every token outside code and comments, in order."""
    protected = mdscan.protected(markdown)
    return [(m.group("name").strip(), line_of(markdown, m.start()))
            for m in TOKEN.finditer(markdown) if m.start() not in protected]


def check_data_files(data_dir: Path, facts: dict[str, Fact], display_dir: str = "data") -> None:
    """An unknown fact name in a data file's text fails at that file's line, not at the page's marker."""
    errors = []
    for path in sorted(data_dir.glob("*.yml")):
        if path.name == "facts.yml":
            continue
        text = path.read_text(encoding="utf-8")
        for m in TOKEN.finditer(text):
            name = m.group("name").strip()
            if name not in facts:
                errors.append(SiteError(f"{display_dir}/{path.name}", line_of(text, m.start()), _unknown(name, facts)))
    raise_all(errors)
