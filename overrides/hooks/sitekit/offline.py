"""Point every page's "Print / Download PDF" link at the PDF, with the PDF's real size.

Why a step after the PDF: the footer of every page (overrides/partials/offline-edition.html)
offers the offline edition. The PDF is rendered from the built site (``make pdf``,
scripts/build_pdf.py, about a minute of WeasyPrint), so its size cannot be known while the
pages are built; typing it would be wrong after the next edit. So the build links the
printable HTML edition (print/, always there), and once the PDF is written this step
rewrites that one link in every built page: its address becomes the PDF's and the size,
measured from the file, is written beside it. Nothing else in a page changes, and the same
PDF always gives the same pages. The deploy workflow runs ``make pdf``, so the published
site links the PDF.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

_LINK = re.compile(r'<a class="offline-edition__link" href="[^"]*" data-pdf="(?P<pdf>[^"]*)">')
_SIZE = '<span class="offline-edition__size"></span>'


def human_size(size: int) -> str:
    """Bytes as readers see them: '850 KB', '2.4 MB' (1 MB = 1,000,000 bytes, as file managers show)."""
    if size < 1_000_000:
        return f"{max(1, round(size / 1000))} KB"
    return f"{size / 1_000_000:.1f} MB"


def stamp(page: str, size: int) -> str:
    """One page's HTML with the offline-edition link pointed at the PDF and the PDF's size shown."""
    page = _LINK.sub(lambda m: f'<a class="offline-edition__link" href="{m.group("pdf")}" '
                               f'data-pdf="{m.group("pdf")}" type="application/pdf">', page)
    return page.replace(_SIZE, f'<span class="offline-edition__size">; PDF, {html.escape(human_size(size))}</span>')


def stamp_site(site_dir: Path, pdf: Path) -> int:
    """Stamp every built page that has the link; returns how many pages changed."""
    size = pdf.stat().st_size
    changed = 0
    for path in sorted(site_dir.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        if 'class="offline-edition__link"' not in text:
            continue
        new = stamp(text, size)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    return changed
