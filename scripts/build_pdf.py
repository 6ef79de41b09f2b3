#!/usr/bin/env python3
"""The printable edition as a PDF: ``site/print/index.html`` -> ``site/ketamine-explained.pdf``.

Why a separate step: the edition itself is built by every ``mkdocs build`` (the
print_edition hook); turning it into a PDF takes WeasyPrint about a minute, which
``make serve`` should not pay on every edit. ``make pdf`` runs the build and then
this script; CI builds the PDF in the test suite (tests/test_print_edition.py) and
the deploy workflow publishes it with the site. Written to its published place
(``<site-dir>/ketamine-explained.pdf``), the PDF is then linked, with its measured size, from
the footer of every page (``sitekit.offline``).

Offline by construction: WeasyPrint may read only files inside the built site;
any other URL (a stylesheet or image on the internet) fails the build by name.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PDF_NAME = "ketamine-explained.pdf"


class OfflineError(Exception):
    """The edition needs a resource that is outside the built site, or missing."""


def build_pdf(site_dir: Path, output: Path | None = None) -> Path:
    """Render the built edition to PDF; returns the PDF's path."""
    import weasyprint  # imported here: importing it loads Pango, which `--help` does not need

    site_dir = site_dir.resolve()
    source = site_dir / "print" / "index.html"
    if not source.exists():
        raise FileNotFoundError(f"{source} not found: build the site first (make build)")
    output = output or site_dir / PDF_NAME
    base = site_dir.as_uri()

    class LocalFetcher(weasyprint.urls.URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith(base + "/"):
                raise OfflineError(f"the printable edition refers to {url}, outside the built site; "
                                   "the PDF is built offline from local files only")
            return super().fetch(url, headers)

    try:
        document = weasyprint.HTML(filename=str(source), url_fetcher=LocalFetcher(fail_on_errors=True)).render()
    except weasyprint.urls.FatalURLFetchingError as exc:  # a BaseException: stops rendering at once
        raise OfflineError(str(exc.__cause__ or exc)) from exc
    document.metadata.title = document.metadata.title or "Ketamine Explained"
    document.write_pdf(str(output))
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site-dir", type=Path, default=ROOT / "site", help="the built site (default: site/)")
    parser.add_argument("--output", type=Path, help=f"the PDF to write (default: <site-dir>/{PDF_NAME})")
    args = parser.parse_args(argv)
    try:
        path = build_pdf(args.site_dir, args.output)
    except (FileNotFoundError, OfflineError) as exc:
        print(f"build_pdf: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
    if path.resolve() == (args.site_dir / PDF_NAME).resolve():  # the published PDF: every page's footer links it
        sys.path.insert(0, str(ROOT / "overrides" / "hooks"))
        from sitekit.offline import stamp_site

        print(f"linked the PDF, with its size, from {stamp_site(args.site_dir, path)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
