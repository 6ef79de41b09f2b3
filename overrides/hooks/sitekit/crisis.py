"""Urgent-help numbers by country, kept in ``data/crisis_lines.yml``.

Why: every page tells readers where to get urgent help, and a wrong phone
number is the most harmful error this site could print. Each number therefore
lives once, in a data file, with the official page it was checked against and
the date of that check; the build rejects an entry without them, naming
``data/crisis_lines.yml:LINE``. The ``crisis-lines`` generator (registry line in
``sitekit.generate``, template ``overrides/generated/crisis-lines.html``) renders
the file as the table on the "Getting urgent help" page.

The checker is a small, self-contained YAML reader: every problem names its
line, and all problems are reported together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from sitekit.errors import SiteError, raise_all

DATA_FILE = "data/crisis_lines.yml"
KINDS = {
    "emergency": "Emergency services",
    "crisis": "Crisis and suicide-prevention line",
    "drugs": "Drug and alcohol help",
    "directory": "Directory of helplines",
}
REQUIRED = ("country", "service", "kind", "contact", "source", "checked")
OPTIONAL = ("hours",)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL = re.compile(r"^https://[^\s<>\"']+$")


@dataclass
class Line:
    country: str
    service: str
    kind: str
    contact: str
    hours: str
    sources: list[str]
    checked: str


def _text(node: yaml.Node) -> str | None:
    return node.value.strip() if isinstance(node, yaml.ScalarNode) and node.value.strip() else None


def parse(text: str, display: str = DATA_FILE) -> list[Line]:
    """Validated entries; every problem is reported together as ``display:LINE: message``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SiteError(display, mark.line + 1 if mark else None, f"not valid YAML: {exc}") from exc
    if not isinstance(root, yaml.SequenceNode) or not root.value:
        raise SiteError(display, 1, "expected a list of crisis lines")
    errors, lines, seen = [], [], {}
    for item in root.value:
        at = item.start_mark.line + 1

        def err(message: str, line: int = at) -> None:
            errors.append(SiteError(display, line, message))

        if not isinstance(item, yaml.MappingNode):
            err("each entry must be a mapping (country, service, kind, contact, source, checked)")
            continue
        fields = {k.value: v for k, v in item.value}
        for key, value in item.value:
            if key.value not in REQUIRED + OPTIONAL:
                err(f"unknown field '{key.value}'; allowed: {', '.join(REQUIRED + OPTIONAL)}", key.start_mark.line + 1)
            elif key.value != "source" and _text(value) is None:
                err(f"'{key.value}' must be non-empty text", key.start_mark.line + 1)
        missing = [k for k in REQUIRED if k not in fields]
        if missing:
            err(f"missing {', '.join(repr(k) for k in missing)}: every number needs the official page it was "
                "checked against (source) and the date (checked)")
            continue
        values = {k: _text(v) or "" for k, v in fields.items() if k != "source"}
        if values["kind"] and values["kind"] not in KINDS:
            err(f"unknown kind '{values['kind']}'; use one of: {', '.join(KINDS)}", fields["kind"].start_mark.line + 1)
        if values["checked"] and not _DATE.match(values["checked"]):
            err(f"checked '{values['checked']}' must be a date, YYYY-MM-DD", fields["checked"].start_mark.line + 1)
        src = fields["source"]
        nodes = src.value if isinstance(src, yaml.SequenceNode) else [src]
        sources = [_text(n) or "" for n in nodes]
        bad = [n for n, s in zip(nodes, sources, strict=True) if not _URL.match(s)]
        if not sources or bad:
            err("source must be the https address of the official page (or a list of them)",
                (bad[0] if bad else src).start_mark.line + 1)
        key = (values["country"].lower(), values["service"].lower())
        if key in seen:
            err(f"'{values['service']}' for {values['country']} is already listed on line {seen[key]}")
        seen[key] = at
        lines.append(Line(values["country"], values["service"], values["kind"], values["contact"],
                          values.get("hours", ""), sources, values["checked"]))
    raise_all(errors)
    return lines


def load(root: Path) -> list[Line]:
    try:
        text = (root / DATA_FILE).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SiteError(DATA_FILE, None, "data file not found") from exc
    return parse(text)


def host(url: str) -> str:
    """The link text for a source: its site name, e.g. samaritans.org."""
    return re.sub(r"^https://(www\.)?", "", url).split("/")[0]


def template_values(ctx, _data=None) -> dict:
    """What overrides/generated/crisis-lines.html needs: the entries grouped by country, in file order."""
    groups: dict[str, list[Line]] = {}
    for line in load(ctx.root):
        groups.setdefault(line.country, []).append(line)
    return {"groups": list(groups.items()), "kinds": KINDS, "host": host}
