#!/usr/bin/env python3
"""Reading grade of every page's key points: writes reports/readability.md and prints it.

The grade is Flesch-Kincaid (textstat) of a page's key points read together;
the limit is 9 (``sitekit.readability.MAX_GRADE``). Exits 1 if any page is
over the limit, naming the page, its grade and its hardest key point, so the
same command works as a check. tests/test_readability.py enforces the limit.

Usage:
    make readability
    .venv/bin/python scripts/readability_report.py [--docs DIR] [--output FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "overrides" / "hooks"))

from sitekit import readability  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=ROOT / "docs", help="pages to check (default: docs/)")
    parser.add_argument("--output", type=Path, default=ROOT / "reports" / "readability.md",
                        help="where to write the report (default: reports/readability.md)")
    args = parser.parse_args(argv)

    docs = args.docs.resolve()
    grades = readability.site_grades(docs, root=docs.parent)
    text = readability.report(grades)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    over = [g for g in grades if g.too_hard]
    for g in over:
        print(g.problem(), file=sys.stderr)
    if not grades:
        print(f"no pages with key points under {docs}", file=sys.stderr)
        return 2
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
