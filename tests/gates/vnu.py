"""HTML validity gate: the W3C Nu HTML Checker (vnu.jar, npm ``vnu-jar``) on every page of a built site.

One Java run checks all pages (``--format json --errors-only``). Errors come
back as ``page.html:line:col: message``. The only error not reported is a
documented theme false positive (``THEME_FALSE_POSITIVES``), matched on the
exact message and the exact element it is reported on, never by message alone.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from gates import NODE_MODULES, GateSetupError, require

VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"


@dataclass(frozen=True)
class KnownFalsePositive:
    """An error vnu reports on markup we do not own and keep on purpose. Both patterns must match in full."""

    reason: str
    message: re.Pattern  # the whole vnu message
    element: re.Pattern  # the whole highlighted markup (the element's start tag)

    def matches(self, message: str, element: str) -> bool:
        return bool(self.message.fullmatch(message) and self.element.fullmatch(element))


THEME_FALSE_POSITIVES = (
    KnownFalsePositive(
        reason=(
            "Material's two state checkboxes (navigation drawer, search) carry autocomplete=\"off\" on purpose: "
            "Firefox otherwise restores their checked state on reload or back (Mozilla bug 654072), reopening "
            "the drawer or search. HTML only allows autocomplete on text-like inputs, so vnu reports it; the "
            "theme keeps it (squidfunk/mkdocs-material#1513). Harmless in every browser."
        ),
        message=re.compile(r"Attribute “autocomplete” is only allowed when the input type is “color”, “date”, "
                           r"“datetime-local”, “email”, “hidden”, “month”, “number”, “password”, “range”, "
                           r"“search”, “tel”, “text”, “time”, “url”, or “week”\."),
        element=re.compile(r'<input class="md-toggle" data-md-toggle="(drawer|search)" type="checkbox" '
                           r'id="__\1" autocomplete="off">'),
    ),
)


@dataclass
class Report:
    files: int
    errors: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # known false positives, for the record


def java() -> str:
    path = shutil.which("java")
    if not path:
        raise GateSetupError("java not found: scripts/system-deps.sh installs Debian's openjdk-17-jre-headless "
                             "(run `make test` or scripts/system-deps.sh)")
    return path


def run_vnu(files: list[Path]) -> list[dict]:
    """vnu's JSON messages (errors only) for ``files``, from one Java process."""
    jar = require(VNU_JAR, "vnu.jar (npm package vnu-jar)")
    proc = subprocess.run(
        [java(), "-jar", str(jar), "--format", "json", "--errors-only", "--stdout", *map(str, files)],
        capture_output=True, text=True, timeout=900,
    )
    try:
        return json.loads(proc.stdout)["messages"]
    except (ValueError, KeyError) as exc:
        raise RuntimeError(f"vnu gave no JSON report (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}") from exc


def _highlighted(message: dict) -> str:
    extract = message.get("extract", "")
    start, length = message.get("hiliteStart"), message.get("hiliteLength")
    return extract[start:start + length] if start is not None and length else ""


def _where(message: dict, site_dir: Path) -> str:
    path = Path(unquote(urlsplit(message.get("url", "")).path))
    try:
        name = path.relative_to(site_dir).as_posix()
    except ValueError:
        name = str(path)
    line = message.get("firstLine") or message.get("lastLine") or 0
    column = message.get("firstColumn") or message.get("lastColumn") or 0
    return f"{name}:{line}:{column}"


def check_site(site_dir: Path, false_positives=THEME_FALSE_POSITIVES) -> Report:
    """Validate every ``*.html`` under ``site_dir``; errors as ``page.html:line:col: message``."""
    site_dir = Path(site_dir).resolve()
    files = sorted(site_dir.rglob("*.html"))
    if not files:
        raise RuntimeError(f"no HTML pages under {site_dir}")
    report = Report(files=len(files))
    for message in run_vnu(files):
        if message.get("type") not in ("error", "non-document-error"):
            continue  # --errors-only already drops warnings and info
        text = f"{_where(message, site_dir)}: {message.get('message', '').strip()}"
        if any(fp.matches(message.get("message", ""), _highlighted(message)) for fp in false_positives):
            report.ignored.append(text)
        else:
            report.errors.append(text)
    return report
